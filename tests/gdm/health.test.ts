/**
 * A GDM survives its node's health-check leave (critical resources, thesis 3.7.3): the GCM leaves
 * while a check is unhealthy and rejoins as a new incarnation when it passes again; the GDM then
 * takes a state transfer like any joiner. An explicit leave still ends the GDM.
 * Real stack (GCM → TransportManager → SimNetwork) under a virtual clock.
 */
import { describe, expect, it } from "vitest";
import { GdmClosedError } from "../../gdm/errors.ts";
import type { GroupDataManager } from "../../gdm/manager.ts";
import { GdmCluster } from "../../sim/gdm/cluster.ts";

async function boot(n: number, seed: number): Promise<GdmCluster> {
  const g = new GdmCluster({ seed });
  const ids = Array.from({ length: n }, (_, i) => `n${i}`);
  for (const id of ids) await g.start(id, ids.filter((p) => p !== id));
  expect(await g.settle()).toBe(true);
  return g;
}

const gdm = (g: GdmCluster, id: string): GroupDataManager => g.gdms.get(id)!;
const gcm = (g: GdmCluster, id: string) => g.c.nodes.get(id)!.gcm;
const members = (g: GdmCluster, id: string) => gcm(g, id).view.members.slice().sort().join(",");

describe("GDM across a health-check leave", () => {
  it("the node rejoins, receives what the group wrote meanwhile, and keeps working", async () => {
    const g = await boot(3, 21);
    const [a, b, c] = ["n0", "n1", "n2"].map((id) => gdm(g, id));
    for (let i = 0; i < 20; i++) void a.set(`k${i}`, { i, v: "before" });
    void b.set("gone", 1);
    void b.set("doc", { title: "t", n: 0 });
    await g.c.run(500);
    await g.wait(b.lock("L")); // b holds a lock when it leaves
    // The grant resolves at b as soon as b has it (b orders it); the others apply it within a round.
    expect(await g.c.runUntil(() => c.lockOwner("L") === "n1", 1000)).toBe(true);

    const conflicts: string[] = [];
    for (const x of [a, b, c]) x.on("conflict", (e) => conflicts.push(e.key));
    const synced: number[] = [];
    b.on("synced", (e) => synced.push(e.items));
    const transferred = new Set<string>();
    b.on("change", (e) => e.transfer && transferred.add(e.key));

    let ok = true;
    const health: boolean[] = [];
    gcm(g, "n1").on("health", (e) => health.push(e.healthy));
    gcm(g, "n1").addHealthCheck("disk", () => ok, { intervalMs: 100 });
    await g.c.run(300);
    ok = false;
    expect(await g.c.runUntil(() => members(g, "n0") === "n0,n2" && gcm(g, "n1").core.left, 5000)).toBe(true);
    // Out of the group: the GDM is not closed, reads work (stale), it is not synced.
    expect(b.synced).toBe(false);
    expect(b.get("k3")).toEqual({ i: 3, v: "before" });
    expect(b.holds("L")).toBe(false);

    // The group goes on: sets, deletes, patches, a transaction; the lock b held is freed.
    for (let i = 0; i < 20; i += 2) void a.set(`k${i}`, { i, v: "during" });
    await g.c.run(200);
    void c.set("k0", { i: 0, v: "twice" }); // two updates: a merge of b's copy would call this a conflict
    void c.delete("gone");
    void c.patch("doc", { path: ["n"], value: 5 });
    await g.wait(c.transaction((tx) => {
      tx.set("tx/a", 1);
      tx.set("tx/b", 1);
    }));
    await g.wait(c.lock("L"));
    expect(await g.c.runUntil(() => a.lockOwner("L") === "n2", 1000)).toBe(true);
    // A write issued on b while it is out waits for the rejoin instead of failing.
    let heldDone = false;
    const held = b.set("from-b", "while out").then(() => (heldDone = true));
    await g.c.run(1000);
    expect(heldDone).toBe(false);
    for (let i = 0; i < 50; i++) void a.set(`late${i}`, i); // more writes, just before the rejoin

    ok = true;
    expect(
      await g.c.runUntil(() => !gcm(g, "n1").core.left && members(g, "n0") === "n0,n1,n2", 10_000),
    ).toBe(true);
    expect(gcm(g, "n1").incarnation).not.toBe(g.c.nodes.get("n1")!.inc); // a new incarnation
    expect(await g.settle()).toBe(true);
    await g.wait(held);

    expect(health).toEqual([false, true]);
    expect(b.synced).toBe(true);
    expect(synced.length).toBeGreaterThan(0);
    expect(b.stats.received).toBeGreaterThan(0); // it took a state transfer
    for (const x of [a, c]) expect(GdmCluster.dump(b)).toBe(GdmCluster.dump(x));
    expect(b.get("k0")).toEqual({ i: 0, v: "twice" });
    expect(b.get("k2")).toEqual({ i: 2, v: "during" });
    expect(b.get("k3")).toEqual({ i: 3, v: "before" });
    expect(b.has("gone")).toBe(false);
    expect(b.get("doc")).toEqual({ title: "t", n: 5 });
    expect([b.get("tx/a"), b.get("tx/b")]).toEqual([1, 1]);
    expect(b.get("late49")).toBe(49);
    expect(a.get("from-b")).toBe("while out");
    expect(transferred.has("k2") && transferred.has("gone")).toBe(true);
    expect(conflicts).toEqual([]); // a stale copy is replaced, not merged
    expect(b.lockOwner("L")).toBe("n2");

    // It keeps working: writes, locks (queued behind n2), transactions.
    await g.wait(b.set("after", 1));
    await g.c.run(300);
    expect(a.get("after")).toBe(1);
    const got = b.lock("L");
    await g.c.run(200);
    await g.wait(c.unlock("L"));
    await g.wait(got);
    expect(b.holds("L")).toBe(true);
    expect(a.lockOwner("L")).toBe("n1");
    await g.wait(b.unlock("L"));
    await g.wait(b.transaction((tx) => tx.set("tx/a", (tx.get("tx/a") as number) + 1)));
    await g.c.run(300);
    expect(c.get("tx/a")).toBe(2);
    expect(await g.settle()).toBe(true);
    for (const x of [a, c]) expect(GdmCluster.dump(b)).toBe(GdmCluster.dump(x));
  });

  it("a lock request pending at the leave is withdrawn with GdmClosedError; the node locks again after", async () => {
    const g = await boot(2, 5);
    const [a, b] = ["n0", "n1"].map((id) => gdm(g, id));
    await g.wait(a.lock("M"));
    const waiting = b.lock("M", { timeoutMs: 60_000 }).catch((e) => e);
    await g.c.run(300);
    let ok = true;
    gcm(g, "n1").addHealthCheck("net", () => ok, { intervalMs: 50 });
    ok = false;
    expect(await g.wait(waiting, 5000)).toBeInstanceOf(GdmClosedError);
    await g.c.run(500);
    ok = true;
    expect(await g.c.runUntil(() => members(g, "n0") === "n0,n1" && b.synced, 10_000)).toBe(true);
    expect(await g.settle()).toBe(true);
    expect(b.lockOwner("M")).toBe("n0"); // a's grant is untouched, b's old request is gone
    const again = b.lock("M");
    await g.wait(a.unlock("M"));
    await g.wait(again);
    expect(await g.c.runUntil(() => a.lockOwner("M") === "n1", 1000)).toBe(true);
  });

  it("when every node left for a health check, the stale copies are merged, not dropped", async () => {
    const g = await boot(2, 9);
    const [a, b] = ["n0", "n1"].map((id) => gdm(g, id));
    for (let i = 0; i < 10; i++) void a.set(`k${i}`, i);
    await g.c.run(500);
    let ok = true;
    for (const id of ["n0", "n1"]) gcm(g, id).addHealthCheck("shared", () => ok, { intervalMs: 50 });
    await g.c.run(200);
    ok = false;
    expect(await g.c.runUntil(() => gcm(g, "n0").core.left && gcm(g, "n1").core.left, 5000)).toBe(true);
    const w = a.set("k0", "new"); // held until a holds data again
    ok = true;
    expect(await g.c.runUntil(() => members(g, "n0") === "n0,n1" && a.synced && b.synced, 15_000)).toBe(true);
    expect(await g.settle()).toBe(true);
    await g.wait(w);
    await g.c.run(300);
    expect(b.get("k0")).toBe("new");
    expect(b.get("k9")).toBe(9);
    expect(GdmCluster.dump(a)).toBe(GdmCluster.dump(b));
  });

  it("the stale copy brings back writes the group lost while the node was out (no write lost)", async () => {
    const g = await boot(2, 13);
    const a = gdm(g, "n0");
    for (let i = 0; i < 8; i++) void a.set(`k${i}`, i);
    await g.c.run(500);
    let ok = true;
    gcm(g, "n0").addHealthCheck("disk", () => ok, { intervalMs: 50 });
    await g.c.run(100);
    ok = false;
    expect(await g.c.runUntil(() => gcm(g, "n0").core.left, 5000)).toBe(true);
    // The only other holder crashes and comes back empty; it writes on its own.
    g.crash("n1");
    await g.c.run(300);
    const b = await g.start("n1", ["n0"]);
    await g.c.run(500);
    await g.wait(b.set("k0", "new"));
    await g.wait(b.set("fresh", 1));
    ok = true;
    expect(await g.c.runUntil(() => members(g, "n1") === "n0,n1" && a.synced && b.synced, 15_000)).toBe(true);
    expect(await g.settle()).toBe(true);
    await g.c.run(300);
    expect(GdmCluster.dump(a)).toBe(GdmCluster.dump(b));
    expect(b.get("k0")).toBe("new"); // the newer write wins
    expect(b.get("k7")).toBe(7); // a's copy was the only one left
    expect(a.get("fresh")).toBe(1);
  });

  it("an explicit gcm.leave() still closes the GDM for good", async () => {
    const g = await boot(2, 4);
    const b = gdm(g, "n1");
    await g.wait(gcm(g, "n1").leave());
    await g.c.run(200);
    const err = await b.set("x", 1).catch((e) => e);
    expect(err).toBeInstanceOf(GdmClosedError);
    expect(b.synced).toBe(false); // closed: it holds nothing for the group any more
    await g.c.run(2000);
    expect(gcm(g, "n1").core.left).toBe(true); // and the GCM stays out
  });
});
