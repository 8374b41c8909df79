/**
 * Theorems 6.1–6.4 as property tests over random networks, against brute force.
 */
import { describe, expect, it } from "vitest";
import {
  areDisjoint,
  cyclicMasks,
  disjointPaths,
  isConnected,
  isGeneralizedCyclic,
  MinConditionError,
  minimumCut,
  nonSpanningWindow,
  pathError,
  route,
  type Switch,
  toleratedFaults,
} from "../../min/mod.ts";
import { RaincoreError } from "../../base/errors.ts";
import {
  allLabels,
  allSwitches,
  cases,
  checkPathBrute,
  choose,
  connectedBrute,
  groupSpan,
  key,
  randomGeneralizedCyclic,
  randomLabel,
  randomNetwork,
  reachable,
  spansBrute,
  subsets,
  usedSwitches,
} from "./_helpers.ts";
import type { Random } from "../../base/random.ts";

const T = [2, 3, 4, 5];

/** A random size with t^n ≤ maxNodes and n + f stages. */
function size(
  rng: Random,
  maxN: number,
  maxF: number,
  maxNodes: number,
  ts: readonly number[] = T,
): { n: number; t: number; f: number } {
  for (;;) {
    const t = rng.pick(ts);
    const n = rng.between(1, maxN);
    if (t ** n <= maxNodes) return { n, t, f: rng.between(0, maxF) };
  }
}

describe("disjointPaths (theorems 6.2, 6.3, 6.4)", () => {
  it("gives f + 1 valid, mutually disjoint paths in random generalized cyclic networks (t = 2..6)", () => {
    cases("disjointPaths", 150, (rng) => {
      // t = 6 as well: a composite t with two prime factors.
      const { n, t, f } = size(rng, 5, 5, 3125, [...T, 6]);
      const net = randomGeneralizedCyclic(rng, n, f, t);
      for (let k = 0; k < 4; k++) {
        const a = randomLabel(rng, n, t);
        const b = k === 0 ? a : randomLabel(rng, n, t);
        const paths = disjointPaths(net, a, b);
        expect(paths).toHaveLength(f + 1);
        const seen = new Set<string>();
        for (const p of paths) {
          expect(checkPathBrute(net, p, a, b)).toBeNull();
          for (const id of new Set(usedSwitches(net, p))) {
            expect(seen.has(id), `switch ${id} shared (n=${n} t=${t} f=${f})`).toBe(false);
            seen.add(id);
          }
        }
      }
    });
  });

  it("works on networks far too large to enumerate (2^40 nodes)", () => {
    const net = { n: 40, t: 2, masks: cyclicMasks(40, 3) };
    const a = Array.from({ length: 40 }, (_, k) => k % 2);
    const b = Array.from({ length: 40 }, (_, k) => (k % 3 === 0 ? 1 : 0));
    const paths = disjointPaths(net, a, b);
    expect(paths).toHaveLength(4);
    for (const p of paths) expect(pathError(net, p, { from: a, to: b })).toBeNull();
    expect(areDisjoint(net, paths)).toBe(true);
    expect(toleratedFaults(net)).toBe(3);
    expect(minimumCut(net).faults).toHaveLength(4);
    expect(() => route(net, a, b)).toThrow(/exceeds/);
  });

  it("throws MinConditionError (a RaincoreError) when a window does not span", () => {
    const net = { n: 2, t: 2, masks: [[1, 0], [1, 0], [0, 1]] };
    expect(nonSpanningWindow(net)).toBe(0);
    try {
      disjointPaths(net, [0, 0], [1, 1]);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(MinConditionError);
      expect(e).toBeInstanceOf(RaincoreError);
      expect((e as MinConditionError).name).toBe("MinConditionError");
      expect((e as MinConditionError).window).toBe(0);
    }
    expect(() => disjointPaths({ n: 3, t: 2, masks: [[1, 0, 0]] }, [0, 0, 0], [1, 0, 0])).toThrow(
      MinConditionError,
    );
    expect(() => disjointPaths({ n: 2, t: 2, masks: [[1, 0], [0, 1]] }, [0, 0], [0, 2])).toThrow(RangeError);
  });
});

describe("toleratedFaults", () => {
  it("is f (= masks.length - n) when every n consecutive masks span; every fault set of size f leaves all pairs connected", () => {
    cases("tolerance-holds", 40, (rng) => {
      const { n, t, f } = size(rng, 3, 3, 27);
      const net = randomGeneralizedCyclic(rng, n, f, t);
      expect(toleratedFaults(net)).toBe(f);
      const switches = allSwitches(net);
      // Exhaustive when the number of fault sets is small, else targeted random sets: faults on
      // the switches carrying one node in the first stages and another in the last (the shape of
      // the worst cuts), plus uniformly random ones.
      if (choose(switches.length, f) <= 400) {
        for (const faults of subsets(switches, f)) expect(connectedBrute(net, faults)).toBe(true);
      } else {
        for (let k = 0; k < 30; k++) {
          const faults: Switch[] = [];
          const a = randomLabel(rng, n, t);
          const b = randomLabel(rng, n, t);
          for (let j = 0; j < f; j++) {
            faults.push(
              rng.chance(0.5) ? rng.pick(switches) : { stage: rng.int(n + f), node: rng.chance(0.5) ? a : b },
            );
          }
          expect(connectedBrute(net, faults)).toBe(true);
          expect(isConnected(net, faults)).toBe(true);
        }
      }
    });
  });

  it("theorem 6.1: f + 1 faults on the switches carrying node 0 in the first f + 1 stages disconnect it", () => {
    cases("theorem-6.1", 40, (rng) => {
      const { n, t, f } = size(rng, 4, 4, 256);
      const net = randomGeneralizedCyclic(rng, n, f, t);
      const zero = new Array<number>(n).fill(0);
      const faults = Array.from({ length: f + 1 }, (_, stage) => ({ stage, node: zero }));
      expect(reachable(net, zero, faults).size).toBeLessThan(t ** n);
      expect(isConnected(net, faults)).toBe(false);
    });
  });

  it("theorem 6.3's converse: when a window does not span, f faults around it disconnect a pair", () => {
    cases("converse", 80, (rng) => {
      const { n, t, f } = size(rng, 5, 5, 3125);
      const net = randomNetwork(rng, n, n + f, t);
      if (isGeneralizedCyclic(net)) return;
      // Only networks that connect every pair without faults are interesting.
      if (!spansBrute(net.masks, n, t)) {
        expect(toleratedFaults(net)).toBe(-1);
        return;
      }
      // The proof's fault set: before the non-spanning window at switches carrying A, after it at
      // switches carrying B, where B - A is outside the window's span.
      const j = net.masks.findIndex((_, i) =>
        i + n <= net.masks.length && !spansBrute(net.masks.slice(i, i + n), n, t)
      );
      expect(nonSpanningWindow(net)).toBe(j);
      const a = randomLabel(rng, n, t);
      const span = groupSpan(net.masks.slice(j, j + n), n, t);
      const b = allLabels(n, t).find((x) => !span.has(key(x.map((d, k) => (d - a[k] + t) % t))))!;
      const faults: Switch[] = net.masks.flatMap((_, stage) =>
        stage < j ? [{ stage, node: a }] : stage >= j + n ? [{ stage, node: b }] : []
      );
      expect(faults).toHaveLength(f);
      expect(reachable(net, a, faults).has(key(b))).toBe(false);
      expect(isConnected(net, faults)).toBe(false);
    });
  });

  it("equals brute force (all fault sets) on small random networks, and minimumCut is a real cut of that size + 1", () => {
    let nonCyclic = 0;
    cases("tolerance-brute", 60, (rng) => {
      const { n, t } = size(rng, 2, 0, 9);
      const stages = rng.between(n, n + 3);
      const net = rng.chance(0.3)
        ? randomGeneralizedCyclic(rng, n, stages - n, t)
        : randomNetwork(rng, n, stages, t);
      if (!isGeneralizedCyclic(net)) nonCyclic++;
      const switches = allSwitches(net);
      let brute = -1;
      if (connectedBrute(net, [])) {
        brute = stages - n; // theorem 6.1's upper bound
        search: for (let k = 1; k <= stages - n; k++) {
          for (const faults of subsets(switches, k)) {
            if (!connectedBrute(net, faults)) {
              brute = k - 1;
              break search;
            }
          }
        }
      }
      expect(toleratedFaults(net)).toBe(brute);
      const cut = minimumCut(net);
      expect(cut.faults).toHaveLength(brute + 1);
      expect(reachable(net, cut.from, cut.faults).has(key(cut.to))).toBe(false);
    });
    expect(nonCyclic).toBeGreaterThan(10);
  });

  it("the exact search beats the thesis-style window bound: zero masks are dead stages", () => {
    // n = 1, t = 3, masks 0, 2, 0, 1: every two consecutive masks span, so the window bound says 2,
    // but faulting the only switch of stages 2 and 4 leaves nothing but straight stages.
    const net = { n: 1, t: 3, masks: [[0], [2], [0], [1]] };
    expect(toleratedFaults(net)).toBe(1);
    const cut = minimumCut(net);
    expect(cut.faults.map((f) => f.stage)).toEqual([1, 3]);
    expect(reachable(net, cut.from, cut.faults).has(key(cut.to))).toBe(false);
  });

  it("minimumCut on larger non-generalized-cyclic networks is a cut, no larger than the thesis bound", () => {
    cases("minimumCut", 25, (rng) => {
      const { n, t, f } = size(rng, 4, 3, 256);
      const net = randomNetwork(rng, n, n + f, t);
      if (isGeneralizedCyclic(net) || !spansBrute(net.masks, n, t)) return;
      const cut = minimumCut(net);
      expect(cut.faults.length).toBeLessThanOrEqual(f);
      expect(reachable(net, cut.from, cut.faults).has(key(cut.to))).toBe(false);
      expect(toleratedFaults(net)).toBe(cut.faults.length - 1);
    });
  });
});
