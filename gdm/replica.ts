/**
 * A replica of the group's data and the pure, deterministic function that applies one state operation
 * to it ({@link applyStateOp}): every replica runs it on the same operations in the same order and
 * reaches the same state. No I/O, no clock; what happened comes back as {@link Effect}s.
 * @module
 */
import { computeWrites, type ItemChange, type ItemConflict, mergeItems } from "./items.ts";
import { FREE_LOCK, type LockOutcome, releaseLock, requestLock, withdrawLock } from "./locks.ts";
import type { Failure, Item, LockHolder, LockState } from "./model.ts";
import { operationId, type StateOp } from "./operations.ts";
import { recordApplied, type Sessions, wasApplied } from "./sessions.ts";
import type { Stamp } from "./stamp.ts";

/** The replicated state. */
export interface Replica {
  /** Items by key (tombstones included). */
  items: Map<string, Item>;
  /** Locks by name (ever used). */
  locks: Map<string, LockState>;
  /** Highest Lamport counter applied or merged. */
  clock: number;
  /** State operations applied (a position in the replica's history). */
  applied: number;
  /** Which operations were applied, per issuer. */
  sessions: Sessions;
}

/** What applying an operation did. */
export type Effect =
  | { readonly type: "change"; readonly change: ItemChange }
  | { readonly type: "conflict"; readonly conflict: ItemConflict }
  | { readonly type: "lock"; readonly name: string; readonly old: LockState; readonly state: LockState }
  /** A lock request was granted (by this operation or, later, by a release or an eviction). */
  | { readonly type: "granted"; readonly name: string; readonly holder: LockHolder }
  /** The outcome of an operation (`duplicate`: it had been applied before; nothing changed). */
  | {
    readonly type: "outcome";
    readonly issuer: string;
    readonly n: number;
    readonly failure?: Failure;
    readonly stamp?: Stamp;
    readonly duplicate?: boolean;
    /** The issuer waits for every member's copy on disk. */
    readonly acks?: boolean;
  };

/** An empty replica. */
export function emptyReplica(): Replica {
  return { items: new Map(), locks: new Map(), clock: 0, applied: 0, sessions: new Map() };
}

/** A copy later operations do not affect (items, locks and session records are immutable). */
export function copyReplica(r: Replica): Replica {
  return {
    items: new Map(r.items),
    locks: new Map(r.locks),
    clock: r.clock,
    applied: r.applied,
    sessions: new Map(r.sessions),
  };
}

/** Applies one state operation (in place) and returns its effects. */
export function applyStateOp(replica: Replica, op: StateOp): Effect[] {
  const out: Effect[] = [];
  if (wasApplied(replica.sessions, op.issuer, op.n)) {
    out.push({ type: "outcome", issuer: op.issuer, n: op.n, duplicate: true, acks: op.acks });
    return out;
  }
  if (op.stamp[0] > replica.clock) replica.clock = op.stamp[0];
  let failure: Failure | undefined;
  switch (op.kind) {
    case "write": {
      const r = computeWrites(replica.items, op.stamp, op.writes, op.reads);
      if ("failure" in r) failure = r.failure;
      else {
        for (const c of r.changes) {
          replica.items.set(c.key, c.item);
          out.push({ type: "change", change: c });
        }
      }
      break;
    }
    case "merge": {
      const { changes, conflicts } = mergeItems(replica.items, op.items, op.quiet);
      for (const [, it] of op.items) if (it.stamp[0] > replica.clock) replica.clock = it.stamp[0];
      for (const c of conflicts) out.push({ type: "conflict", conflict: c });
      for (const c of changes) out.push({ type: "change", change: c });
      break;
    }
    case "lock":
    case "unlock":
    case "cancel": {
      const lock = replica.locks.get(op.name) ?? FREE_LOCK;
      const result: LockOutcome = op.kind === "lock"
        ? requestLock(lock, op.owner, operationId(op))
        : op.kind === "unlock"
        ? releaseLock(lock, op.owner, op.request)
        : withdrawLock(lock, op.owner, op.request);
      if (result !== undefined && "notOwner" in result) {
        failure = { kind: "notOwner", detail: result.notOwner ?? "" };
      } else if (result !== undefined) {
        setLock(replica, op.name, result.changed, out);
        if (result.granted !== undefined) {
          out.push({ type: "granted", name: op.name, holder: result.granted });
        }
      }
      break;
    }
  }
  replica.applied++;
  recordApplied(replica.sessions, op.issuer, op.n, replica.clock, failure);
  out.push({ type: "outcome", issuer: op.issuer, n: op.n, failure, stamp: op.stamp, acks: op.acks });
  return out;
}

/** Replaces the state of lock `name`, with its effect. */
export function setLock(replica: Replica, name: string, state: LockState, out: Effect[]): void {
  const old = replica.locks.get(name) ?? FREE_LOCK;
  replica.locks.set(name, state);
  out.push({ type: "lock", name, old, state });
}

function fnv(s: string, h: number): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * An order-independent digest of a replica's items (key, stamp, value length) and locks (holder,
 * token, waiters): two replicas with the same digest almost surely hold the same versions. An
 * assertion only: replicas of one class must agree (see `round.ts`).
 */
export function digestReplica(r: Replica): string {
  let sum = 0;
  let xor = 0;
  const add = (s: string) => {
    const h = fnv(s, 0x811c9dc5);
    sum = (sum + h) >>> 0;
    xor = (xor ^ Math.imul(h, 0x9e3779b1)) >>> 0;
  };
  for (const [k, it] of r.items) add(`${k}|${it.stamp[0]}|${it.stamp[1]}|${it.value?.length ?? -1}`);
  for (const [name, l] of r.locks) {
    add(`\u0001${name}|${l.fence}|${l.holder?.request ?? ""}|${l.waiting.map((w) => w.request).join(",")}`);
  }
  return `${r.items.size}.${r.locks.size}:${sum.toString(16)}:${xor.toString(16)}`;
}
