/**
 * The Group Data Manager's model, in the words a reader uses: items with their Lamport stamps, locks
 * with fencing tokens, and the writes and reads a transaction carries. These are the in-memory types;
 * the wire's short keys live only in `codec.ts`.
 * @module
 */
import type { Stamp } from "./stamp.ts";
import type { Patch } from "./value.ts";

/** One replicated data item. Immutable: a write replaces the object. */
export interface Item {
  /** Encoded value; absent for a deleted item (a tombstone, kept so a merge cannot resurrect it). */
  readonly value?: Uint8Array;
  /** Stamp of the write that produced this version (its node is the writer). */
  readonly stamp: Stamp;
  /** Stamp of the version this one replaced (tells a one-sided update from a conflict in a merge). */
  readonly replaced?: Stamp;
}

/** The holder of a lock: who, which request, and the fencing token of the grant. */
export interface LockHolder {
  /** The member holding it, `nodeId#incarnation`. */
  readonly owner: string;
  /** The lock request that was granted. */
  readonly request: string;
  /** Fencing token of this grant: larger than every earlier grant of the lock. */
  readonly fence: number;
}

/** A request waiting for a lock. */
export interface LockWaiter {
  /** The member asking, `nodeId#incarnation`. */
  readonly owner: string;
  /** The request's ID. */
  readonly request: string;
}

/** State of one lock. Immutable: a change replaces the object. */
export interface LockState {
  /** The current grant, or undefined while the lock is free. */
  readonly holder?: LockHolder;
  /** The highest fencing token ever granted for this lock (0: never granted). */
  readonly fence: number;
  /** Requests waiting, first come first served. */
  readonly waiting: readonly LockWaiter[];
}

/** One write of an operation: a whole value, a deletion (neither `value` nor `patch`), or a partial update. */
export interface WriteSpec {
  /** Key. */
  readonly key: string;
  /** Encoded new value (whole write). */
  readonly value?: Uint8Array;
  /** Partial update of the current value. */
  readonly patch?: Patch;
}

/** A read recorded by a transaction with `compare`: the key and the stamp seen (null: absent). */
export interface ReadSpec {
  /** Key. */
  readonly key: string;
  /** Stamp of the version read, or null when the key was absent. */
  readonly stamp: Stamp | null;
}

/** Why an operation was not applied. */
export type Failure =
  | { readonly kind: "conflict"; readonly detail: string }
  | { readonly kind: "patch"; readonly detail: string }
  | { readonly kind: "notOwner"; readonly detail: string };

/** The key of a member: node ID and incarnation. */
export function memberKey(id: string, incarnation: number): string {
  return `${id}#${incarnation}`;
}

/** Node ID of a member key (`nodeId#incarnation`). */
export function nodeOf(member: string): string {
  return member.slice(0, member.lastIndexOf("#"));
}

/** The identity of a GDM as the issuer of operations: its node, the GCM incarnation it began with, a counter. */
export function issuerKey(node: string, incarnation: number, instance: number): string {
  return `${node}#${incarnation}.${instance}`;
}

/** The node of an issuer ({@link issuerKey}). */
export function nodeOfIssuer(issuer: string): string {
  return nodeOf(issuer.slice(0, issuer.lastIndexOf(".")));
}
