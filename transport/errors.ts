/**
 * Typed errors of the transport layer. Callers match on the class (or its `name`); every error says
 * what went wrong and, where it helps, what to do.
 * @module
 */
import { RaincoreError } from "../base/errors.ts";

/**
 * A message could not be delivered: every resend on every address of the node went
 * unacknowledged. This is the local failure detector of the group layer.
 */
export class DeliveryFailedError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "DeliveryFailedError";
  /** Delivery of a message to `nodeId` on `channel` failed; `detail` says how. */
  constructor(
    /** The node that did not acknowledge. */
    readonly nodeId: string,
    /** The channel of the message. */
    readonly channel: number,
    detail: string,
  ) {
    super(`delivery to node "${nodeId}" on channel ${channel} failed: ${detail}`);
  }
}

/** A message larger than the configured `maxMessageBytes`. */
export class MessageTooLargeError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "MessageTooLargeError";
  /** A message of `size` bytes met a limit of `limit`. */
  constructor(
    /** The message's size in bytes. */
    readonly size: number,
    /** `maxMessageBytes`. */
    readonly limit: number,
  ) {
    super(
      `message of ${size} bytes exceeds maxMessageBytes (${limit}); raise the option or split the message`,
    );
  }
}

/** Sending to a node whose addresses the manager does not know. */
export class UnknownNodeError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "UnknownNodeError";
  /** No address is known for `nodeId`. */
  constructor(
    /** The node sent to. */
    readonly nodeId: string,
  ) {
    super(`no address known for node "${nodeId}"; add it with setAddresses() first`);
  }
}

/** A backend could not open its socket (e.g. the port is in use or the address is not local). */
export class TransportBindError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "TransportBindError";
  /** Binding `address` failed; `options.cause` is the runtime's error (its `code`, e.g. `EADDRINUSE`). */
  constructor(
    /** The address that could not be bound. */
    readonly address: string,
    options?: { cause?: unknown },
  ) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`cannot bind ${address}${why}`, options);
  }
}

/** A key file or key option that is not usable. */
export class InvalidKeyError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "InvalidKeyError";
}
