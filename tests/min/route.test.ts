/**
 * Exhaustive routing, connectivity and broadcast under faults, against brute force.
 */
import { describe, expect, it } from "vitest";
import {
  broadcastProblems,
  broadcastTree,
  isConnected,
  type Network,
  pathError,
  route,
  type Switch,
} from "../../min/mod.ts";
import type { Random } from "../../base/random.ts";
import {
  add,
  allLabels,
  allSwitches,
  cases,
  checkPathBrute,
  key,
  pathExistsByEnumeration,
  randomGeneralizedCyclic,
  randomLabel,
  randomNetwork,
  reachable,
  switchId,
} from "./_helpers.ts";

/** A random network (half of them generalized cyclic) with t^(stages) small enough to enumerate. */
function smallNet(rng: Random): Network {
  for (;;) {
    const t = rng.pick([2, 3, 4, 5]);
    const n = rng.between(1, 3);
    const stages = rng.between(1, n + 3);
    if (t ** stages > 20000 || t ** n > 125) continue;
    return rng.chance(0.5) && stages >= n
      ? randomGeneralizedCyclic(rng, n, stages - n, t)
      : randomNetwork(rng, n, stages, t);
  }
}

/** Random faults: some uniform, some on the switches a path from `a` would use. */
function randomFaults(rng: Random, net: Network, a: number[]): Switch[] {
  const switches = allSwitches(net);
  const faults: Switch[] = [];
  const count = rng.between(0, Math.min(6, net.masks.length + 1));
  for (let k = 0; k < count; k++) {
    faults.push(rng.chance(0.5) ? rng.pick(switches) : { stage: rng.int(net.masks.length), node: a });
  }
  return faults;
}

describe("route", () => {
  it("finds a surviving path exactly when enumerating every mode sequence does", () => {
    let found = 0;
    let none = 0;
    cases("route", 250, (rng) => {
      const net = smallNet(rng);
      const a = randomLabel(rng, net.n, net.t);
      const b = randomLabel(rng, net.n, net.t);
      const faults = randomFaults(rng, net, a);
      const p = route(net, a, b, faults);
      expect(p !== null).toBe(pathExistsByEnumeration(net, a, b, faults));
      if (p !== null) {
        found++;
        expect(checkPathBrute(net, p, a, b, faults)).toBeNull();
        expect(pathError(net, p, { from: a, to: b, faults })).toBeNull();
      } else none++;
    });
    expect(found).toBeGreaterThan(50);
    expect(none).toBeGreaterThan(20);
  });

  it("pathError reports a mode ≠ 0 at a faulty switch, wrong steps and wrong endpoints", () => {
    const net = { n: 2, t: 2, masks: [[1, 0], [0, 1]] };
    const p = route(net, [0, 0], [1, 1])!;
    expect(p.modes).toEqual([1, 1]);
    expect(pathError(net, p, { faults: [{ stage: 1, node: [1, 1] }] })).toMatch(/faulty switch/);
    expect(pathError(net, p, { to: [0, 1] })).toMatch(/ends at/);
    expect(pathError(net, { ...p, modes: [0, 1] })).toMatch(/stage 0/);
    expect(route(net, [0, 0], [1, 1], [{ stage: 0, node: [1, 0] }])).toBeNull(); // same switch as node 00
    expect(() => route(net, [0, 0], [1, 1], [{ stage: 2, node: [0, 0] }])).toThrow(RangeError);
    expect(() => pathError(net, p, { faults: [{ stage: 5, node: [0, 0] }] })).toThrow(/stage must be/);
  });
});

describe("isConnected", () => {
  it("agrees with brute-force reachability from every node", () => {
    cases("isConnected", 150, (rng) => {
      const net = smallNet(rng);
      const faults = randomFaults(rng, net, randomLabel(rng, net.n, net.t));
      const N = net.t ** net.n;
      const brute = allLabels(net.n, net.t).every((a) => reachable(net, a, faults).size === N);
      expect(isConnected(net, faults)).toBe(brute);
    });
  });
});

/** Independent broadcast check: coverage, survival, and one legal setting per switch. */
function checkBroadcast(
  net: Network,
  source: number[],
  faults: Switch[],
  paths: NonNullable<ReturnType<typeof broadcastTree>>,
): void {
  const others = allLabels(net.n, net.t).filter((x) => key(x) !== key(source));
  expect(paths.map((p) => key(p.nodes[p.nodes.length - 1]))).toEqual(others.map(key));
  const settings = new Map<
    string,
    { inputs: Set<string>; outputsBy: Map<string, Set<string>>; modes: Set<string> }
  >();
  for (const p of paths) {
    expect(checkPathBrute(net, p, source, p.nodes[p.nodes.length - 1], faults)).toBeNull();
    p.modes.forEach((s, i) => {
      const id = switchId(net, { stage: i, node: p.nodes[i] });
      const st = settings.get(id) ?? { inputs: new Set(), outputsBy: new Map(), modes: new Set() };
      st.inputs.add(key(p.nodes[i]));
      // A mode is the displacement it causes: compare displacements, not mode numbers.
      st.modes.add(key(add(p.nodes[i + 1], p.nodes[i], -1, net.t)));
      settings.set(id, st);
      void s;
    });
  }
  for (const [id, st] of settings) {
    expect(st.inputs.size === 1 || st.modes.size === 1, `switch ${id} has no legal setting`).toBe(true);
  }
}

describe("broadcastTree", () => {
  it("is a valid broadcast whenever every node is reachable, null otherwise", () => {
    let trees = 0;
    let nulls = 0;
    cases("broadcast", 200, (rng) => {
      const net = smallNet(rng);
      const source = randomLabel(rng, net.n, net.t);
      const faults = randomFaults(rng, net, source);
      const tree = broadcastTree(net, source, faults);
      const reach = reachable(net, source, faults);
      expect(tree !== null).toBe(reach.size === net.t ** net.n);
      if (tree !== null) {
        trees++;
        checkBroadcast(net, source, faults, tree);
        expect(broadcastProblems(net, source, faults, tree)).toEqual([]);
      } else nulls++;
    });
    expect(trees).toBeGreaterThan(40);
    expect(nulls).toBeGreaterThan(20);
  });

  it("survives any f faults in larger generalized cyclic networks (t = 3, 4, 5 need the collapse)", () => {
    cases("broadcast-cyclic", 30, (rng) => {
      const t = rng.pick([3, 4, 5]);
      const n = t === 3 ? rng.between(2, 4) : rng.between(2, 3);
      const f = rng.between(1, 4);
      const net = randomGeneralizedCyclic(rng, n, f, t);
      const source = randomLabel(rng, n, t);
      const faults = Array.from(
        { length: f },
        () => ({ stage: rng.int(n + f), node: randomLabel(rng, n, t) }),
      );
      const tree = broadcastTree(net, source, faults);
      expect(tree).not.toBeNull();
      checkBroadcast(net, source, faults, tree!);
    });
  });

  it("broadcastProblems catches two inputs with different modes on one switch", () => {
    const net = { n: 1, t: 3, masks: [[1]] };
    const paths = [
      { modes: [1], nodes: [[0], [1]] },
      { modes: [2], nodes: [[0], [2]] },
    ];
    expect(broadcastProblems(net, [0], [], paths)).toEqual([]); // broadcast from input 0
    // n = 1, t = 3, two stages of mask 1: one switch per stage. At stage 1 the paths enter from
    // inputs 1 and 0 with modes 0 and 2: no legal setting.
    const net2 = { n: 1, t: 3, masks: [[1], [1]] };
    const bad = [
      { modes: [1, 0], nodes: [[0], [1], [1]] },
      { modes: [0, 2], nodes: [[0], [0], [2]] },
    ];
    expect(broadcastProblems(net2, [0], [], bad)).toEqual([
      expect.stringMatching(/2 inputs with 2 different modes/),
    ]);
    expect(broadcastProblems(net2, [0], [], bad.slice(1))).toEqual([
      expect.stringMatching(/node 1 reached 0 times/),
    ]);
  });
});
