/**
 * Merges through the group: `reconcile()` of another side's snapshot, and a member cut off from the
 * group that wrote on its own and comes back (its versions the group lacks return with it; the
 * highest stamp wins everywhere). The pure laws of the merge are in units.test.ts.
 */
import { describe, expect, it } from "vitest";
import type { ConflictEvent } from "../../gdm/events.ts";
import type { Item } from "../../gdm/model.ts";
import { encodeValue } from "../../gdm/value.ts";
import { GdmCluster } from "../../sim/gdm/cluster.ts";

describe("reconcile through the group", () => {
  it("reconcile(otherSideSnapshot) merges on every replica with conflict events", async () => {
    const g = new GdmCluster({ seed: 11 });
    for (const id of ["n0", "n1"]) await g.start(id, ["n0", "n1"].filter((p) => p !== id));
    expect(await g.settle()).toBe(true);
    const [a, b] = ["n0", "n1"].map((id) => g.gdms.get(id)!);
    await g.wait(a.set("x", "ours"));
    const other: Array<[string, Item]> = [
      ["x", { value: encodeValue("theirs"), stamp: [1000, "zz"] }],
      ["y", { value: encodeValue("new"), stamp: [1, "zz"] }],
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
