/**
 * The runnable example of docs/min.md: `node --import tsx examples/min/quickstart.ts`
 * (or `deno run examples/min/quickstart.ts`).
 */
import {
  broadcastTree,
  cyclicMasks,
  disjointPaths,
  formatLabel,
  parseLabel,
  route,
  toleratedFaults,
} from "../../min/mod.ts";

// The (3, 4) cyclic network of thesis figure 27: masks 001 010 100 001 010 100 001.
const net = { n: 3, t: 2, masks: cyclicMasks(3, 4) };
console.log("tolerated faults:", toleratedFaults(net)); // 4 = 7 stages - 3

const a = parseLabel("000", 3, 2);
const b = parseLabel("110", 3, 2);
for (const p of disjointPaths(net, a, b)) {
  console.log("modes", p.modes.join(""), "nodes", p.nodes.map((x) => formatLabel(x, 2)).join(" "));
}

// Four faulty switches (stuck straight): those carrying 000 in stages 1–4 (0-based 0–3).
const faults = [0, 1, 2, 3].map((stage) => ({ stage, node: a }));
const p = route(net, a, b, faults);
console.log("route under 4 faults:", p === null ? "none" : p.modes.join(""));
console.log("broadcast tree paths:", broadcastTree(net, a, faults)?.length); // 7
