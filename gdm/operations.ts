/**
 * The operations the GDM multicasts through the GCM, in one total order: state operations (writes,
 * lock requests and releases, merges) that every replica applies, and the control messages of the
 * round a view change starts (`hello`) and of a finished state transfer (`synced`). Model types only;
 * `codec.ts` puts them on the wire.
 * @module
 */
import type { Item, LockState, ReadSpec, WriteSpec } from "./model.ts";
import type { SessionRecord } from "./sessions.ts";
import type { Stamp } from "./stamp.ts";

/** What every state operation carries: who issued it, its number there, its Lamport stamp. */
export interface Issued {
  /** The issuing GDM (`nodeId#nonce`, the same across the GCM's rejoins). */
  readonly issuer: string;
  /** The operation's number at its issuer (1, 2, …): with `issuer`, its identity. */
  readonly n: number;
  /** Lamport stamp. */
  readonly stamp: Stamp;
  /**
   * Every member that applies it tells the issuer once its copy is on disk (level `safe` with
   * durability `fsync`: the issuer's promise waits for all of them).
   */
  readonly acks?: boolean;
}

/** Writes (one, or a transaction's several); with `reads`, compare-on-commit. */
export interface WriteOp extends Issued {
  readonly kind: "write";
  readonly writes: readonly WriteSpec[];
  readonly reads?: readonly ReadSpec[];
}

/** A lock request; its ID ({@link operationId}) is the request ID. */
export interface LockOp extends Issued {
  readonly kind: "lock";
  readonly name: string;
  /** The member asking (`nodeId#incarnation`): a lock is freed when its holder leaves the group. */
  readonly owner: string;
}

/** Releases the grant of `request` (a release of a later grant by a late copy is impossible). */
export interface UnlockOp extends Issued {
  readonly kind: "unlock";
  readonly name: string;
  readonly owner: string;
  readonly request: string;
}

/** Withdraws lock request `request` (a time-out or an abort): released if it was granted. */
export interface CancelOp extends Issued {
  readonly kind: "cancel";
  readonly name: string;
  readonly owner: string;
  readonly request: string;
}

/** Items merged by stamp into every replica (another side's versions, or `reconcile()`). */
export interface MergeOp extends Issued {
  readonly kind: "merge";
  readonly items: readonly (readonly [string, Item])[];
  /** A stale copy (kept over a leave or a restart): merged without `conflict` events. */
  readonly quiet: boolean;
}

/** An operation every replica applies. */
export type StateOp = WriteOp | LockOp | UnlockOp | CancelOp | MergeOp;

/** What a member brings into the round of a view (see `round.ts`). */
export interface HelloOp {
  readonly kind: "hello";
  /** The view the round is for. */
  readonly view: string;
  /** The member, `nodeId#incarnation`. */
  readonly member: string;
  /** Identity of its replica's class (members with equal epochs hold equal replicas), or null: no usable replica. */
  readonly epoch: string | null;
  /** Items it holds (tombstones included). */
  readonly items: number;
  /** State operations its replica has applied (the more, the further along its history). */
  readonly applied: number;
  /** Its Lamport clock. */
  readonly clock: number;
  /** Digest of its replica (an assertion: equal epochs must have equal digests). */
  readonly digest: string;
  /** Its replica is a stale copy (kept over a health-check leave, or loaded from storage). */
  readonly stale: boolean;
  /** Its locks, merged by every member when the round completes. */
  readonly locks: readonly (readonly [string, LockState])[];
  /** Which operations its replica applied, merged likewise. */
  readonly sessions: readonly (readonly [string, SessionRecord])[];
}

/** A member finished its state transfer: it holds the group's data from here on. */
export interface SyncedOp {
  readonly kind: "synced";
  readonly member: string;
}

/** Anything the GDM multicasts. */
export type Operation = StateOp | HelloOp | SyncedOp;

/** The identity of a state operation (also the request ID of a lock request). */
export function operationId(op: Issued): string {
  return `${op.issuer}#${op.n}`;
}

/** Whether `op` changes replicas (rather than steering rounds). */
export function isStateOp(op: Operation): op is StateOp {
  return op.kind !== "hello" && op.kind !== "synced";
}
