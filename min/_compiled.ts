/**
 * Internal: a network compiled to integer tables so that searches over all `t^n` nodes run on
 * typed arrays instead of digit arrays. Built per call (O(L·t^n·t·n)); nothing is cached, so every
 * public function stays a pure function of its arguments.
 * @module
 */

import { checkLabel, checkNetwork, indexOf, labelOf } from "./labels.ts";
import type { Label, Network, Path, Switch } from "./types.ts";

/** Largest node count `t^n` for the functions that enumerate nodes. */
export const MAX_NODES = 1 << 20;

/** Integer form of a network. */
export interface Compiled {
  /** Dimension. */
  readonly n: number;
  /** Switch size. */
  readonly t: number;
  /** Number of stages. */
  readonly L: number;
  /** Number of nodes, `t^n`. */
  readonly N: number;
  /** Mask order per stage: modes `0..ord-1` reach distinct nodes, mode `ord` equals mode 0. */
  readonly ord: Int32Array;
  /** `step[i][x·t + s]` = index of `x + s·masks[i]`. */
  readonly step: Int32Array[];
  /** `sw[i][x]` = the switch of stage `i` carrying node `x`, named by its smallest node index. */
  readonly sw: Int32Array[];
}

/** Compiles `net`; throws RangeError when it has more than {@link MAX_NODES} nodes. */
export function compile(net: Network): Compiled {
  checkNetwork(net);
  const { n, t, masks } = net;
  const N = t ** n;
  if (N > MAX_NODES) {
    throw new RangeError(`t^n = ${N} nodes exceeds ${MAX_NODES}; this function enumerates nodes`);
  }
  const L = masks.length;
  const ord = new Int32Array(L);
  const step: Int32Array[] = [];
  const sw: Int32Array[] = [];
  const pow = Array.from({ length: n }, (_, k) => t ** k);
  const digits = new Int32Array(N * n);
  for (let x = 0; x < N; x++) {
    let r = x;
    for (let k = 0; k < n; k++) {
      digits[x * n + k] = r % t;
      r = Math.floor(r / t);
    }
  }
  for (let i = 0; i < L; i++) {
    const m = masks[i];
    // Order of m in Z_t^n: t / gcd(t, m_0, …, m_{n-1}).
    let g = t;
    for (const d of m) g = gcd(g, d);
    ord[i] = t / g;
    const table = new Int32Array(N * t);
    const sws = new Int32Array(N);
    for (let x = 0; x < N; x++) {
      let least = x;
      for (let s = 0; s < t; s++) {
        let y = 0;
        for (let k = 0; k < n; k++) y += ((digits[x * n + k] + s * m[k]) % t) * pow[k];
        table[x * t + s] = y;
        if (y < least) least = y;
      }
      sws[x] = least;
    }
    step.push(table);
    sw.push(sws);
  }
  return { n, t, L, N, ord, step, sw };
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Index of a checked label. */
export function nodeIndex(c: Compiled, label: Label, what: string): number {
  checkLabel(label, c.n, c.t, what);
  return indexOf(label, c.t);
}

/**
 * Faulty switches as a flag per (stage, switch): `faulty[i·N + sw]`. Checks every fault names a
 * stage of the network and a valid node.
 */
export function faultTable(c: Compiled, faults: readonly Switch[]): Uint8Array {
  if (!Array.isArray(faults)) throw new TypeError("'faults' must be an array of { stage, node }");
  const faulty = new Uint8Array(c.L * c.N);
  faults.forEach((f, k) => {
    if (!Number.isInteger(f?.stage) || f.stage < 0 || f.stage >= c.L) {
      throw new RangeError(`fault ${k}: stage must be an integer in 0..${c.L - 1}, got ${String(f?.stage)}`);
    }
    const x = nodeIndex(c, f.node, `fault ${k} node`);
    faulty[f.stage * c.N + c.sw[f.stage][x]] = 1;
  });
  return faulty;
}

/** The public {@link Path} of a sequence of node indices (modes are the smallest that fit). */
export function toPath(c: Compiled, nodes: ArrayLike<number>): Path {
  const modes: number[] = [];
  for (let i = 0; i < c.L; i++) modes.push(modeBetween(c, i, nodes[i], nodes[i + 1]));
  return { modes, nodes: Array.from(nodes, (x) => labelOf(x, c.n, c.t)) };
}

/** The smallest mode taking `x` to `y` at stage `i`, or -1 when they are not on one switch. */
export function modeBetween(c: Compiled, i: number, x: number, y: number): number {
  const row = c.step[i];
  for (let s = 0; s < c.ord[i]; s++) if (row[x * c.t + s] === y) return s;
  return -1;
}

/** A switch value for stage `i`, carrying node index `sw` (its canonical node). */
export function toSwitch(c: Compiled, i: number, x: number): Switch {
  return { stage: i, node: labelOf(c.sw[i][x], c.n, c.t) };
}
