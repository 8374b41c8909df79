/**
 * Broadcast under faults (end of thesis section 5.3): paths from one source to every other node
 * that a single setting of the switches can carry at once. A switch is in a legal setting when all
 * tree paths through it use the same mode `s` (a permutation setting), or all of them enter it
 * from one input (a broadcast of that input).
 * @module
 */

import { compile, type Compiled, faultTable, modeBetween, nodeIndex, toPath } from "./_compiled.ts";
import { labelOf } from "./labels.ts";
import { pathError, switchKey } from "./paths.ts";
import type { Label, Network, Path, Switch } from "./types.ts";

const INF = 0x3fffffff;

/**
 * Paths from `source` to every other node (in node-index order, so `paths[k]` ends at the k-th
 * node other than `source`) that survive `faults` and form a consistent broadcast, or `null` when
 * some node cannot be reached.
 *
 * Built in two steps. First a shortest-path tree of the bar diagram from `source` (each path uses
 * the fewest switches in a mode ≠ 0). Then the thesis's "collapse", stage by stage from the first:
 * at a switch entered from several inputs with different modes, every path is rerouted to follow
 * the prefix of one path entering from the chosen input, then leaves by the mode that reaches its
 * old output — possible because all inputs and outputs of a switch differ by multiples of its
 * mask. The new prefix is one that already survives, and removing paths from a legal switch keeps
 * it legal, so earlier stages stay legal. A faulty switch is never collapsed: surviving paths all
 * go straight through it, which is the single legal mode 0. So a tree exists exactly when every
 * node is reachable. Cost O(L·t^n·(t + L)).
 */
export function broadcastTree(net: Network, source: Label, faults: readonly Switch[] = []): Path[] | null {
  const c = compile(net);
  const src = nodeIndex(c, source, "'source'");
  const faulty = faultTable(c, faults);
  const { L, N, t } = c;
  // Shortest-path tree: pred[i·N + x] is the node before stage i-1 on the path to x.
  const pred = new Int32Array((L + 1) * N).fill(-1);
  let dist = new Int32Array(N).fill(INF);
  dist[src] = 0;
  for (let i = 0; i < L; i++) {
    const next = new Int32Array(N).fill(INF);
    for (let x = 0; x < N; x++) {
      if (dist[x] === INF) continue;
      const limit = faulty[i * N + c.sw[i][x]] === 1 ? 1 : c.ord[i];
      for (let s = 0; s < limit; s++) {
        const y = c.step[i][x * t + s];
        const dy = dist[x] + (s === 0 ? 0 : 1);
        if (dy < next[y]) {
          next[y] = dy;
          pred[(i + 1) * N + y] = x;
        }
      }
    }
    dist = next;
  }
  const routes: Int32Array[] = [];
  for (let y = 0; y < N; y++) {
    if (y === src) continue;
    if (dist[y] === INF) return null;
    const nodes = new Int32Array(L + 1);
    nodes[L] = y;
    for (let i = L; i > 0; i--) nodes[i - 1] = pred[i * N + nodes[i]];
    routes.push(nodes);
  }
  for (let i = 0; i < L; i++) collapseStage(c, i, routes);
  return routes.map((nodes) => toPath(c, nodes));
}

/** Makes every switch of stage `i` legal by rerouting paths onto one input (the collapse step). */
function collapseStage(c: Compiled, i: number, routes: Int32Array[]): void {
  const bySwitch = new Map<number, Int32Array[]>();
  for (const r of routes) {
    const key = c.sw[i][r[i]];
    const group = bySwitch.get(key);
    if (group === undefined) bySwitch.set(key, [r]);
    else group.push(r);
  }
  for (const group of bySwitch.values()) {
    const inputs = new Map<number, Int32Array[]>();
    const modes = new Set<number>();
    for (const r of group) {
      modes.add(modeBetween(c, i, r[i], r[i + 1]));
      const same = inputs.get(r[i]);
      if (same === undefined) inputs.set(r[i], [r]);
      else same.push(r);
    }
    if (inputs.size === 1 || modes.size === 1) continue;
    // Keep the input most paths already use, so the fewest prefixes change.
    let keep: Int32Array[] = [];
    for (const same of inputs.values()) if (same.length > keep.length) keep = same;
    const leader = keep[0];
    for (const r of group) {
      if (r[i] === leader[i]) continue;
      for (let k = 0; k <= i; k++) r[k] = leader[k];
    }
  }
}

/**
 * Why `paths` is not a valid broadcast tree of `net` from `source` under `faults` — a node other
 * than `source` missing or reached twice, an invalid or broken path, or a switch no legal setting
 * can carry (two paths entering it from different inputs with different modes) — or `[]` when it
 * is one.
 */
export function broadcastProblems(
  net: Network,
  source: Label,
  faults: readonly Switch[],
  paths: readonly Path[],
): string[] {
  const problems: string[] = [];
  const { n, t } = net;
  const reached = new Map<string, number>();
  const settings = new Map<string, { inputs: Set<string>; modes: Set<number> }>();
  paths.forEach((p, k) => {
    const err = pathError(net, p, { from: source, faults });
    if (err !== null) {
      problems.push(`path ${k}: ${err}`);
      return;
    }
    const to = p.nodes[p.nodes.length - 1].join(",");
    reached.set(to, (reached.get(to) ?? 0) + 1);
    p.modes.forEach((s, i) => {
      const key = switchKey(net, { stage: i, node: p.nodes[i] });
      const st = settings.get(key) ?? { inputs: new Set<string>(), modes: new Set<number>() };
      st.inputs.add(p.nodes[i].join(","));
      st.modes.add(s);
      settings.set(key, st);
    });
  });
  for (const [key, st] of settings) {
    if (st.inputs.size > 1 && st.modes.size > 1) {
      problems.push(
        `switch ${key}: entered from ${st.inputs.size} inputs with ${st.modes.size} different modes`,
      );
    }
  }
  const src = source.join(",");
  for (let x = 0; x < t ** n; x++) {
    const key = labelOf(x, n, t).join(",");
    if (key === src) continue;
    const count = reached.get(key) ?? 0;
    if (count !== 1) problems.push(`node ${key} reached ${count} times`);
  }
  return problems;
}
