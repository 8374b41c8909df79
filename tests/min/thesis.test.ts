/**
 * The worked examples of thesis chapter 5 (figures 24–31). The figures themselves are images that
 * the text does not reproduce; where the text gives the masks (figures 24, 26, 27) they are used
 * exactly, elsewhere (figures 25, 29, 30) a mask set with the properties the text describes.
 * Labels are written as in the thesis, most significant digit first, through `parseLabel`.
 */
import { describe, expect, it } from "vitest";
import {
  areDisjoint,
  broadcastProblems,
  broadcastTree,
  cyclicMasks,
  disjointPaths,
  formatLabel,
  isConnected,
  isGeneralizedCyclic,
  minimumCut,
  type Network,
  parseLabel,
  route,
  routingTag,
  type Switch,
  toleratedFaults,
} from "../../min/mod.ts";
import { allSwitches, subsets } from "./_helpers.ts";

const L3 = (s: string) => parseLabel(s, 3, 2);
const show = (net: Network, labels: readonly (readonly number[])[]) =>
  labels.map((x) => formatLabel(x, net.t)).join(" ");
const masksOf = (list: string, n: number, t: number) => list.split(" ").map((s) => parseLabel(s, n, t));

/** Every switch of one stage, faulty. */
const wholeStage = (net: Network, stage: number): Switch[] =>
  allSwitches(net).filter((s) => s.stage === stage);

describe("thesis chapter 5 worked examples", () => {
  it("figure 24: the 3-stage MIN 001, 010, 100 has one path per pair and tolerates no fault", () => {
    const net = { n: 3, t: 2, masks: cyclicMasks(3, 0) };
    expect(toleratedFaults(net)).toBe(0);
    expect(routingTag(net.masks, L3("000"), L3("110"), 2)).toEqual([0, 1, 1]);
    const p = route(net, L3("000"), L3("110"))!;
    expect(show(net, p.nodes)).toBe("000 000 010 110");
    expect(route(net, L3("000"), L3("110"), [{ stage: 1, node: L3("000") }])).toBeNull();
  });

  it("figure 25 idea: a one-extra-stage MIN whose every three masks span (extra stage 111) survives a whole faulty stage", () => {
    const net = { n: 3, t: 2, masks: masksOf("001 010 100 111", 3, 2) };
    expect(toleratedFaults(net)).toBe(1);
    for (let stage = 0; stage < 4; stage++) expect(isConnected(net, wholeStage(net, stage))).toBe(true);
    // …but not two faults in different stages (the ESC's limit the text points out).
    expect(minimumCut(net).faults).toHaveLength(2);
  });

  it("figure 26: the (3, 1) cyclic MIN (extra stage 001) tolerates one switch fault but not the fault of stage 010", () => {
    const net = { n: 3, t: 2, masks: cyclicMasks(3, 1) };
    expect(net.masks.map((m) => formatLabel(m, 2)).join(" ")).toBe("001 010 100 001");
    expect(toleratedFaults(net)).toBe(1);
    expect(isConnected(net, wholeStage(net, 1))).toBe(false);
    expect(isConnected(net, wholeStage(net, 2))).toBe(false);
    const paths = disjointPaths(net, L3("000"), L3("110"));
    expect(paths.map((p) => show(net, p.nodes))).toEqual(["000 001 011 111 110", "000 000 010 110 110"]);
    expect(areDisjoint(net, paths)).toBe(true);
    for (const one of allSwitches(net)) expect(isConnected(net, [one])).toBe(true);
  });

  it("figure 27/28: the (3, 4) cyclic MIN has five disjoint paths 000 → 110 and survives every set of four faults", () => {
    const net = { n: 3, t: 2, masks: cyclicMasks(3, 4) };
    expect(toleratedFaults(net)).toBe(4);
    const paths = disjointPaths(net, L3("000"), L3("110"));
    expect(paths.map((p) => p.modes.join(""))).toEqual([
      "1111000",
      "0110000",
      "0010100",
      "0001111",
      "0000110",
    ]);
    expect(paths.map((p) => show(net, p.nodes))).toEqual([
      "000 001 011 111 110 110 110 110",
      "000 000 010 110 110 110 110 110",
      "000 000 000 100 100 110 110 110",
      "000 000 000 000 001 011 111 110",
      "000 000 000 000 000 010 110 110",
    ]);
    expect(areDisjoint(net, paths)).toBe(true);
    const switches = allSwitches(net);
    expect(switches).toHaveLength(28);
    let sets = 0;
    for (const faults of subsets(switches, 4)) {
      sets++;
      expect(isConnected(net, faults)).toBe(true);
    }
    expect(sets).toBe(20475);
    // Theorem 6.1: five faults on the switches carrying 000 in stages 1–5 isolate it.
    expect(isConnected(net, [0, 1, 2, 3, 4].map((stage) => ({ stage, node: L3("000") })))).toBe(false);
  });

  it("figure 29: a (3, 4) generalized cyclic MIN with non-singleton, non-repeating masks also tolerates four faults", () => {
    const net = { n: 3, t: 2, masks: masksOf("001 010 100 011 110 111 101", 3, 2) };
    expect(isGeneralizedCyclic(net)).toBe(true);
    expect(toleratedFaults(net)).toBe(4);
    const paths = disjointPaths(net, L3("000"), L3("110"));
    expect(paths).toHaveLength(5);
    expect(areDisjoint(net, paths)).toBe(true);
    for (const faults of subsets(allSwitches(net), 4)) expect(isConnected(net, faults)).toBe(true);
  });

  it("figure 30: a nine-node (2, 3) generalized cyclic MIN of 3×3 switches has four disjoint paths 00 → 20", () => {
    const net = { n: 2, t: 3, masks: masksOf("01 10 11 12 01", 2, 3) };
    expect(isGeneralizedCyclic(net)).toBe(true);
    expect(toleratedFaults(net)).toBe(3);
    const paths = disjointPaths(net, parseLabel("00", 2, 3), parseLabel("20", 2, 3));
    expect(paths).toHaveLength(4);
    expect(areDisjoint(net, paths)).toBe(true);
    for (const faults of subsets(allSwitches(net), 3)) expect(isConnected(net, faults)).toBe(true);
  });

  it("figure 31: a broadcast tree from 000 survives four faults in the (3, 4) cyclic MIN — for every set of four", () => {
    const net = { n: 3, t: 2, masks: cyclicMasks(3, 4) };
    const figure: Switch[] = [
      { stage: 0, node: L3("000") },
      { stage: 2, node: L3("010") },
      { stage: 4, node: L3("001") },
      { stage: 6, node: L3("110") },
    ];
    const tree = broadcastTree(net, L3("000"), figure)!;
    expect(tree).toHaveLength(7);
    expect(broadcastProblems(net, L3("000"), figure, tree)).toEqual([]);
    // Every set has a tree; every 10th is fully checked (the checker is the slow part).
    let k = 0;
    for (const faults of subsets(allSwitches(net), 4)) {
      const t = broadcastTree(net, L3("000"), faults);
      expect(t).not.toBeNull();
      if (k++ % 10 === 0) expect(broadcastProblems(net, L3("000"), faults, t!)).toEqual([]);
    }
    expect(k).toBe(20475);
  });
});
