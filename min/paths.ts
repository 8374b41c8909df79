/**
 * Paths through the bar diagram: checking them, the switches they occupy, disjointness, and the
 * `f + 1` mutually disjoint paths of theorems 6.2–6.4. Works on labels directly, so it needs no
 * enumeration of the `t^n` nodes and runs on networks of any size.
 * @module
 */

import { MinConditionError } from "./errors.ts";
import { addScaled, checkLabel, checkNetwork, formatLabel } from "./labels.ts";
import { nonSpanningWindow } from "./masks.ts";
import { routingTag } from "./span.ts";
import type { Label, Network, Path, Switch } from "./types.ts";

/**
 * The canonical name of the switch of stage `stage` carrying `node`: the lexicographically
 * smallest (most significant digit first) node of the coset `node + <mask>`, as a string key.
 */
export function switchKey(net: Network, sw: Switch): string {
  if (!Number.isInteger(sw?.stage) || sw.stage < 0 || sw.stage >= net.masks.length) {
    throw new RangeError(
      `switch stage must be an integer in 0..${net.masks.length - 1}, got ${String(sw?.stage)}`,
    );
  }
  checkLabel(sw.node, net.n, net.t, "switch node");
  const m = net.masks[sw.stage];
  let best: number[] = [...sw.node];
  for (let s = 1; s < net.t; s++) {
    const y = addScaled(sw.node, m, s, net.t);
    if (compareMsbFirst(y, best) < 0) best = y;
  }
  return `${sw.stage}:${best.join(",")}`;
}

function compareMsbFirst(a: Label, b: Label): number {
  for (let k = a.length - 1; k >= 0; k--) if (a[k] !== b[k]) return a[k] - b[k];
  return 0;
}

/** Whether two switch values name the same switch (same stage, nodes differ by a multiple of its mask). */
export function sameSwitch(net: Network, a: Switch, b: Switch): boolean {
  return switchKey(net, a) === switchKey(net, b);
}

/** Options of {@link pathError}. */
export interface PathCheck {
  /** Required source. */
  from?: Label;
  /** Required destination. */
  to?: Label;
  /** Faulty switches the path must not use with a mode ≠ 0. @default [] */
  faults?: readonly Switch[];
}

/**
 * Why `path` is not a valid path of `net` (wrong lengths, a digit or mode out of range, a step
 * that does not follow its mode, wrong endpoints, or a mode ≠ 0 at a faulty switch), or `null`
 * when it is valid.
 */
export function pathError(net: Network, path: Path, check: PathCheck = {}): string | null {
  checkNetwork(net);
  const { n, t, masks } = net;
  const L = masks.length;
  if (!Array.isArray(path?.modes) || !Array.isArray(path?.nodes)) return "path needs modes[] and nodes[]";
  if (path.modes.length !== L) return `modes.length is ${path.modes.length}, expected ${L}`;
  if (path.nodes.length !== L + 1) return `nodes.length is ${path.nodes.length}, expected ${L + 1}`;
  for (let i = 0; i <= L; i++) {
    try {
      checkLabel(path.nodes[i], n, t, `nodes[${i}]`);
    } catch (e) {
      return (e as Error).message;
    }
  }
  const faulty = new Set((check.faults ?? []).map((f) => switchKey(net, f)));
  for (let i = 0; i < L; i++) {
    const s = path.modes[i];
    if (!Number.isInteger(s) || s < 0 || s >= t) {
      return `mode at stage ${i} must be an integer in 0..${t - 1}`;
    }
    const expected = addScaled(path.nodes[i], masks[i], s, t);
    if (compareMsbFirst(expected, path.nodes[i + 1]) !== 0) {
      return `stage ${i}: mode ${s} takes ${formatLabel(path.nodes[i], t)} to ${
        formatLabel(expected, t)
      }, not ${formatLabel(path.nodes[i + 1], t)}`;
    }
    if (s !== 0 && faulty.has(switchKey(net, { stage: i, node: path.nodes[i] }))) {
      return `stage ${i}: mode ${s} at the faulty switch carrying ${formatLabel(path.nodes[i], t)}`;
    }
  }
  if (check.from !== undefined && compareMsbFirst(check.from, path.nodes[0]) !== 0) {
    return `starts at ${formatLabel(path.nodes[0], t)}, expected ${formatLabel(check.from, t)}`;
  }
  if (check.to !== undefined && compareMsbFirst(check.to, path.nodes[L]) !== 0) {
    return `ends at ${formatLabel(path.nodes[L], t)}, expected ${formatLabel(check.to, t)}`;
  }
  return null;
}

/** The switches `path` uses with a mode ≠ 0 — the only ones whose fault can break it. */
export function activeSwitches(path: Path): Switch[] {
  const used: Switch[] = [];
  path.modes.forEach((s, i) => {
    if (s !== 0) used.push({ stage: i, node: path.nodes[i] });
  });
  return used;
}

/** Whether no switch is used with a mode ≠ 0 by two of `paths`. */
export function areDisjoint(net: Network, paths: readonly Path[]): boolean {
  const seen = new Set<string>();
  for (const p of paths) {
    for (const key of new Set(activeSwitches(p).map((sw) => switchKey(net, sw)))) {
      if (seen.has(key)) return false;
      seen.add(key);
    }
  }
  return true;
}

/** Path that follows `modes` from `from`. */
function follow(net: Network, from: Label, modes: readonly number[]): Path {
  const nodes: Label[] = [from];
  modes.forEach((s, i) => nodes.push(addScaled(nodes[i], net.masks[i], s, net.t)));
  return { modes, nodes };
}

/**
 * The `f + 1` mutually disjoint paths from `a` to `b` (`f = masks.length - n`) built in the proof
 * of theorem 6.2, in the `t × t` form of theorem 6.4. Path `i < f` goes straight until stage `i`,
 * takes a mode ≠ 0 there — the first routing-tag digit `c_i` of `b - a` over stages `i..i+n-1`
 * when it is nonzero, else mode 1 — and reaches `b` by the routing tag over stages `i+1..i+n`;
 * path `f` goes straight for `f` stages and routes over the last `n`. (The thesis allows any
 * mode ≠ 0 when `c_i = 0`; mode 1 keeps the disjointness argument simple for composite `t`,
 * where it needs the coordinate this creates to be a unit.)
 *
 * When `a` equals `b` the all-straight path uses no switch, so it is disjoint from itself; it is
 * returned `f + 1` times so the result always has `f + 1` entries.
 *
 * Needs no enumeration of nodes: O(f·n²·(n + t)) digit operations.
 * @throws {MinConditionError} when some `n` consecutive masks do not span Z_t^n or there are
 * fewer than `n` stages.
 */
export function disjointPaths(net: Network, a: Label, b: Label): Path[] {
  checkNetwork(net);
  const { n, t, masks } = net;
  checkLabel(a, n, t, "'a'");
  checkLabel(b, n, t, "'b'");
  const bad = nonSpanningWindow(net);
  if (bad === -2) {
    throw new MinConditionError(
      -1,
      `the network has ${masks.length} stages, fewer than n = ${n}; it cannot connect every pair`,
    );
  }
  if (bad >= 0) {
    throw new MinConditionError(
      bad,
      `the masks of stages ${bad}..${
        bad + n - 1
      } do not span Z_${t}^${n}, so the f + 1 disjoint paths of theorem 6.4 do not exist in general`,
    );
  }
  const L = masks.length;
  const f = L - n;
  if (compareMsbFirst(a, b) === 0) {
    return Array.from({ length: f + 1 }, () => follow(net, a, new Array<number>(L).fill(0)));
  }
  const tag = (from: Label, start: number): number[] => {
    const c = routingTag(masks.slice(start, start + n), from, b, t);
    if (c === null) throw new Error("unreachable: a spanning window always decomposes");
    return c;
  };
  const paths: Path[] = [];
  for (let i = 0; i < f; i++) {
    const modes = new Array<number>(L).fill(0);
    const ci = tag(a, i)[0];
    modes[i] = ci !== 0 ? ci : 1;
    const after = addScaled(a, masks[i], modes[i], t);
    tag(after, i + 1).forEach((c, k) => (modes[i + 1 + k] = c));
    paths.push(follow(net, a, modes));
  }
  const last = new Array<number>(L).fill(0);
  tag(a, f).forEach((c, k) => (last[f + k] = c));
  paths.push(follow(net, a, last));
  return paths;
}
