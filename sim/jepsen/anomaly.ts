/**
 * What the checker reports: one anomaly per thing that went wrong, named by the property it breaks.
 * @module
 */

/** One anomaly found in a history. */
export interface Anomaly {
  /** The property broken, e.g. `lost write`, `monotonic reads`, `cycle`, `fencing token reused`. */
  readonly kind: string;
  /** The operations involved, in words. */
  readonly detail: string;
}
