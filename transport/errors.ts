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
  static override readonly errorName = "DeliveryFailedError";
  constructor(readonly nodeId: string, readonly channel: number, detail: string) {
    super(`delivery to node "${nodeId}" on channel ${channel} failed: ${detail}`);
  }
}

/** A message larger than the configured `maxMessageBytes`. */
export class MessageTooLargeError extends RaincoreError {
  static override readonly errorName = "MessageTooLargeError";
  constructor(readonly size: number, readonly limit: number) {
    super(
      `message of ${size} bytes exceeds maxMessageBytes (${limit}); raise the option or split the message`,
    );
  }
}

/** Sending to a node whose addresses the manager does not know. */
export class UnknownNodeError extends RaincoreError {
  static override readonly errorName = "UnknownNodeError";
  constructor(readonly nodeId: string) {
    super(`no address known for node "${nodeId}"; add it with setAddresses() first`);
  }
}

/** A backend could not open its socket (e.g. the port is in use or the address is not local). */
export class TransportBindError extends RaincoreError {
  static override readonly errorName = "TransportBindError";
  constructor(readonly address: string, options?: { cause?: unknown }) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`cannot bind ${address}${why}`, options);
  }
}

/** A key file or key option that is not usable. */
export class InvalidKeyError extends RaincoreError {
  static override readonly errorName = "InvalidKeyError";
}
