/**
 * Typed errors of the Group Communication Manager. Each says what went wrong and what to do.
 * @module
 */
import { RaincoreError } from "../base/errors.ts";

/** The operation needs group membership (e.g. `multicast`) but this node has left or not started. */
export class NotMemberError extends RaincoreError {
  static override readonly errorName = "NotMemberError";
}

/** The node left the group (`leave()` or `close()`); create a new manager to join again. */
export class LeftGroupError extends RaincoreError {
  static override readonly errorName = "LeftGroupError";
  constructor(detail = "this node has left the group; create a new GroupCommunicationManager to join again") {
    super(detail);
  }
}

/** An operation did not finish within its time bound. */
export class TimeoutError extends RaincoreError {
  static override readonly errorName = "TimeoutError";
  constructor(readonly timeoutMs: number, detail: string) {
    super(`${detail} (timed out after ${timeoutMs} ms)`);
  }
}

/** A multicast larger than `maxMessageBytes`. */
export class MulticastTooLargeError extends RaincoreError {
  static override readonly errorName = "MulticastTooLargeError";
  constructor(readonly size: number, readonly limit: number) {
    super(
      `multicast of ${size} bytes exceeds maxMessageBytes (${limit}); raise the option or split the data`,
    );
  }
}

/** A multicast while this node's own messages waiting for the token exceed `maxPendingBytes`. */
export class MulticastBackpressureError extends RaincoreError {
  static override readonly errorName = "MulticastBackpressureError";
  constructor(readonly pendingBytes: number, readonly size: number, readonly limit: number) {
    super(
      `${pendingBytes} bytes of multicasts are already waiting for the token; ${size} more would exceed maxPendingBytes (${limit}): await gcm.whenWritable(${size}) and retry, or raise the option`,
    );
  }
}
