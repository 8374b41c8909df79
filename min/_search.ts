/**
 * Internal: searches over the layered graph of a compiled network — (stage, node) vertices, an
 * edge per usable mode. Straight edges (mode 0) are always usable; the others are lost when
 * their switch is faulty.
 * @module
 */

import type { Compiled } from "./_compiled.ts";

const INF = 0x3fffffff;

/** Scratch arrays of {@link cheapestPath}, reusable across calls on one compiled network. */
export interface Workspace {
  pred: Int32Array;
  a: Int32Array;
  b: Int32Array;
}

/** Fresh scratch arrays for `c`. */
export function workspace(c: Compiled): Workspace {
  return { pred: new Int32Array((c.L + 1) * c.N), a: new Int32Array(c.N), b: new Int32Array(c.N) };
}

/**
 * The path from `from` to `to` that uses the fewest switches with a mode ≠ 0, avoiding faulty
 * switches; a switch flagged in `free` costs nothing (the cut search uses that for switches it
 * has decided never to break). Returns the node index after each stage, or null. O(L·N·t).
 */
export function cheapestPath(
  c: Compiled,
  from: number,
  to: number,
  faulty: Uint8Array,
  free?: Uint8Array,
  work: Workspace = workspace(c),
): { nodes: Int32Array; cost: number } | null {
  const { L, N, t } = c;
  const pred = work.pred;
  let dist = work.a.fill(INF);
  let next = work.b;
  let frontier = [from];
  dist[from] = 0;
  for (let i = 0; i < L; i++) {
    next.fill(INF);
    const nextFrontier: number[] = [];
    const row = c.step[i];
    const sws = c.sw[i];
    const ord = c.ord[i];
    for (const x of frontier) {
      const d = dist[x];
      const key = i * N + sws[x];
      const broken = faulty[key] === 1;
      const w = free !== undefined && free[key] === 1 ? 0 : 1;
      for (let s = 0; s < ord; s++) {
        if (s > 0 && broken) break;
        const y = row[x * t + s];
        const dy = d + (s === 0 ? 0 : w);
        if (dy < next[y]) {
          if (next[y] === INF) nextFrontier.push(y);
          next[y] = dy;
          pred[(i + 1) * N + y] = x;
        }
      }
    }
    [dist, next] = [next, dist];
    frontier = nextFrontier;
  }
  if (dist[to] === INF) return null;
  const nodes = new Int32Array(L + 1);
  nodes[L] = to;
  for (let i = L; i > 0; i--) nodes[i - 1] = pred[i * N + nodes[i]];
  return { nodes, cost: dist[to] };
}

/**
 * For every destination, the set of sources that reach it under `faulty`, as bitsets over a block
 * of sources `[lo, lo + 32·W)`; calls `visit(dest, words)` after the last stage. Cost per block
 * O(L·N·t·W) word operations: all N sources take O(L·N²·t/32).
 */
export function reachBlocks(
  c: Compiled,
  faulty: Uint8Array,
  visit: (lo: number, hi: number, reach: Uint32Array, W: number) => boolean,
): boolean {
  const { L, N, t } = c;
  const blockBits = Math.min(N, 4096);
  for (let lo = 0; lo < N; lo += blockBits) {
    const hi = Math.min(N, lo + blockBits);
    const W = Math.ceil((hi - lo) / 32);
    let reach = new Uint32Array(N * W);
    for (let x = lo; x < hi; x++) reach[x * W + ((x - lo) >>> 5)] |= 1 << ((x - lo) & 31);
    for (let i = 0; i < L; i++) {
      const next = new Uint32Array(N * W);
      const row = c.step[i];
      const sws = c.sw[i];
      const ord = c.ord[i];
      for (let x = 0; x < N; x++) {
        const base = x * W;
        let any = 0;
        for (let w = 0; w < W; w++) any |= reach[base + w];
        if (any === 0) continue;
        const limit = faulty[i * N + sws[x]] === 1 ? 1 : ord;
        for (let s = 0; s < limit; s++) {
          const yb = row[x * t + s] * W;
          for (let w = 0; w < W; w++) next[yb + w] |= reach[base + w];
        }
      }
      reach = next;
    }
    if (!visit(lo, hi, reach, W)) return false;
  }
  return true;
}
