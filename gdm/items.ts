/**
 * What writes and merges do to the items of a replica. Writes are stamp-guarded: an item takes a
 * write only if the write's stamp is higher than the item's, so concurrent writes to one key end the
 * same everywhere (the higher Lamport stamp wins). A merge of another replica's items keeps, per key,
 * the version with the higher stamp: commutative, associative and idempotent, so replicas that merge
 * the same sides converge whatever the order.
 * @module
 */
import type { Failure, Item, ReadSpec, WriteSpec } from "./model.ts";
import { compareStamps, sameStamp, type Stamp } from "./stamp.ts";
import { applyPatch, compareBytes } from "./value.ts";

/** A change of one item on a replica. */
export interface ItemChange {
  readonly key: string;
  readonly old: Item | undefined;
  readonly item: Item;
}

/** Two sides wrote one key while apart; `winner` is kept everywhere. */
export interface ItemConflict {
  readonly key: string;
  readonly winner: Item;
  readonly loser: Item;
}

/**
 * Applies the writes of one operation with stamp `stamp`, all or nothing: with `reads`, only if every
 * item read still has the stamp seen; a patch that does not fit fails the whole operation. Returns the
 * changes (to install) or the failure; `items` is not modified.
 */
export function computeWrites(
  items: ReadonlyMap<string, Item>,
  stamp: Stamp,
  writes: readonly WriteSpec[],
  reads: readonly ReadSpec[] | undefined,
): { changes: ItemChange[] } | { failure: Failure } {
  for (const r of reads ?? []) {
    if (!sameStamp(items.get(r.key)?.stamp, r.stamp ?? undefined)) {
      return { failure: { kind: "conflict", detail: `"${r.key}" changed after it was read` } };
    }
  }
  // Later writes of one key in the operation see the earlier ones (a transaction's set then patch).
  const staged = new Map<string, Item>();
  for (const w of writes) {
    const current = staged.get(w.key) ?? items.get(w.key);
    let value: Uint8Array | undefined;
    if (w.patch !== undefined) {
      try {
        value = applyPatch(current?.value, w.patch);
      } catch (err) {
        return { failure: { kind: "patch", detail: (err as Error).message } };
      }
    } else value = w.value;
    if (!staged.has(w.key) && current !== undefined && compareStamps(stamp, current.stamp) <= 0) {
      continue; // a write with a higher stamp is already there
    }
    const replaced = items.get(w.key)?.stamp;
    staged.set(w.key, itemOf(value, stamp, replaced));
  }
  return { changes: [...staged].map(([key, item]) => ({ key, old: items.get(key), item })) };
}

function itemOf(value: Uint8Array | undefined, stamp: Stamp, replaced: Stamp | undefined): Item {
  if (value === undefined) return replaced === undefined ? { stamp } : { stamp, replaced };
  return replaced === undefined ? { value, stamp } : { value, stamp, replaced };
}

/**
 * Merges `incoming` versions into `items` (in place): per key the higher stamp wins (equal stamps
 * with different bytes fall back to a byte comparison). A key both sides wrote since they parted —
 * the versions differ and neither directly replaced the other — is a conflict, unless `quiet`.
 */
export function mergeItems(
  items: Map<string, Item>,
  incoming: Iterable<readonly [string, Item]>,
  quiet: boolean,
): { changes: ItemChange[]; conflicts: ItemConflict[] } {
  const changes: ItemChange[] = [];
  const conflicts: ItemConflict[] = [];
  for (const [key, inc] of incoming) {
    const cur = items.get(key);
    if (cur === undefined) {
      items.set(key, inc);
      changes.push({ key, old: undefined, item: inc });
      continue;
    }
    const c = compareStamps(inc.stamp, cur.stamp);
    const bytes = compareBytes(inc.value, cur.value);
    if (c === 0 && bytes === 0) continue;
    const related = quiet || sameStamp(inc.replaced, cur.stamp) || sameStamp(cur.replaced, inc.stamp);
    if (c > 0 || (c === 0 && bytes > 0)) {
      items.set(key, inc);
      if (!related) conflicts.push({ key, winner: inc, loser: cur });
      changes.push({ key, old: cur, item: inc });
    } else if (!related) conflicts.push({ key, winner: cur, loser: inc });
  }
  return { changes, conflicts };
}

/** The version of two that a merge keeps (see {@link mergeItems}). */
export function newerItem(a: Item | undefined, b: Item | undefined): Item | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const c = compareStamps(a.stamp, b.stamp);
  return c > 0 || (c === 0 && compareBytes(a.value, b.value) >= 0) ? a : b;
}
