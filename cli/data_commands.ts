/**
 * The Group Data Manager's side of `raincore node`: the stdin commands on data items and locks, and
 * the JSON lines that report them. A `data` line reports a change of the replica; the member's own
 * writes are reported only once their promise resolved — that is, once durable as the GDM's
 * durability asks (fsync with `--data-dir`) — so a line a tool reads for its own `set` means the
 * write would survive a crash. A `written` line acknowledges each `set` and `del` (also one whose
 * value a newer write already replaced, which gets no `data` line). Every line that carries a version
 * has its Lamport `stamp`.
 * @module
 */
import type { GroupDataManager } from "../gdm/manager.ts";
import { compareStamps, type Stamp } from "../gdm/stamp.ts";
import { UsageError } from "../runtime/args.ts";
import { emitLine } from "../runtime/json_out.ts";

/** The data commands, for the usage text. */
export const DATA_COMMANDS_USAGE =
  `set KEY VALUE | del KEY | get KEY | list PREFIX | cas KEY EXPECTED NEW | lock NAME | unlock NAME`;

/** A change waiting for the member's own write that made it to resolve. */
interface Held {
  key: string;
  stamp: Stamp;
  line: Record<string, unknown>;
}

/** Prints a GDM's events as JSON lines; returns the runner of the data commands. */
export function attachData(gdm: GroupDataManager): (word: string, rest: string[]) => boolean {
  const me = gdm.id;
  /** Own changes not reported yet, in the order they were applied. */
  const held: Held[] = [];
  /** Per key, the stamp of the last change reported (so a late own line never goes backwards). */
  const shown = new Map<string, Stamp>();
  /** Own writes not resolved yet (while there are none, nothing needs holding). */
  let pending = 0;
  const show = (key: string, stamp: Stamp, line: Record<string, unknown>) => {
    const last = shown.get(key);
    if (last !== undefined && compareStamps(stamp, last) <= 0) return;
    shown.set(key, stamp);
    emitLine("data", line);
  };
  gdm.on("change", (c) => {
    const line = {
      key: c.key,
      value: jsonValue(c.new),
      writer: c.writer,
      deleted: c.deleted,
      stamp: c.stamp,
    };
    if (c.writer === me && !c.transfer && pending > 0) held.push({ key: c.key, stamp: c.stamp, line });
    else show(c.key, c.stamp, line);
  });
  /** An own write is settled (durable up to `stamp`): report the changes that may go, in order. */
  const durable = (stamp?: Stamp) => {
    pending--;
    while (
      held.length > 0 && (pending === 0 || (stamp !== undefined && compareStamps(held[0].stamp, stamp) <= 0))
    ) {
      const h = held.shift()!;
      show(h.key, h.stamp, h.line);
    }
  };
  /** An own write failed to become durable: its change is not reported (an error line is). */
  const failed = (error: unknown) => {
    const stamp = (error as { stamp?: Stamp }).stamp;
    if (stamp !== undefined) {
      const i = held.findIndex((h) => compareStamps(h.stamp, stamp) === 0);
      if (i >= 0) held.splice(i, 1);
    }
    durable();
    reportError(error);
  };
  gdm.on("lock", (l) => emitLine("lock", { name: l.name, owner: l.owner, token: l.token }));
  gdm.on(
    "conflict",
    (c) => emitLine("conflict", { key: c.key, winner: jsonValue(c.winner), loser: jsonValue(c.loser) }),
  );
  gdm.on("synced", (e) => emitLine("synced", { items: e.items }));
  gdm.on(
    "transfer",
    (t) =>
      emitLine("transfer", {
        from: t.from,
        items: t.items,
        totalItems: t.totalItems,
        bytes: t.bytes,
        totalBytes: t.totalBytes,
        done: t.done,
      }),
  );
  gdm.on(
    "error",
    (e) =>
      emitLine("error", {
        message: String((e.error as Error)?.message ?? e.error),
        name: (e.error as Error)?.name,
        event: e.event,
      }),
  );
  // Items loaded from --data-dir are data this node holds: show them like any other change.
  for (const key of gdm.keys()) {
    const it = gdm.item(key)!;
    show(key, it.stamp, {
      key,
      value: jsonValue(gdm.get(key)),
      writer: it.stamp[1],
      deleted: false,
      stamp: it.stamp,
      loaded: true,
    });
  }

  return (word, rest) => {
    switch (word) {
      case "set": {
        const [key, ...v] = rest;
        if (!key) throw new UsageError("set KEY VALUE");
        pending++;
        const value = parseValue(v.join(" "));
        gdm.set(key, value).then((stamp) => {
          durable(stamp);
          emitLine("written", { key, value: jsonValue(value), stamp });
        }, failed);
        return true;
      }
      case "del": {
        const key = rest[0] ?? "";
        pending++;
        gdm.delete(key).then((stamp) => {
          durable(stamp);
          emitLine("written", { key, value: null, deleted: true, stamp });
        }, failed);
        return true;
      }
      case "get": {
        const key = rest[0] ?? "";
        emitLine("value", { key, value: jsonValue(gdm.get(key)), stamp: gdm.item(key)?.stamp ?? null });
        return true;
      }
      case "list":
        emitLine("list", { prefix: rest[0] ?? "", keys: gdm.keys(rest[0] ?? "") });
        return true;
      case "cas": {
        // Compare-and-set: write NEW if KEY holds EXPECTED (JSON; null: absent) at the commit point.
        const [key, expected, ...v] = rest;
        if (!key || expected === undefined || v.length === 0) throw new UsageError("cas KEY EXPECTED NEW");
        const value = parseValue(v.join(" "));
        const read = gdm.item(key)?.stamp ?? null; // the version the transaction reads (same turn)
        pending++;
        gdm.transaction((tx) => {
          if (JSON.stringify(jsonValue(tx.get(key))) !== JSON.stringify(parseValue(expected))) {
            tx.abort("mismatch");
          }
          tx.set(key, value);
        }, { compare: true }).then(
          () => {
            // Its stamp is the item's, unless a newer write already replaced it (then nothing is due).
            const stamp = gdm.item(key)?.stamp;
            const mine = stamp !== undefined &&
              JSON.stringify(jsonValue(gdm.get(key))) === JSON.stringify(value);
            durable(mine ? stamp : undefined);
            emitLine("cas", { key, ok: true, value, read, stamp: mine ? stamp : null });
          },
          (error: Error) => {
            const reason = (error as { reason?: string }).reason;
            if (reason === "conflict" || reason === "aborted") {
              durable();
              emitLine("cas", { key, ok: false, value, read, reason });
            } else failed(error);
          },
        );
        return true;
      }
      case "lock": {
        const name = rest[0] ?? "";
        gdm.lock(name).then((token) => emitLine("locked", { name, token }), reportError);
        return true;
      }
      case "unlock": {
        const name = rest[0] ?? "";
        gdm.unlock(name).then(() => emitLine("unlocked", { name }), reportError);
        return true;
      }
      default:
        return false;
    }
  };
}

function reportError(error: unknown): void {
  emitLine("error", { message: (error as Error).message, name: (error as Error).name });
}

/** A stdin VALUE: JSON when it parses, else the text itself. */
export function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A value as JSON can carry it: bytes become `{"$bytes": base64}`, absent becomes null. */
export function jsonValue(v: unknown): unknown {
  if (v instanceof Uint8Array) {
    let bin = "";
    for (const b of v) bin += String.fromCharCode(b);
    return { $bytes: btoa(bin) };
  }
  return v === undefined ? null : v;
}
