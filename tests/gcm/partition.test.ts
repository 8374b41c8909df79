// Scenarios of partition handling (3.7.3): eligible membership, merge events, quorum policy and
// critical resources (health checks), on the simulated cluster (virtual time).
import { describe, expect, it } from "vitest";
import { Cluster } from "../../sim/gcm/cluster.ts";
import type { LeaveEvent, MergeEvent } from "../../gcm/events.ts";

const members = (c: Cluster, id: string) => c.nodes.get(id)!.gcm.view.members.slice().sort().join(",");

describe("eligible membership", () => {
  it("never admits a node outside the eligible set, whatever it sends", async () => {
    const c = new Cluster({ seed: 7, gcm: { eligible: ["a", "b", "c"] } });
    for (const id of ["a", "b", "c"]) c.start(id, ["a", "b", "c", "x"].filter((p) => p !== id));
    c.start("x", ["a", "b", "c"]);
    await c.run(3000);
    for (const id of ["a", "b", "c"]) expect(members(c, id)).toBe("a,b,c");
    expect(members(c, "x")).toBe("x");
    expect(c.check()).toEqual([]);
  });

  it("adding a node at run time lets it in; removing a member takes it off the ring", async () => {
    const c = new Cluster({ seed: 8, gcm: { eligible: ["a", "b", "c"] } });
    for (const id of ["a", "b", "c", "d"]) c.start(id, ["a", "b", "c", "d"].filter((p) => p !== id));
    await c.run(2000);
    expect(members(c, "a")).toBe("a,b,c");
    for (const id of ["a", "b", "c"]) c.nodes.get(id)!.gcm.addEligible("d");
    await c.run(3000);
    for (const id of ["a", "b", "c", "d"]) expect(members(c, id)).toBe("a,b,c,d");
    for (const id of ["a", "b", "d"]) c.nodes.get(id)!.gcm.removeEligible("c");
    await c.run(3000);
    for (const id of ["a", "b", "d"]) expect(members(c, id)).toBe("a,b,d");
    expect(members(c, "c")).toBe("c");
    expect(c.nodes.get("a")!.gcm.eligible).toEqual(["a", "b", "d"]);
    expect(c.check()).toEqual([]);
  });
});

describe("merge", () => {
  it("two partitions heal into one view; the merge event names both sides", async () => {
    const c = new Cluster({ seed: 9 });
    const ids = ["a", "b", "c", "d"];
    for (const id of ids) c.start(id, ids.filter((p) => p !== id));
    await c.settle(5000);
    for (const x of ["a", "b"]) for (const y of ["c", "d"]) c.backend.cut(x, y);
    await c.run(3000);
    expect(members(c, "a")).toBe("a,b");
    expect(members(c, "c")).toBe("c,d");
    const merges: MergeEvent[] = [];
    c.nodes.get("c")!.gcm.on("merge", (e) => merges.push(e));
    c.backend.healAll();
    const t0 = c.clock.now();
    expect(await c.runUntil(() => c.converged(), 5000)).toBe(true);
    const mergeMs = c.clock.now() - t0;
    expect(mergeMs).toBeLessThan(2000);
    for (const id of ids) expect(members(c, id)).toBe("a,b,c,d");
    expect(merges.length).toBeGreaterThan(0);
    expect(merges[0].previous.members.sort()).toEqual(["c", "d"]);
    expect(merges[0].other.members.length).toBeGreaterThan(0);
    expect(c.check()).toEqual([]);
  });
});

describe("quorum policy", () => {
  it("a minority reports inQuorum: false and delivers nothing; the majority goes on", async () => {
    const c = new Cluster({ seed: 10, gcm: { expectedSize: 5, quorum: true } });
    const ids = ["a", "b", "c", "d", "e"];
    for (const id of ids) c.start(id, ids.filter((p) => p !== id));
    await c.settle(5000);
    expect(c.nodes.get("a")!.gcm.inQuorum).toBe(true);
    for (const x of ["a", "b"]) for (const y of ["c", "d", "e"]) c.backend.cut(x, y);
    await c.run(3000);
    const a = c.nodes.get("a")!.gcm;
    expect(a.view.members.length).toBe(2);
    expect(a.inQuorum).toBe(false);
    expect(a.view.inQuorum).toBe(false);
    expect(c.nodes.get("c")!.gcm.inQuorum).toBe(true);
    let got = 0;
    a.on("deliver", () => got++);
    a.multicast(new TextEncoder().encode("minority"));
    await c.run(500);
    expect(got).toBe(0);
    c.backend.healAll();
    expect(await c.runUntil(() => c.converged(), 5000)).toBe(true);
    expect(a.inQuorum).toBe(true);
  });
});

describe("critical resources", () => {
  it("a node leaves while a health check fails and rejoins when it passes again", async () => {
    const c = new Cluster({ seed: 11 });
    const ids = ["a", "b", "c"];
    for (const id of ids) c.start(id, ids.filter((p) => p !== id));
    await c.settle(5000);
    let ok = true;
    const b = c.nodes.get("b")!.gcm;
    const changes: boolean[] = [];
    const leaves: LeaveEvent[] = [];
    b.on("health", (e) => changes.push(e.healthy));
    b.on("leave", (e) => leaves.push(e));
    b.addHealthCheck("disk", () => ok, { intervalMs: 100 });
    await c.run(500);
    expect(members(c, "a")).toBe("a,b,c");
    ok = false;
    await c.run(2000);
    expect(members(c, "a")).toBe("a,c");
    expect(b.core.left).toBe(true);
    ok = true;
    await c.run(3000);
    expect(b.core.left).toBe(false);
    for (const id of ids) expect(members(c, id)).toBe("a,b,c");
    expect(changes).toEqual([false, true]);
    expect(leaves).toEqual([{ graceful: true, reason: "health", rejoins: true }]);

    // An explicit leave is final: a health check going down and up again does not bring b back.
    const left = b.leave();
    await c.run(500); // virtual time: the token has to come by
    await left;
    ok = false;
    await c.run(1000);
    ok = true;
    await c.run(3000);
    expect(b.core.left).toBe(true);
    expect(members(c, "a")).toBe("a,c");
    expect(leaves[1]).toEqual({ graceful: true, reason: "requested", rejoins: false });
    let closed = 0;
    b.on("close", () => closed++);
    b.close();
    b.close();
    expect(closed).toBe(1);
  });
});
