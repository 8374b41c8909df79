/**
 * Routing under faults by exhaustive search of the bar diagram (not only among the `f + 1`
 * constructed paths), and whole-network connectivity.
 * @module
 */

import { compile, faultTable, nodeIndex, toPath } from "./_compiled.ts";
import { cheapestPath, reachBlocks } from "./_search.ts";
import type { Label, Network, Path, Switch } from "./types.ts";

/**
 * A path from `a` to `b` that uses no faulty switch with a mode ≠ 0, or `null` when none exists.
 * Exhaustive: a dynamic program over (stage, node) finds a path whenever one exists, and returns
 * one using the fewest switches in a mode ≠ 0. Cost O(L·t^n·t) time, O(L·t^n) memory.
 */
export function route(net: Network, a: Label, b: Label, faults: readonly Switch[] = []): Path | null {
  const c = compile(net);
  const from = nodeIndex(c, a, "'a'");
  const to = nodeIndex(c, b, "'b'");
  const found = cheapestPath(c, from, to, faultTable(c, faults));
  return found === null ? null : toPath(c, found.nodes);
}

/**
 * Whether every ordered pair of nodes has a path avoiding the faulty switches. Propagates, stage
 * by stage, the set of sources that can be at each node as a bitset: O(L·t^n·t·t^n/32) word
 * operations (about 50 M for t^n = 3125 and 10 stages).
 */
export function isConnected(net: Network, faults: readonly Switch[] = []): boolean {
  const c = compile(net);
  const faulty = faultTable(c, faults);
  return reachBlocks(c, faulty, (lo, hi, reach, W) => {
    const full = new Uint32Array(W);
    for (let x = lo; x < hi; x++) full[(x - lo) >>> 5] |= 1 << ((x - lo) & 31);
    for (let y = 0; y < c.N; y++) {
      for (let w = 0; w < W; w++) if (reach[y * W + w] !== full[w]) return false;
    }
    return true;
  });
}
