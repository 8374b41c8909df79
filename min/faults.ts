/**
 * How many switch faults a network tolerates, and a smallest fault set that disconnects a pair.
 * Theorems 6.1–6.4: with `L` stages it tolerates at most `L - n` faults, exactly `L - n` when every
 * `n` consecutive masks span, and fewer otherwise; the exact value in that last case comes from a
 * branch-and-bound search for a minimum cut.
 * @module
 */

import { compile, type Compiled } from "./_compiled.ts";
import { cheapestPath, type Workspace, workspace } from "./_search.ts";
import { checkNetwork, labelOf } from "./labels.ts";
import { nonSpanningWindow } from "./masks.ts";
import { routingTag, spans } from "./span.ts";
import type { Cut, Label, Network, Switch } from "./types.ts";

/**
 * The largest `f` such that every pair of distinct nodes stays connected under any `f` faulty
 * switches; `-1` when some pair is not connected even without faults.
 *
 * Cost: when every `n` consecutive masks span, the answer is `masks.length - n` by theorems
 * 6.2–6.4 and costs only O(L·n²·(n + L)) digit operations, for networks of any size. Otherwise it
 * runs {@link minimumCut}, which enumerates the `t^n` nodes and is exponential in the answer.
 */
export function toleratedFaults(net: Network): number {
  checkNetwork(net);
  const { n, t, masks } = net;
  if (masks.length < n || !spans(masks, n, t)) return -1;
  if (nonSpanningWindow(net) === -1) return masks.length - n;
  return minimumCut(net).faults.length - 1;
}

/**
 * A smallest set of faulty switches that disconnects some pair, with that pair; its size is
 * `toleratedFaults(net) + 1` (empty faults when some pair is disconnected already). The source is
 * always node 0: translating every label by a vector maps switches to switches of the same stage,
 * so a cut between `a` and `b` moves to one between `0` and `b - a`.
 *
 * Method: an upper bound from the proof of theorem 6.3 — take the longest run of consecutive
 * stages whose masks do not span, fault the switches carrying the source before it and those
 * carrying the destination after it — then, for every destination `d`, a branch-and-bound search
 * for a smaller cut: some fault must hit the surviving path with the fewest switches in a mode ≠
 * 0, so branch on its switches (each branch forbids the switches earlier branches tried, so no
 * fault set is visited twice), and prune when greedily found disjoint paths outnumber the
 * remaining budget. When every `n` consecutive masks span, the bound is already optimal
 * (theorems 6.1–6.2) and no search runs, so any size of network works. Otherwise the cost is
 * O(t^n · b^k · k · L·t^n·t) in the worst case for a cut of size `k` with `b` switches per
 * branched path: milliseconds for t^n ≤ 256, about 10 s for n = 5, t = 5, 10 stages.
 */
export function minimumCut(net: Network): Cut {
  checkNetwork(net);
  const { n, t, masks } = net;
  const L = masks.length;
  const zero: Label = new Array<number>(n).fill(0);
  const outside = (window: readonly Label[]): Label | null => {
    for (let k = 0; k < n; k++) {
      const e = zero.map((_, j) => (j === k ? 1 : 0));
      if (routingTag(window, zero, e, t) === null) return e;
    }
    return null;
  };
  // Upper bound (proof of theorem 6.3): the longest window [j, j + w) of masks that does not span.
  let best: Cut | null = null;
  for (let j = 0; j <= L; j++) {
    let w = L - j;
    while (w >= 0 && spans(masks.slice(j, j + w), n, t)) w--;
    if (w < 0) continue;
    if (best !== null && L - w >= best.faults.length) continue;
    const d = outside(masks.slice(j, j + w));
    if (d === null) continue;
    const faults: Switch[] = [];
    for (let i = 0; i < j; i++) faults.push({ stage: i, node: zero });
    for (let i = j + w; i < L; i++) faults.push({ stage: i, node: d });
    best = { from: zero, to: d, faults };
  }
  if (best === null) throw new Error("unreachable: the empty window never spans");
  // Theorems 6.1–6.2: when every n consecutive masks span, f + 1 faults are needed and suffice.
  if (best.faults.length === 0 || nonSpanningWindow(net) === -1) return best;
  const c = compile(net);
  const N = c.N;
  const faulty = new Uint8Array(L * N);
  const free = new Uint8Array(L * N);
  const work = workspace(c);
  const units = Array.from({ length: t - 1 }, (_, k) => k + 1).filter((u) => gcd(u, t) === 1);
  for (let d = 1; d < N; d++) {
    // Multiplying every label by a unit u of Z_t maps each switch x + <m> to ux + <m>, a switch
    // of the same stage, so cut(0, d) = cut(0, u·d): search one destination per orbit.
    const digits = labelOf(d, n, t);
    if (units.some((u) => indexFromDigits(digits.map((x) => (x * u) % t), t) < d)) continue;
    for (;;) {
      const found = searchCut(c, d, best.faults.length - 1, faulty, free, work);
      if (found === null) break;
      best = {
        from: zero,
        to: labelOf(d, n, t),
        faults: found.sort((x, y) => x - y).map((key) => ({
          stage: Math.floor(key / N),
          node: labelOf(key % N, n, t),
        })),
      };
      if (best.faults.length === 0) return best;
    }
  }
  return best;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function indexFromDigits(d: Label, t: number): number {
  let x = 0;
  for (let k = d.length - 1; k >= 0; k--) x = x * t + d[k];
  return x;
}

/**
 * A set of at most `budget` switches (as keys `stage·N + switch`) that cuts node 0 from `d`, given
 * the switches already `faulty` and those that may not be chosen (`free`); null when none exists.
 * Restores `faulty` and `free` before returning.
 */
function searchCut(
  c: Compiled,
  d: number,
  budget: number,
  faulty: Uint8Array,
  free: Uint8Array,
  work: Workspace,
): number[] | null {
  const p = cheapestPath(c, 0, d, faulty, free, work);
  if (p === null) return [];
  if (p.cost === 0 || budget === 0) return null;
  if (disjointLowerBound(c, d, faulty, free, budget, work) > budget) return null;
  const candidates: number[] = [];
  for (let i = 0; i < c.L; i++) {
    const x = p.nodes[i];
    if (x === p.nodes[i + 1]) continue;
    const key = i * c.N + c.sw[i][x];
    if (free[key] === 0) candidates.push(key);
  }
  const forbidden: number[] = [];
  let result: number[] | null = null;
  for (const key of candidates) {
    faulty[key] = 1;
    const rest = searchCut(c, d, budget - 1, faulty, free, work);
    faulty[key] = 0;
    if (rest !== null) {
      result = [key, ...rest];
      break;
    }
    free[key] = 1;
    forbidden.push(key);
  }
  for (const key of forbidden) free[key] = 0;
  return result;
}

/**
 * Number of paths from 0 to `d` found greedily that share no choosable switch (stopping once it
 * exceeds `budget`); any cut needs one fault per such path. Infinity when a path uses only
 * switches that may not be chosen.
 */
function disjointLowerBound(
  c: Compiled,
  d: number,
  faulty: Uint8Array,
  free: Uint8Array,
  budget: number,
  work: Workspace,
): number {
  const used: number[] = [];
  let count = 0;
  try {
    while (count <= budget) {
      const p = cheapestPath(c, 0, d, faulty, free, work);
      if (p === null) break;
      if (p.cost === 0) return Infinity;
      count++;
      for (let i = 0; i < c.L; i++) {
        const x = p.nodes[i];
        if (x === p.nodes[i + 1]) continue;
        const key = i * c.N + c.sw[i][x];
        if (free[key] === 0 && faulty[key] === 0) {
          faulty[key] = 1;
          used.push(key);
        }
      }
    }
    return count;
  } finally {
    for (const key of used) faulty[key] = 0;
  }
}
