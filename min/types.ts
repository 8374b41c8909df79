/**
 * The data model of the multistage-network module: plain readonly values, no classes. A node
 * label is an array of `n` digits in `0..t-1`, digit 0 the least significant (the thesis prints
 * labels most significant digit first, so its node 110 is `[0, 1, 1]`).
 * @module
 */

/** A node label: `n` digits in `0..t-1`, digit 0 least significant. */
export type Label = readonly number[];

/**
 * A multistage interconnection network in the bar-diagram model: stage `i` (0-based) connects
 * node `x` to the nodes `x + s·masks[i]` (component-wise mod `t`) for modes `s = 0..t-1`.
 */
export interface Network {
  /** Dimension: labels have `n` digits, so there are `t^n` nodes. */
  readonly n: number;
  /** Switch size: `t × t` switches, arithmetic mod `t` (2 for the thesis's 2×2 switches). */
  readonly t: number;
  /** The stage masks in order, each `n` digits in `0..t-1`. */
  readonly masks: readonly Label[];
}

/**
 * A switch: the one of stage `stage` that carries `node`. Two values name the same switch when
 * their nodes differ by a multiple of the stage mask.
 */
export interface Switch {
  /** 0-based stage index. */
  readonly stage: number;
  /** Any node the switch carries. */
  readonly node: Label;
}

/**
 * A path through every stage: `modes[i]` is the mode used at stage `i` (0 = straight) and
 * `nodes[i + 1] = nodes[i] + modes[i]·masks[i]`; `nodes[0]` is the source, so
 * `nodes.length === masks.length + 1`.
 */
export interface Path {
  /** Mode used at each stage. */
  readonly modes: readonly number[];
  /** Label before the first stage and after each stage. */
  readonly nodes: readonly Label[];
}

/** A pair of nodes and a set of faulty switches that disconnects them. */
export interface Cut {
  /** Source node. */
  readonly from: Label;
  /** Destination node that `from` cannot reach under `faults`. */
  readonly to: Label;
  /** Faulty switches (stuck in straight mode). */
  readonly faults: readonly Switch[];
}
