/**
 * The application's requests on their way through the core: held while this member cannot issue
 * (not yet holding the group's data, out of the group, outside a primary component), then stamped and
 * multicast, seen in the order, applied, made as durable as asked, and settled. A request whose copy
 * was dropped (see `follower.ts`) is sent again, unchanged, once this member can issue; the sessions
 * of the replica tell whether it was applied elsewhere meanwhile.
 * @module
 */
import type { DeliveryLevel } from "../gcm/types.ts";
import { NotLockOwnerError, PatchError, TransactionAbortedError } from "./errors.ts";
import type { Failure } from "./model.ts";
import type { StateOp } from "./operations.ts";
import type { Stamp } from "./stamp.ts";

/**
 * How durable a write is when its promise resolves:
 * - `memory`: applied on this member (its storage is written soon after);
 * - `written`: also handed to the operating system by this member's storage (survives the process);
 * - `fsync`: also on this member's disk, file and directory entry (survives a power loss); with
 *   `level: "safe"`, on the disk of every member of the view that applied it.
 */
export type Durability = "memory" | "written" | "fsync";

/** What a request is. */
export type RequestKind = "write" | "transaction" | "lock" | "unlock" | "cancel" | "merge" | "flush";

/** Where a request is. */
export type RequestState =
  /** Not multicast yet (this member cannot issue now). */
  | "held"
  /** In the outbox, multicast at the next flush. */
  | "queued"
  /** Multicast; not seen in the order yet. */
  | "sent"
  /** Delivered here but not applied (waiting for a round, or dropped: sent again when this member can issue). */
  | "seen"
  /** Applied in this member's lineage; waiting for a grant (a queued lock request) or for durability. */
  | "applied";

/** A request of the application (or of the core itself: `internal`). */
export interface Request {
  /** Request number (the driver's promise, for requests that are not internal). */
  readonly id: number;
  readonly kind: RequestKind;
  readonly level: DeliveryLevel;
  readonly durability: Durability;
  /** Builds the operation when it is issued: its number, stamp and owner (this member). */
  readonly build: (n: number, stamp: Stamp, owner: string) => StateOp;
  /** Lock name (lock, unlock, cancel). */
  readonly lock?: string;
  /** No promise waits for it (a withdrawal, a merge back of this member's own versions). */
  readonly internal: boolean;
  state: RequestState;
  /** The operation, once issued. */
  op?: StateOp;
  /** Applied in this member's lineage: the value to settle with (or the error). */
  outcome?: { value?: unknown; error?: Error };
  /**
   * All-member durability: members that must say the operation is on their disk, and those that did; `untilView`: some of them
   * were left behind by a transitional configuration (quorum policy: the next view decides).
   */
  acks?: { needed: Set<string>; have: Set<string>; untilView?: boolean };
  /** Its change is on this member's disk. */
  onDisk?: boolean;
  /** The promise gave up (time-out, abort): the operation may still apply, nobody waits for it. */
  abandoned?: boolean;
  /** A lock request's time-out, ms. */
  timeoutMs?: number;
}

/** The error a failed operation settles its request with. */
export function failureError(req: Request, f: Failure): Error {
  switch (f.kind) {
    case "conflict":
      return new TransactionAbortedError("conflict", f.detail);
    case "patch": {
      const pe = new PatchError(f.detail);
      return req.kind === "transaction"
        ? new TransactionAbortedError("aborted", pe.message, { cause: pe })
        : pe;
    }
    case "notOwner":
      return new NotLockOwnerError(req.lock ?? "", f.detail === "" ? null : f.detail);
  }
}

/** The requests of one core, in the order they were made. */
export class RequestBook {
  readonly #all = new Map<number, Request>();
  /** Issued requests by operation number. */
  readonly #byOp = new Map<number, Request>();

  /** Adds a request. */
  add(r: Request): void {
    this.#all.set(r.id, r);
  }

  /** A request by number. */
  get(id: number): Request | undefined {
    return this.#all.get(id);
  }

  /** The request that issued operation `n`. */
  byOp(n: number): Request | undefined {
    return this.#byOp.get(n);
  }

  /** Records that `r` was issued as `op`. */
  issued(r: Request, op: StateOp): void {
    r.op = op;
    this.#byOp.set(op.n, r);
  }

  /** `r` will be issued again as a new operation (its old number is forgotten). */
  reissue(r: Request): void {
    for (const [n, x] of this.#byOp) if (x === r) this.#byOp.delete(n);
  }

  /** Forgets a request (settled or given up before it was issued). */
  remove(r: Request): void {
    this.#all.delete(r.id);
    if (r.op !== undefined) this.#byOp.delete(r.op.n);
  }

  /** Every request, oldest first. */
  all(): IterableIterator<Request> {
    return this.#all.values();
  }

  /** Number of requests. */
  get size(): number {
    return this.#all.size;
  }
}
