/**
 * Sequential consistency across keys, as Elle checks it with a known version order: a graph whose
 * nodes are the acknowledged operations and whose edges are the orders every sequential execution
 * must respect — each process's own order (real time within the process), the version order of each
 * key (ww), a read after the write it read (wr), and a read before the write that replaced what it
 * read (rw, the anti-dependency). The history is sequentially consistent exactly when the graph has
 * no cycle (registers with a known version order per key). Set elements are registers too: an add
 * writes an element, a read of the set reads every element (present or not yet added).
 * @module
 */
import type { HistoryOp, OpHistory, Version } from "../gdm/op_history.ts";
import type { Anomaly } from "./anomaly.ts";
import { compareVersions, precedes, showOp, versionKey } from "./versions.ts";

/** Version order of one key: writers by version, and reads by the version they saw. */
interface KeyOrder {
  versions: Map<string, { version: Version; writer?: number }>;
  reads: Array<{ node: number; version: Version }>;
}

/** Finds a cycle; reports the first one found. */
export function checkSequential(h: OpHistory, out: Anomaly[]): void {
  const nodes: HistoryOp[] = [];
  const keys = new Map<string, KeyOrder>();
  const key = (k: string) => {
    let o = keys.get(k);
    if (o === undefined) keys.set(k, o = { versions: new Map(), reads: [] });
    return o;
  };
  const writerOfValue = new Map<string, number>();
  const node = (op: HistoryOp) => nodes.push(op) - 1;
  for (const op of h.ops) {
    if (op.f === "write" || op.f === "cas") {
      if (op.outcome === "fail") continue;
      const n = node(op);
      if (op.value !== null) writerOfValue.set(`${op.key}\u0000${op.value}`, n);
      if (op.outcome === "ok" && op.version !== undefined && op.version !== null) {
        key(op.key).versions.set(versionKey(op.version), { version: op.version, writer: n });
      }
    } else if (op.f === "add") {
      if (op.outcome === "fail") continue;
      const n = node(op);
      writerOfValue.set(`${op.set}/${op.element}\u0000present`, n);
      key(`${op.set}/${op.element}`).versions.set("present", { version: [1, "present"], writer: n });
    }
  }
  for (const op of h.ops) {
    if (op.outcome !== "ok") continue;
    if (op.f === "read" && op.version !== undefined) {
      const n = node(op);
      const o = key(op.key);
      o.reads.push({ node: n, version: op.version });
      if (op.version !== null && !o.versions.has(versionKey(op.version))) {
        // A version only reads show: its writer is the write of that value (one whose outcome was unknown).
        const w = op.value === null ? undefined : writerOfValue.get(`${op.key}\u0000${op.value}`);
        o.versions.set(versionKey(op.version), { version: op.version, writer: w });
      }
    } else if (op.f === "read-set") {
      const n = node(op);
      const seen = new Set(op.elements ?? []);
      for (const [k, o] of keys) {
        if (!k.startsWith(`${op.set}/`)) continue;
        o.reads.push({ node: n, version: seen.has(k.slice(op.set.length + 1)) ? [1, "present"] : null });
      }
    }
  }
  const edges: number[][] = nodes.map(() => []);
  // Each process's order.
  const byProcess = new Map<string, number[]>();
  nodes.forEach((op, i) => byProcess.set(op.process, [...(byProcess.get(op.process) ?? []), i]));
  for (const list of byProcess.values()) {
    for (const a of list) for (const b of list) if (precedes(nodes[a], nodes[b])) edges[a].push(b);
  }
  // Version orders, reads after their writes, reads before the write that replaced what they read.
  for (const o of keys.values()) {
    const order = [...o.versions.values()].sort((a, b) => compareVersions(a.version, b.version));
    for (let i = 0; i + 1 < order.length; i++) {
      const [a, b] = [order[i].writer, order[i + 1].writer];
      if (a !== undefined && b !== undefined) edges[a].push(b);
    }
    for (const r of o.reads) {
      const at = order.findIndex((v) => compareVersions(v.version, r.version) === 0);
      if (r.version !== null && at >= 0 && order[at].writer !== undefined) {
        edges[order[at].writer!].push(r.node);
      }
      const next = r.version === null
        ? order[0]
        : order.find((v) => compareVersions(v.version, r.version) > 0);
      if (next?.writer !== undefined) edges[r.node].push(next.writer);
    }
  }
  const cycle = findCycle(edges);
  if (cycle !== undefined) {
    out.push({
      kind: "cycle",
      detail: `not sequentially consistent: ${cycle.map((i) => showOp(nodes[i])).join(" → ")} → back`,
    });
  }
}

/** A cycle of the graph (node indices), or undefined; iterative, so large histories do not overflow. */
export function findCycle(edges: readonly number[][]): number[] | undefined {
  const state = new Uint8Array(edges.length); // 0 new, 1 on the stack, 2 done
  const parent = new Int32Array(edges.length).fill(-1);
  for (let root = 0; root < edges.length; root++) {
    if (state[root] !== 0) continue;
    const stack: Array<[number, number]> = [[root, 0]];
    state[root] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const [v, i] = top;
      if (i >= edges[v].length) {
        state[v] = 2;
        stack.pop();
        continue;
      }
      top[1]++;
      const w = edges[v][i];
      if (state[w] === 1) {
        const cycle = [w];
        for (let u = v; u !== w && u >= 0; u = parent[u]) cycle.push(u);
        return cycle.reverse().slice(0, 12);
      }
      if (state[w] === 0) {
        state[w] = 1;
        parent[w] = v;
        stack.push([w, 0]);
      }
    }
  }
  return undefined;
}
