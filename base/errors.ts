/**
 * The errors every layer shares: {@link RaincoreError}, the base of every error raincore raises on
 * purpose, and the two conditions all layers meet — bytes that do not decode, and use after close.
 * Callers match on the class (or its `name`).
 * @module
 */

/** Base class of every error raincore raises on purpose. */
export class RaincoreError extends Error {
  /** Error name, stable across versions. */
  static readonly errorName: string = "RaincoreError";
  /** An error with `message`; `options.cause` keeps the error that led to it. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = (this.constructor as typeof RaincoreError).errorName;
  }
}

/** Bytes that are not a valid packet or message of the expected format. */
export class DecodeError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "DecodeError";
}

/** An operation on something already closed. */
export class ClosedError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "ClosedError";
}

/**
 * An optional npm package that a feature needs is not installed (werift for WebRTC on Node and
 * Deno, ws for the WebSocket backend on Node). Install it (`npm install werift`) and retry.
 */
export class MissingDependencyError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "MissingDependencyError";
  /** The npm package to install, e.g. `"werift"`. */
  readonly packageName: string;
  /** `packageName` is missing for `feature` (said in the message); `cause` is the failed import. */
  constructor(packageName: string, feature: string, options?: { cause?: unknown }) {
    super(`${feature} needs the npm package '${packageName}': npm install ${packageName}`, options);
    this.packageName = packageName;
  }
}
