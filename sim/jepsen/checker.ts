/**
 * A Jepsen-style checker of GDM histories ({@link OpHistory}: what clients invoked and saw, from a
 * simulated run or from real processes under a nemesis). What it checks depends on what the run
 * promises:
 * - always: no lost acknowledged write or add, nothing read that was never written, equal replicas at
 *   the end, and each process's reads moving forward (monotonic reads, read-your-writes, monotonic
 *   writes, writes-follow-reads) — `registers.ts`, `sets.ts`;
 * - when at most one component applied operations at a time (`oneComponent`: the quorum policy, or
 *   no partition): sequential consistency across keys (`sequential.ts`), linearizable
 *   compare-and-sets (`cas.ts`), and mutual exclusion by fencing token (`fencing.ts`).
 * `tests/jepsen/checker.test.ts` plants an anomaly of each kind and sees it reported.
 * @module
 */
import type { OpHistory } from "../gdm/op_history.ts";
import type { Anomaly } from "./anomaly.ts";
import { checkCompareAndSet } from "./cas.ts";
import { checkFencing } from "./fencing.ts";
import { checkRegisters } from "./registers.ts";
import { checkSequential } from "./sequential.ts";
import { checkSets } from "./sets.ts";

export type { Anomaly } from "./anomaly.ts";

/** Every anomaly of `h` (none: the history is consistent with what the GDM promises). */
export function checkOpHistory(h: OpHistory): Anomaly[] {
  const out: Anomaly[] = [];
  checkRegisters(h, out);
  checkSets(h, out);
  if (h.oneComponent) {
    checkSequential(h, out);
    checkCompareAndSet(h, out);
    checkFencing(h, out);
  }
  return out;
}

/** Anomalies as report lines. */
export function formatAnomalies(anomalies: readonly Anomaly[], limit = 8): string[] {
  const lines = anomalies.slice(0, limit).map((a) => `${a.kind}: ${a.detail}`);
  if (anomalies.length > limit) lines.push(`… ${anomalies.length - limit} more`);
  return lines;
}
