/**
 * Distributed locks (3.10) with fencing tokens. A lock's state — its holder, the highest fencing
 * token ever granted, the waiting requests — is replicated like the items: requests, releases and
 * withdrawals are operations in the total order, so every replica grants the same lock to the same
 * requester at the same point, with the same token. Every grant takes the next token, so a resource
 * that remembers the highest token it saw can refuse a holder that lost the lock without knowing
 * (Chubby's sequencers, ZooKeeper's zxids).
 *
 * When sides meet (a round, see `round.ts`) their lock states merge by {@link mergeLockStates}: the
 * token is the highest of both, the holder the grant with the highest token (commutative, associative
 * and idempotent), and the waiting requests those of the side whose data the group keeps. Then the
 * members that are not in the view lose their grants and requests ({@link evictLocks}).
 * @module
 */
import type { LockHolder, LockState, LockWaiter } from "./model.ts";

/** What a lock operation did. */
export type LockOutcome =
  /** The lock changed: `granted` is set when a request was granted by it. */
  | { readonly changed: LockState; readonly granted?: LockHolder }
  | { readonly notOwner: string | null }
  | undefined;

/** A free lock never granted. */
export const FREE_LOCK: LockState = { fence: 0, waiting: [] };

/** Grants the lock to the first waiter, if it is free; returns the new state and the grant. */
function grantNext(lock: LockState): { state: LockState; granted?: LockHolder } {
  if (lock.holder !== undefined || lock.waiting.length === 0) return { state: lock };
  const [next, ...waiting] = lock.waiting;
  const holder: LockHolder = { owner: next.owner, request: next.request, fence: lock.fence + 1 };
  return { state: { holder, fence: holder.fence, waiting }, granted: holder };
}

/** A request: granted at once when the lock is free, queued otherwise. */
export function requestLock(lock: LockState, owner: string, request: string): LockOutcome {
  if (lock.holder?.request === request || lock.waiting.some((w) => w.request === request)) return undefined;
  const { state, granted } = grantNext({ ...lock, waiting: [...lock.waiting, { owner, request }] });
  return { changed: state, granted };
}

/** A release of grant `request` by `owner`; the next waiter gets the lock. */
export function releaseLock(lock: LockState, owner: string, request: string): LockOutcome {
  const h = lock.holder;
  if (h === undefined || h.owner !== owner || h.request !== request) return { notOwner: h?.owner ?? null };
  const { state, granted } = grantNext({ fence: lock.fence, waiting: lock.waiting });
  return { changed: state, granted };
}

/** Withdraws request `request`: released if granted, dropped if waiting, nothing if unknown. */
export function withdrawLock(lock: LockState, owner: string, request: string): LockOutcome {
  if (lock.holder?.request === request) return releaseLock(lock, owner, request);
  if (!lock.waiting.some((w) => w.request === request)) return undefined;
  return { changed: { ...lock, waiting: lock.waiting.filter((w) => w.request !== request) } };
}

/** Orders grants: by fencing token, then owner, then request (the same everywhere). */
function laterGrant(a: LockHolder | undefined, b: LockHolder | undefined): LockHolder | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  if (a.fence !== b.fence) return a.fence > b.fence ? a : b;
  if (a.owner !== b.owner) return a.owner > b.owner ? a : b;
  return a.request >= b.request ? a : b;
}

/**
 * Merges the states of one lock from several sides. `kept` is the side whose data the group keeps
 * (its waiting requests stay; the others' requesters ask again). Fencing token: the highest; holder:
 * the grant with the highest token — so a merged lock never grants a token that either side granted.
 */
export function mergeLockStates(kept: LockState | undefined, others: readonly LockState[]): LockState {
  let fence = kept?.fence ?? 0;
  let holder = kept?.holder;
  for (const o of others) {
    if (o.fence > fence) fence = o.fence;
    holder = laterGrant(holder, o.holder);
  }
  const waiting = (kept?.waiting ?? []).filter((w) => w.request !== holder?.request);
  return holder === undefined ? { fence, waiting } : { holder, fence, waiting };
}

/**
 * Frees the grants and drops the requests of owners that are not `members` (`nodeId#incarnation`);
 * the next waiter gets the lock. Returns the changed locks and the grants made.
 */
export function evictLocks(
  locks: ReadonlyMap<string, LockState>,
  members: ReadonlySet<string>,
): Array<{ name: string; state: LockState; granted?: LockHolder }> {
  const out: Array<{ name: string; state: LockState; granted?: LockHolder }> = [];
  for (const [name, lock] of locks) {
    const gone = lock.holder !== undefined && !members.has(lock.holder.owner);
    const waiting: LockWaiter[] = lock.waiting.filter((w) => members.has(w.owner));
    if (!gone && waiting.length === lock.waiting.length) continue;
    const freed: LockState = gone ? { fence: lock.fence, waiting } : { ...lock, waiting };
    const { state, granted } = grantNext(freed);
    out.push({ name, state, granted });
  }
  return out;
}
