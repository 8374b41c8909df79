/**
 * One node ID, one process: `raincore node` prints every incarnation conflict its Transport Manager
 * reports as a `conflict` JSON line (with `nodeId`, unlike the data layer's `conflict` lines, which
 * carry a `key`), and the process that its peers refused — in practice the one started later with
 * an ID already in use — explains on stderr and exits with {@link ID_CONFLICT_EXIT_CODE}.
 * @module
 */

import type { TransportManager } from "../transport/manager.ts";
import type { IncarnationConflict } from "../transport/peer_rounds.ts";
import { emitLine } from "../runtime/json_out.ts";

/** Exit code of a node that stops because another live process has its ID. */
export const ID_CONFLICT_EXIT_CODE = 3;

/** The stderr paragraph of a refused process. */
export function refusedMessage(c: IncarnationConflict): string {
  const other = c.incarnations.find((i) => i !== c.kept) ?? c.kept;
  return `raincore node: another process already runs as node "${c.nodeId}" (incarnation ${c.kept}); ` +
    `node "${c.reportedBy}" talks to that one and refuses this one (incarnation ${other}). ` +
    `Two processes with one ID would split the group, so this one stops. Give every process its own --id ` +
    `(or stop the other one first when you restart a node).`;
}

/**
 * Prints `tm`'s conflicts as JSON lines and calls `stop` once when this process is the refused one
 * (after printing {@link refusedMessage} on stderr).
 */
export function watchIdConflicts(tm: TransportManager, stop: (code: number) => void): void {
  let stopping = false;
  tm.onConflict((c) => {
    emitLine("conflict", {
      nodeId: c.nodeId,
      incarnations: c.incarnations,
      self: c.self,
      kept: c.kept,
      refused: c.refused,
      reportedBy: c.reportedBy,
    });
    if (c.self && c.refused && !stopping) {
      stopping = true;
      console.error(refusedMessage(c));
      stop(ID_CONFLICT_EXIT_CODE);
    }
  });
}
