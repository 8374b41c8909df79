/**
 * The replicated state machine of the GDM: items with Lamport stamps, and a pure, deterministic
 * {@link applyOp} that every replica runs on the same operations in the same (GCM total) order.
 * It does no I/O and reads no clock; it returns what happened as {@link Effect}s.
 *
 * Writes are stamp-guarded (an item takes a write only if the write's stamp is higher than the
 * item's), which makes re-applying an operation harmless and makes the merge of two replicas
 * ({@link reconcileItems}) order-free: the highest stamp wins, the node ID breaks ties.
 * @module
 */
import type { Op, ReadSpec, WriteSpec } from "./ops.ts";
import { compareStamps, sameStamp, type Stamp } from "./stamp.ts";
import { applyPatch, compareBytes } from "./value.ts";
import { applyLockOp, evictLocks, isLockKey } from "./locks.ts";

/** One replicated item. Immutable: a write replaces the object. */
export interface Item {
  /** Encoded value; absent for a deleted item (a tombstone, kept so a merge cannot resurrect it). */
  readonly v?: Uint8Array;
  /** Stamp of the write that produced this version. */
  readonly s: Stamp;
  /** Node ID of that writer. */
  readonly w: string;
  /** Stamp of the version this one replaced (detects one-sided updates in a merge). */
  readonly b?: Stamp;
}

/** The replicated state: items by key and the highest Lamport counter applied. */
export interface DataState {
  /** Items by key (tombstones included). */
  items: Map<string, Item>;
  /** Highest Lamport counter seen in applied operations. */
  clock: number;
}

/** What applying an operation did. */
export type Effect =
  | { readonly type: "change"; readonly key: string; readonly old: Item | undefined; readonly item: Item }
  | { readonly type: "conflict"; readonly key: string; readonly winner: Item; readonly loser: Item }
  | {
    readonly type: "done";
    readonly id: string;
    readonly error?: "conflict" | "notOwner" | "patch";
    readonly detail?: string;
    /** Stamp of the applied write. */
    readonly s?: Stamp;
  };

/** A fresh, empty state. */
export function emptyState(): DataState {
  return { items: new Map(), clock: 0 };
}

/** True when an item with stamp `s` replaces `old`. */
function wins(s: Stamp, old: Item | undefined): boolean {
  return old === undefined || compareStamps(s, old.s) > 0;
}

/**
 * Applies one operation to `state` (in place) and returns its effects. Deterministic: the same
 * state and operation give the same result on every node. Control operations (`hello`, `req`) have
 * no effect on the data and return `[]`.
 */
export function applyOp(state: DataState, op: Op): Effect[] {
  const out: Effect[] = [];
  if ("s" in op && op.s[0] > state.clock) state.clock = op.s[0];
  switch (op.t) {
    case "w":
      applyWrites(state, op.id, op.s, op.w, op.r, out);
      break;
    case "lock":
    case "unlock":
    case "cancel":
      applyLockOp(state, op, out);
      break;
    case "evict":
      evictLocks(state, op.m, op.vi, out);
      break;
    case "rc":
      reconcileItems(state, op.items, out, op.q === true);
      break;
  }
  return out;
}

function applyWrites(
  state: DataState,
  id: string,
  s: Stamp,
  writes: readonly WriteSpec[],
  reads: readonly ReadSpec[] | undefined,
  out: Effect[],
): void {
  if (reads !== undefined) {
    for (const [k, seen] of reads) {
      const cur = state.items.get(k);
      if (!sameStamp(cur?.s, seen ?? undefined)) {
        out.push({ type: "done", id, error: "conflict", detail: `"${k}" changed after it was read` });
        return;
      }
    }
  }
  // All or nothing: compute every new version first (a patch may fail), then install.
  const next: Array<[string, Item | undefined, Item]> = [];
  const staged = new Map<string, Item | undefined>();
  const writer = s[1];
  for (const w of writes) {
    const old = staged.has(w.k) ? staged.get(w.k) : state.items.get(w.k);
    if (isLockKey(w.k)) continue;
    let v: Uint8Array | undefined;
    if (w.p !== undefined) {
      try {
        v = applyPatch(old?.v, w.p);
      } catch (err) {
        out.push({ type: "done", id, error: "patch", detail: (err as Error).message });
        return;
      }
    } else v = w.v;
    if (!staged.has(w.k) && !wins(s, old)) continue; // a newer write is already there
    const item: Item = v === undefined ? { s, w: writer, b: old?.s } : { v, s, w: writer, b: old?.s };
    staged.set(w.k, item);
    next.push([w.k, state.items.get(w.k), item]);
  }
  const seen = new Set<string>();
  for (let i = next.length - 1; i >= 0; i--) {
    const [k, old, item] = next[i];
    if (seen.has(k)) continue;
    seen.add(k);
    state.items.set(k, item);
    out.push({ type: "change", key: k, old, item });
  }
  out.push({ type: "done", id, s });
}

/**
 * Merges another replica's items into `state`: per key the higher stamp wins (node ID breaks ties
 * inside the stamp; equal stamps with different bytes fall back to a byte comparison). Reports a
 * `conflict` for every key both sides wrote since they parted — approximated as "both versions
 * differ and neither directly replaced the other" — and a `change` where the incoming version wins.
 * Lock items are only adopted where the key is absent. `quiet` (a stale copy that brings no writes
 * made since its holder parted, see the `rc` operation's `q`) reports no conflicts.
 * Idempotent, commutative and associative, so replicas that merge the same sides converge.
 */
export function reconcileItems(
  state: DataState,
  items: Iterable<readonly [string, Item]>,
  out: Effect[] = [],
  quiet = false,
): Effect[] {
  for (const [k, inc] of items) {
    // Locks are not merged: a lock known on both sides keeps the state of the side every other side
    // fetched from; a lock only one side knew carries over (its owner, if gone, is evicted by the
    // next view change — see locks.ts).
    if (isLockKey(k) && state.items.has(k)) continue;
    if (inc.s[0] > state.clock) state.clock = inc.s[0];
    const cur = state.items.get(k);
    if (cur === undefined) {
      state.items.set(k, inc);
      out.push({ type: "change", key: k, old: undefined, item: inc });
      continue;
    }
    const c = compareStamps(inc.s, cur.s);
    const incomingWins = c > 0 || (c === 0 && compareBytes(inc.v, cur.v) > 0);
    const identical = c === 0 && compareBytes(inc.v, cur.v) === 0;
    if (identical) continue;
    const related = quiet || sameStamp(inc.b, cur.s) || sameStamp(cur.b, inc.s);
    if (incomingWins) {
      state.items.set(k, inc);
      if (!related) out.push({ type: "conflict", key: k, winner: inc, loser: cur });
      out.push({ type: "change", key: k, old: cur, item: inc });
    } else if (!related) {
      out.push({ type: "conflict", key: k, winner: cur, loser: inc });
    }
  }
  return out;
}

/** A copy of the state that later writes do not affect (items are immutable, so this is shallow). */
export function cloneState(state: DataState): DataState {
  return { items: new Map(state.items), clock: state.clock };
}

function fnv(s: string, h: number): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * An order-independent digest of the versions a replica holds (key, stamp and value length of
 * every item, tombstones and locks included): two replicas with the same digest hold the same
 * versions. Used to find a replica that diverged, e.g. one that missed a message.
 */
export function digestState(state: DataState): string {
  let sum = 0;
  let xor = 0;
  for (const [k, it] of state.items) {
    const h = fnv(`${it.s[0]}|${it.s[1]}|${it.v?.length ?? -1}`, fnv(k, 0x811c9dc5));
    sum = (sum + h) >>> 0;
    xor = (xor ^ Math.imul(h, 0x9e3779b1)) >>> 0;
  }
  return `${state.items.size}:${sum.toString(16)}:${xor.toString(16)}`;
}
