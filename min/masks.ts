/**
 * Stage-mask constructions and the condition of theorems 6.2–6.4: an n-dimensional network with
 * `n + f` stages tolerates `f` switch faults exactly when the masks of every `n` consecutive
 * stages span Z_t^n (a "generalized cyclic" network, definition 6.2).
 * @module
 */

import { checkN, checkNetwork, checkT } from "./labels.ts";
import { spans } from "./span.ts";
import type { Network } from "./types.ts";

/**
 * The masks of the (n, f) cyclic network (definition 6.1): the unit vectors `e_0 … e_{n-1}`
 * (thesis: 001, 010, 100 for n = 3), then repeating, `m_{n+i} = m_i`, for `n + f` stages in all.
 */
export function cyclicMasks(n: number, f: number, t = 2): number[][] {
  checkN(n);
  checkT(t);
  if (!Number.isInteger(f) || f < 0) throw new RangeError(`'f' must be a non-negative integer, got ${f}`);
  return Array.from({ length: n + f }, (_, i) => Array.from({ length: n }, (_, k) => (k === i % n ? 1 : 0)));
}

/**
 * Index of the first stage of a window of `n` consecutive masks that does not span Z_t^n; `-1`
 * when every window spans and there are at least `n` stages (the network is generalized cyclic
 * and tolerates `masks.length - n` faults); `-2` when there are fewer than `n` stages.
 */
export function nonSpanningWindow(net: Network): number {
  checkNetwork(net);
  const { n, t, masks } = net;
  if (masks.length < n) return -2;
  for (let j = 0; j + n <= masks.length; j++) {
    if (!spans(masks.slice(j, j + n), n, t)) return j;
  }
  return -1;
}

/** Whether every `n` consecutive masks span Z_t^n (and there are at least `n` stages). */
export function isGeneralizedCyclic(net: Network): boolean {
  return nonSpanningWindow(net) === -1;
}
