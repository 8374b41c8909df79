import { describe, expect, it } from "vitest";
import { applyOp, type DataState, emptyState, type Item, reconcileItems } from "../../gdm/state.ts";
import { encodeValue } from "../../gdm/value.ts";
import { GdmCluster } from "../../sim/gdm/cluster.ts";
import type { ConflictEvent } from "../../gdm/manager.ts";

function write(st: DataState, key: string, value: unknown, c: number, node: string): void {
  applyOp(st, { t: "w", id: `${node}#1#${c}`, s: [c, node], w: [{ k: key, v: encodeValue(value) }] });
}

describe("reconcile (pure)", () => {
  it("highest stamp wins, node ID breaks ties, conflicts reported, order-free and idempotent", () => {
    const base = emptyState();
    write(base, "same", "s", 1, "a");
    write(base, "one-sided", "v0", 2, "a");
    const left: DataState = { items: new Map(base.items), clock: base.clock };
    const right: DataState = { items: new Map(base.items), clock: base.clock };
    write(left, "both", "L", 5, "a");
    write(right, "both", "R", 5, "b"); // same counter: node "b" > "a" wins
    write(left, "later", "L", 9, "a");
    write(right, "later", "R", 3, "c");
    write(right, "one-sided", "v1", 4, "c");
    write(left, "only-left", 1, 6, "a");
    const lr: DataState = { items: new Map(left.items), clock: left.clock };
    const effects = reconcileItems(lr, right.items);
    const rl: DataState = { items: new Map(right.items), clock: right.clock };
    reconcileItems(rl, left.items);
    const dump = (s: DataState) =>
      JSON.stringify([...s.items].sort().map(([k, it]) => [k, it.s, [...(it.v ?? [])]]));
    expect(dump(lr)).toBe(dump(rl));
    const again: DataState = { items: new Map(lr.items), clock: lr.clock };
    expect(reconcileItems(again, right.items).filter((e) => e.type === "change")).toEqual([]);
    expect(dump(again)).toBe(dump(lr));
    expect(lr.items.get("both")!.s).toEqual([5, "b"]);
    expect(lr.items.get("later")!.s).toEqual([9, "a"]);
    expect(lr.items.get("one-sided")!.s).toEqual([4, "c"]);
    expect(lr.clock).toBe(9);
    const conflicts = effects.filter((e) => e.type === "conflict").map((e) => (e as { key: string }).key)
      .sort();
    expect(conflicts).toEqual(["both", "later"]); // "one-sided" is a plain update, not a conflict
  });

  it("a deletion (tombstone) with a higher stamp is not resurrected by the other side", () => {
    const a = emptyState();
    write(a, "k", 1, 1, "a");
    const b: DataState = { items: new Map(a.items), clock: 1 };
    applyOp(b, { t: "w", id: "b#1#2", s: [2, "b"], w: [{ k: "k" }] });
    reconcileItems(a, b.items);
    expect(a.items.get("k")!.v).toBeUndefined();
  });
});

describe("reconcile through the group", () => {
  it("reconcile(otherSideSnapshot) merges on every replica with conflict events", async () => {
    const g = new GdmCluster({ seed: 11 });
    for (const id of ["n0", "n1"]) await g.start(id, ["n0", "n1"].filter((p) => p !== id));
    expect(await g.settle()).toBe(true);
    const [a, b] = ["n0", "n1"].map((id) => g.gdms.get(id)!);
    await g.wait(a.set("x", "ours"));
    const other: Array<[string, Item]> = [
      ["x", { v: encodeValue("theirs"), s: [1000, "zz"], w: "zz" }],
      ["y", { v: encodeValue("new"), s: [1, "zz"], w: "zz" }],
    ];
    const conflicts: ConflictEvent[] = [];
    b.on("conflict", (e) => conflicts.push(e));
    await g.wait(a.reconcile({ items: other, clock: 1000 }));
    await g.c.run(300);
    for (const x of [a, b]) expect([x.get("x"), x.get("y")]).toEqual(["theirs", "new"]);
    expect(conflicts.map((c) => [c.key, c.winner, c.loser])).toEqual([["x", "theirs", "ours"]]);
    expect(GdmCluster.dump(a)).toBe(GdmCluster.dump(b));
  });

  it("a node cut off from the group, written on both sides, merges back with the highest stamps", async () => {
    const g = new GdmCluster({ seed: 5 });
    const ids = ["n0", "n1", "n2"];
    for (const id of ids) await g.start(id, ids.filter((p) => p !== id));
    expect(await g.settle()).toBe(true);
    const [a, b, c] = ids.map((id) => g.gdms.get(id)!);
    await g.wait(a.set("shared", 0));
    g.c.backend.cut("n2", "n0");
    g.c.backend.cut("n2", "n1");
    await g.c.runUntil(
      () =>
        g.c.nodes.get("n2")!.gcm.view.members.length === 1 &&
        g.c.nodes.get("n0")!.gcm.view.members.length === 2,
      10_000,
    );
    // n2 alone writes a lot (its Lamport counter runs ahead) and once; the majority writes later.
    for (let i = 0; i < 20; i++) void c.set("shared", `c${i}`);
    void c.set("only-c", "c");
    await g.c.run(500);
    void a.set("only-ab", "ab");
    void b.set("shared", "b-late");
    await g.c.run(500);
    const conflicts: string[] = [];
    a.on("conflict", (e) => conflicts.push(e.key));
    g.c.backend.healAll();
    expect(await g.settle()).toBe(true);
    await g.c.run(1000);
    expect(GdmCluster.dump(a)).toBe(GdmCluster.dump(c));
    expect(GdmCluster.dump(b)).toBe(GdmCluster.dump(c));
    expect(a.get("only-c")).toBe("c");
    expect(c.get("only-ab")).toBe("ab");
    // highest stamp wins: n2 stamped 20 writes past the shared base, the majority only one.
    expect(a.get("shared")).toBe("c19");
    expect(conflicts).toContain("shared");
  });
});
