/**
 * Typed errors of the Group Communication Manager. Each says what went wrong and what to do.
 * @module
 */
import { RaincoreError } from "../base/errors.ts";

/** The operation needs group membership (e.g. `multicast`) but this node has left or not started. */
export class NotMemberError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "NotMemberError";
}

/** The node left the group (`leave()` or `close()`); create a new manager to join again. */
export class LeftGroupError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "LeftGroupError";
  /** `detail` says what was refused or cut short. */
  constructor(detail = "this node has left the group; create a new GroupCommunicationManager to join again") {
    super(detail);
  }
}

/** An operation did not finish within its time bound. */
export class TimeoutError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "TimeoutError";
  /** The bound that passed, in ms. */
  readonly timeoutMs: number;
  /** `detail` says what did not finish within `timeoutMs`. */
  constructor(timeoutMs: number, detail: string) {
    super(`${detail} (timed out after ${timeoutMs} ms)`);
    this.timeoutMs = timeoutMs;
  }
}

/** A multicast larger than `maxMessageBytes`. */
export class MulticastTooLargeError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "MulticastTooLargeError";
  /** Size of the refused payload in bytes. */
  readonly size: number;
  /** The `maxMessageBytes` in force. */
  readonly limit: number;
  /** A payload of `size` bytes over `limit`. */
  constructor(size: number, limit: number) {
    super(
      `multicast of ${size} bytes exceeds maxMessageBytes (${limit}); raise the option or split the data`,
    );
    this.size = size;
    this.limit = limit;
  }
}

/** A multicast while this node's own messages waiting for the token exceed `maxPendingBytes`. */
export class MulticastBackpressureError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "MulticastBackpressureError";
  /** Payload bytes of own messages already waiting for the token. */
  readonly pendingBytes: number;
  /** Size of the refused payload in bytes. */
  readonly size: number;
  /** The `maxPendingBytes` in force. */
  readonly limit: number;
  /** `size` more bytes would take the `pendingBytes` waiting over `limit`. */
  constructor(pendingBytes: number, size: number, limit: number) {
    super(
      `${pendingBytes} bytes of multicasts are already waiting for the token; ${size} more would exceed maxPendingBytes (${limit}): await gcm.whenWritable(${size}) and retry, or raise the option`,
    );
    this.pendingBytes = pendingBytes;
    this.size = size;
    this.limit = limit;
  }
}

/**
 * Timing settings that break a rule between the layers (e.g. a Hungry timeout shorter than the
 * Transport Manager's failure time); the message says which setting to change.
 */
export class TimingError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "TimingError";
  /** The setting to change, e.g. `"hungryMs"`. */
  readonly setting: string;
  /** `setting` breaks the rule `message` states. */
  constructor(setting: string, message: string) {
    super(message);
    this.setting = setting;
  }
}
