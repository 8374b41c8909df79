/**
 * Typed errors of the Group Data Manager. Each says what went wrong and what to do.
 * @module
 */
import { RaincoreError } from "../base/errors.ts";
import type { Stamp } from "./stamp.ts";

/** `lock()` did not get the lock within its `timeoutMs`; the request was withdrawn. */
export class LockTimeoutError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "LockTimeoutError";
  /** The lock asked for. */
  readonly lockName: string;
  /** How long the request waited, ms. */
  readonly timeoutMs: number;
  /** The request for `lockName` waited `timeoutMs` in vain. */
  constructor(lockName: string, timeoutMs: number) {
    super(
      `lock "${lockName}" was not granted within ${timeoutMs} ms; the request was withdrawn — retry or raise timeoutMs`,
    );
    this.lockName = lockName;
    this.timeoutMs = timeoutMs;
  }
}

/** `unlock()` of a lock this node does not hold (never acquired, already released, or freed in a view change). */
export class NotLockOwnerError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "NotLockOwnerError";
  /** The lock named in `unlock()`. */
  readonly lockName: string;
  /** Its holder, or `null` when free. */
  readonly owner: string | null;
  /** `lockName` is held by `owner` (or nobody), not by this node. */
  constructor(lockName: string, owner: string | null) {
    super(`unlock of "${lockName}" by a node that does not hold it (owner: ${owner ?? "none"})`);
    this.lockName = lockName;
    this.owner = owner;
  }
}

/** A transaction was not applied: nothing it wrote is visible anywhere. `reason` says why. */
export class TransactionAbortedError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "TransactionAbortedError";
  /** `conflict`: a compared read changed; `aborted`: the function threw or called `abort()`; `left`: the node left. */
  readonly reason: "conflict" | "aborted" | "left";
  /** Aborted for `reason`; `detail` says more. */
  constructor(reason: "conflict" | "aborted" | "left", detail: string, options?: { cause?: unknown }) {
    super(`transaction aborted (${reason}): ${detail}`, options);
    this.reason = reason;
  }
}

/**
 * A partial update that does not fit the item (byte patch of a non-binary value, path through a
 * non-object), or a value or path with the key `"__proto__"`, which cannot be stored (gdm/value.ts).
 */
export class PatchError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "PatchError";
}

/**
 * The GDM was closed or its node left the group (`gcm.leave()`); create a new one to take part
 * again. Also the rejection of a `lock()` still waiting when a health check made the node leave for
 * a while: that GDM goes on by itself (lock again after its `synced` event).
 */
export class GdmClosedError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "GdmClosedError";
  /** `detail` says which of the two happened. */
  constructor(detail = "this GroupDataManager is closed or its node left the group") {
    super(detail);
  }
}

/**
 * The storage adapter failed (a write could not be made durable, or stored data could not be read
 * back). A write waiting for that commit rejects with it; the GDM also emits it as an `error` event.
 * The write was applied in memory and may be on other members: read it back before retrying.
 */
export class StorageError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "StorageError";
  /** The stamp of the write that was applied but could not be made durable (for a write's rejection). */
  readonly stamp?: Stamp;
  /** `message`; `options.cause` is the adapter's error, `options.stamp` the write's stamp. */
  constructor(message: string, options?: { cause?: unknown; stamp?: Stamp }) {
    super(message, options);
    if (options?.stamp !== undefined) this.stamp = options.stamp;
  }
}

/**
 * Quorum policy: the group changed before every member that had to confirm this operation had it on
 * disk, and this member moved on without a majority — the operation was applied here, but whether the
 * primary component keeps it is unknown until this member is back in one. Read the item (or the lock's
 * owner and token) after the next `synced` event and retry if needed; a lock asked for this way is
 * withdrawn (released, if the primary component granted it).
 */
export class OutcomeUnknownError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "OutcomeUnknownError";
}

/**
 * The GCM cannot carry a GDM: its view mode or its settings do not give every member the same
 * messages in every view (extended virtual synchrony), which the GDM's replicas rely on.
 */
export class UnsupportedGcmError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "UnsupportedGcmError";
}

/**
 * Two replicas that must be equal (same class, same point of the order) are not — a bug, reported as
 * an `error` event and counted in `stats.diverged`; nothing is repaired behind the application's back.
 */
export class ReplicaDivergedError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "ReplicaDivergedError";
}
