/**
 * Typed errors of the multistage-network module. Argument mistakes (a bad `n`, a digit out of
 * range) are plain `RangeError`/`TypeError`s; the errors here are conditions a caller may want to
 * catch and handle.
 * @module
 */

import { RaincoreError } from "../base/errors.ts";

/**
 * The network does not satisfy the condition of theorems 6.2–6.4 (every `n` consecutive stage
 * masks span Z_t^n, and there are at least `n` stages), so the constructive `f + 1` disjoint paths
 * do not exist in general. Use `route()` for a single path or `minimumCut()` for what it tolerates.
 */
export class MinConditionError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "MinConditionError";
  /** Index of the first stage of a window of `n` masks that does not span, or -1 when there are fewer than `n` stages. */
  readonly window: number;
  /** The window at `window` does not span; `detail` is the message. */
  constructor(window: number, detail: string) {
    super(detail);
    this.window = window;
  }
}
