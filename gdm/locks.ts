/**
 * Distributed locks as data items (3.10): the state of lock `name` is the item `\u0001lock\u0001name`
 * holding its owner and a FIFO queue of waiting requests. Requests, releases and withdrawals are
 * operations in the GCM total order, so every replica grants the same lock to the same requester
 * at the same point; a view change frees the locks of members that are gone (an `evict` operation
 * at one point of the order).
 * @module
 */
import type { Op } from "./ops.ts";
import { compareStamps, type Stamp } from "./stamp.ts";
import type { DataState, Effect, Item } from "./state.ts";
import { decodeValue, encodeValue } from "./value.ts";

const PREFIX = "\u0001lock\u0001";

/** The item key of lock `name`. */
export function lockKey(name: string): string {
  return PREFIX + name;
}

/** True for the keys of lock items (hidden from `list` and `get`). */
export function isLockKey(key: string): boolean {
  return key.startsWith(PREFIX);
}

/** Name of the lock stored under `key`. */
export function lockNameOf(key: string): string {
  return key.slice(PREFIX.length);
}

/** A waiting request: owner (`id#inc`), request ID, view index when requested. */
export type Waiter = readonly [owner: string, req: string, vi: number];

/** State of one lock. */
export interface LockState {
  /** Owner (`id#inc`) or null when free. */
  readonly o: string | null;
  /** Request ID of the current grant. */
  readonly r: string | null;
  /** View index of the owner's request (a view change frees only grants from its view or before). */
  readonly g: number;
  /** FIFO of waiting requests. */
  readonly q: readonly Waiter[];
  /**
   * Recent request IDs that are finished (released, withdrawn, evicted): a request multicast again
   * after a view change, arriving late, must not be granted a second time.
   */
  readonly h?: readonly string[];
}

const HISTORY = 64;

function finished(lock: LockState, ...ids: Array<string | null>): LockState {
  const add = ids.filter((x): x is string => x !== null && !(lock.h ?? []).includes(x));
  return add.length === 0 ? lock : { ...lock, h: [...(lock.h ?? []), ...add].slice(-HISTORY) };
}

const FREE: LockState = { o: null, r: null, g: 0, q: [] };

/** Reads the lock state of `name` from `state`. */
export function readLock(state: DataState, name: string): LockState {
  const it = state.items.get(lockKey(name));
  return it?.v === undefined ? FREE : decodeValue(it.v) as LockState;
}

function writeLock(state: DataState, name: string, lock: LockState, s: Stamp, out: Effect[]): void {
  const key = lockKey(name);
  const old = state.items.get(key);
  const stamp = old !== undefined && compareStamps(old.s, s) > 0 ? old.s : s;
  const item: Item = { v: encodeValue(lock), s: stamp, w: stamp[1], b: old?.s };
  state.items.set(key, item);
  out.push({ type: "change", key, old, item });
}

/** Hands the lock to the first waiter still wanted; returns the new state and emits its grant. */
function grantNext(lock: LockState, out: Effect[], keep: (w: Waiter) => boolean = () => true): LockState {
  const dropped = lock.q.filter((w) => !keep(w)).map((w) => w[1]);
  const q = lock.q.filter(keep);
  const next = q.shift();
  const h = finished(lock, lock.r, ...dropped).h;
  if (next === undefined) return { o: null, r: null, g: 0, q, h };
  out.push({ type: "done", id: next[1] });
  return { o: next[0], r: next[1], g: next[2], q, h };
}

/** Applies a `lock`, `unlock` or `cancel` operation. */
export function applyLockOp(
  state: DataState,
  op: Extract<Op, { t: "lock" | "unlock" | "cancel" }>,
  out: Effect[],
): void {
  const cur = readLock(state, op.n);
  switch (op.t) {
    case "lock": {
      // Applied already (a copy multicast again after a view change), or finished.
      if (cur.r === op.id || cur.q.some((w) => w[1] === op.id) || (cur.h ?? []).includes(op.id)) return;
      if (cur.o === null) {
        writeLock(state, op.n, { o: op.o, r: op.id, g: op.vi, q: cur.q, h: cur.h }, op.s, out);
        out.push({ type: "done", id: op.id });
      } else writeLock(state, op.n, { ...cur, q: [...cur.q, [op.o, op.id, op.vi]] }, op.s, out);
      return;
    }
    case "unlock": {
      if (cur.o !== op.o || (op.q !== undefined && cur.r !== op.q)) {
        out.push({ type: "done", id: op.id, error: "notOwner", detail: cur.o ?? "" });
        return;
      }
      writeLock(state, op.n, grantNext(cur, out), op.s, out);
      out.push({ type: "done", id: op.id });
      return;
    }
    case "cancel": {
      if (cur.o === op.o && cur.r === op.q) writeLock(state, op.n, grantNext(cur, out), op.s, out);
      else if (cur.q.some((w) => w[1] === op.q)) {
        writeLock(state, op.n, finished({ ...cur, q: cur.q.filter((w) => w[1] !== op.q) }, op.q), op.s, out);
      } else if (!(cur.h ?? []).includes(op.q)) {
        // The request has not arrived yet (a copy still in flight): make sure it never grants.
        writeLock(state, op.n, finished(cur, op.q), op.s, out);
      }
      out.push({ type: "done", id: op.id });
      return;
    }
  }
}

/**
 * Frees the locks held by nodes outside `members` (`id#inc`) whose grant dates from view `vi` or
 * earlier, and drops their queued requests; the next waiter gets the lock.
 */
export function evictLocks(state: DataState, members: readonly string[], vi: number, out: Effect[]): void {
  const live = new Set(members);
  const keep = (w: Waiter) => live.has(w[0]) || w[2] > vi;
  const s: Stamp = [state.clock, ""];
  for (const [key, item] of [...state.items]) {
    if (!isLockKey(key) || item.v === undefined) continue;
    const cur = decodeValue(item.v) as LockState;
    const name = lockNameOf(key);
    if (cur.o !== null && !live.has(cur.o) && cur.g <= vi) {
      writeLock(state, name, grantNext(cur, out, keep), s, out);
    } else if (!cur.q.every(keep)) {
      const dropped = cur.q.filter((w) => !keep(w)).map((w) => w[1]);
      writeLock(state, name, finished({ ...cur, q: cur.q.filter(keep) }, ...dropped), s, out);
    }
  }
}
