/**
 * Fault-tolerant multistage interconnection networks (thesis chapter 5, theorems 6.1–6.4): the
 * (n, f) cyclic construction, the spanning condition, routing tags, the `f + 1` disjoint paths,
 * exhaustive routing and broadcast under switch faults, and a bar-diagram drawing. Pure functions
 * over plain values: no classes with hidden state, no I/O, no randomness.
 *
 * ```ts
 * import { cyclicMasks, disjointPaths, toleratedFaults } from "./min/mod.ts";
 * const net = { n: 3, t: 2, masks: cyclicMasks(3, 4) };
 * toleratedFaults(net); // 4
 * disjointPaths(net, [0, 0, 0], [0, 1, 1]).length; // 5 (000 → 110)
 * ```
 * @module
 */

export type { Cut, Label, Network, Path, Switch } from "./types.ts";
export { MinConditionError } from "./errors.ts";
export { formatLabel, indexOf, labelOf, MAX_T, parseLabel } from "./labels.ts";
export { routingTag, spans, spanSize } from "./span.ts";
export { cyclicMasks, isGeneralizedCyclic, nonSpanningWindow } from "./masks.ts";
export {
  activeSwitches,
  areDisjoint,
  disjointPaths,
  type PathCheck,
  pathError,
  sameSwitch,
  switchKey,
} from "./paths.ts";
export { isConnected, route } from "./route.ts";
export { minimumCut, toleratedFaults } from "./faults.ts";
export { broadcastProblems, broadcastTree } from "./broadcast.ts";
export { MAX_NODES } from "./_compiled.ts";
export { type BarDiagramOptions, barDiagramSvg, MAX_DRAWN_NODES } from "./svg.ts";
