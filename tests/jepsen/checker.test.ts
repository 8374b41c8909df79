/**
 * The Jepsen-style checker earns trust by failing: a consistent history passes, and the same history
 * with one planted anomaly of each kind is reported with that kind — a lost acknowledged write or add,
 * a value nobody wrote, a process reading backwards or missing its own write, a cycle that no
 * sequential order explains, a lost update or a real-time violation among compare-and-sets, a
 * fencing token granted twice or going back, and replicas that end apart.
 */
import { describe, expect, it } from "vitest";
import type { HistoryOp, OpHistory, Version } from "../../sim/gdm/op_history.ts";
import { checkOpHistory } from "../../sim/jepsen/checker.ts";

/** A small history that keeps every promise. */
function consistent(): OpHistory {
  const ops: HistoryOp[] = [
    {
      f: "write",
      process: "p1",
      key: "k",
      value: "a",
      invoke: 0,
      complete: 1,
      outcome: "ok",
      version: [1, "p1"],
    },
    {
      f: "read",
      process: "p2",
      key: "k",
      invoke: 2,
      complete: 2,
      outcome: "ok",
      value: "a",
      version: [1, "p1"],
    },
    {
      f: "write",
      process: "p2",
      key: "k",
      value: "b",
      invoke: 3,
      complete: 4,
      outcome: "ok",
      version: [2, "p2"],
    },
    {
      f: "read",
      process: "p1",
      key: "k",
      invoke: 5,
      complete: 5,
      outcome: "ok",
      value: "b",
      version: [2, "p2"],
    },
    {
      f: "cas",
      process: "p1",
      key: "c",
      expected: null,
      value: "x",
      invoke: 6,
      complete: 7,
      outcome: "ok",
      version: [3, "p1"],
    },
    {
      f: "cas",
      process: "p2",
      key: "c",
      expected: [3, "p1"],
      value: "y",
      invoke: 8,
      complete: 9,
      outcome: "ok",
      version: [4, "p2"],
    },
    {
      f: "cas",
      process: "p1",
      key: "c",
      expected: [3, "p1"],
      value: "z",
      invoke: 8.5,
      complete: 9.5,
      outcome: "fail",
    },
    { f: "add", process: "p1", set: "s", element: "e1", invoke: 10, complete: 11, outcome: "ok" },
    { f: "read-set", process: "p2", set: "s", invoke: 12, complete: 12, outcome: "ok", elements: ["e1"] },
    { f: "acquire", process: "p1", lock: "L", invoke: 13, complete: 14, outcome: "ok", token: 1 },
    { f: "release", process: "p1", lock: "L", token: 1, invoke: 15, complete: 16, outcome: "ok" },
    { f: "acquire", process: "p2", lock: "L", invoke: 17, complete: 18, outcome: "ok", token: 2 },
  ];
  const end = {
    registers: {
      k: { value: "b", version: [2, "p2"] as const },
      c: { value: "y", version: [4, "p2"] as const },
    },
    sets: { s: ["e1"] },
  };
  return {
    ops,
    final: [{ process: "p1", ...structuredClone(end) }, { process: "p2", ...structuredClone(end) }],
    oneComponent: true,
    durable: false,
    survivors: ["p1", "p2"],
  };
}

const kinds = (h: OpHistory) => checkOpHistory(h).map((a) => a.kind);
const op = (h: OpHistory, i: number) => h.ops[i] as HistoryOp & Record<string, unknown>;
/** A compare-and-set on register `c`, invoked at `at` and complete a tick later. */
const cas = (
  process: string,
  expected: Version,
  outcome: "ok" | "fail" | "info",
  at: number,
  version?: Version,
): HistoryOp => ({
  f: "cas",
  process,
  key: "c",
  expected,
  value: `${process}@${at}`,
  invoke: at,
  complete: at + 1,
  outcome,
  ...(version === undefined ? {} : { version }),
});

describe("the Jepsen-style checker", () => {
  it("passes a history that keeps every promise", () => {
    expect(checkOpHistory(consistent())).toEqual([]);
  });

  it("reports a lost acknowledged write", () => {
    const h = consistent();
    for (const f of h.final) f.registers.k = { value: "a", version: [1, "p1"] };
    expect(kinds(h)).toContain("lost write");
  });

  it("reports a lost acknowledged add", () => {
    const h = consistent();
    for (const f of h.final) f.sets.s = [];
    expect(kinds(h)).toContain("lost add");
  });

  it("reports a value nobody wrote, and a read from the future", () => {
    const h = consistent();
    Object.assign(op(h, 1), { value: "never", version: [9, "p9"] });
    expect(kinds(h)).toContain("invented value");
    const g = consistent();
    Object.assign(op(g, 1), { value: "b", version: [2, "p2"] }); // read at t=2 what is written at t=3
    expect(kinds(g)).toContain("read from the future");
  });

  it("reports reads going backwards, and a process missing its own write", () => {
    const h = consistent();
    h.ops.push({
      f: "read",
      process: "p1",
      key: "k",
      invoke: 6,
      complete: 6,
      outcome: "ok",
      value: "a",
      version: [1, "p1"],
    });
    expect(kinds(h)).toContain("monotonic reads");
    const g = consistent();
    g.ops.push({
      f: "read",
      process: "p2",
      key: "k",
      invoke: 5,
      complete: 5,
      outcome: "ok",
      value: "a",
      version: [1, "p1"],
    });
    expect(kinds(g)).toContain("read your writes");
  });

  it("reports a set read that lost an element the process had seen", () => {
    const h = consistent();
    h.ops.push({
      f: "read-set",
      process: "p2",
      set: "s",
      invoke: 13,
      complete: 13,
      outcome: "ok",
      elements: [],
    });
    expect(kinds(h)).toContain("monotonic set reads");
  });

  it("reports a cycle no sequential order explains (each process misses the other's earlier write)", () => {
    const h = consistent();
    h.ops.push(
      {
        f: "write",
        process: "p1",
        key: "x",
        value: "x1",
        invoke: 20,
        complete: 21,
        outcome: "ok",
        version: [5, "p1"],
      },
      {
        f: "write",
        process: "p2",
        key: "y",
        value: "y1",
        invoke: 20,
        complete: 21,
        outcome: "ok",
        version: [5, "p2"],
      },
      {
        f: "read",
        process: "p1",
        key: "y",
        invoke: 22,
        complete: 22,
        outcome: "ok",
        value: null,
        version: null,
      },
      {
        f: "read",
        process: "p2",
        key: "x",
        invoke: 22,
        complete: 22,
        outcome: "ok",
        value: null,
        version: null,
      },
    );
    for (const f of h.final) {
      f.registers.x = { value: "x1", version: [5, "p1"] };
      f.registers.y = { value: "y1", version: [5, "p2"] };
    }
    expect(kinds(h)).toContain("cycle");
    // A partition without the quorum policy: each side may go on alone.
    expect(kinds({ ...h, oneComponent: false })).not.toContain("cycle");
  });

  it("reports a lost update and a real-time violation among compare-and-sets", () => {
    const h = consistent();
    Object.assign(op(h, 5), { expected: null }); // both expected the initial version and both won
    expect(kinds(h)).toContain("lost update");
    const g = consistent();
    g.ops.push({
      f: "cas",
      process: "p1",
      key: "c",
      expected: null,
      value: "w",
      invoke: 30,
      complete: 31,
      outcome: "ok",
      version: [2, "p9"],
    });
    expect(kinds(g)).toEqual(expect.arrayContaining(["real-time order", "lost update"]));
  });

  it("reports a compare-and-set that failed for no reason", () => {
    const h = consistent();
    Object.assign(op(h, 6), { expected: [4, "p2"] }); // expected the latest version, yet failed
    expect(kinds(h)).toContain("unjustified failure");
  });

  it("lets a compare-and-set fail against a version only an indeterminate write of its node could have made", () => {
    const h = consistent();
    // p3's write is indeterminate (it may never have taken effect); p3 then expected its version.
    h.ops.push(cas("p3#1", null, "info", 40), cas("p3#1", [9, "p3"], "fail", 46));
    expect(kinds(h)).not.toContain("unjustified failure");
    // Without the indeterminate write, nothing explains the expectation: reported.
    const g = consistent();
    g.ops.push(cas("p3#1", [9, "p3"], "fail", 46));
    expect(kinds(g)).toContain("unjustified failure");
  });

  it("does not put a version only its indeterminate writer's node saw between two others", () => {
    const h = consistent();
    // p3 read its own indeterminate write (v9.p3) and expected it; the group lost it: p4's compare
    // from the latest version is no lost update. Had a compare expecting v9.p3 succeeded, it would be.
    const latest = [4, "p2"] as const;
    for (const f of h.final) f.registers.c = { value: "z", version: [10, "p4"] };
    h.ops.push(
      cas("p3#1", latest, "info", 40),
      cas("p3#1", [9, "p3"], "info", 46),
      cas("p4#1", latest, "ok", 50, [10, "p4"]),
    );
    expect(kinds(h)).not.toContain("lost update");
    const g = structuredClone(h);
    g.ops.push(cas("p3#1", [9, "p3"], "ok", 48, [9.5, "p3"]));
    expect(kinds(g)).toContain("lost update");
  });

  it("reports a fencing token granted twice, and one going back", () => {
    const h = consistent();
    Object.assign(op(h, 11), { token: 1 });
    expect(kinds(h)).toContain("fencing token reused");
    const g = consistent();
    g.ops.push({ f: "acquire", process: "p1", lock: "L", invoke: 20, complete: 21, outcome: "ok", token: 0 });
    expect(kinds(g)).toContain("fencing token went back");
  });

  it("reports replicas that end apart", () => {
    const h = consistent();
    h.final[1].registers.k = { value: "a", version: [1, "p1"] };
    expect(kinds(h)).toContain("divergent end");
  });
});
