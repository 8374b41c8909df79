/**
 * The health-check leave and rejoin of a GDM member over real UDP on 127.0.0.1 (three members in this
 * process, real clock): while its check fails, the GCM leaves and the others go on writing; when it
 * passes, the GCM rejoins and the same GroupDataManager ends with exactly the group's data and
 * keeps working (writes, locks). The simulated counterpart, with more cases: health.test.ts.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { GroupDataManager } from "../../gdm/manager.ts";
import { udpMember } from "./_udp_member.ts";
import { freeUdpPorts } from "../../tools/ports.ts";
import { until } from "../helpers/until.ts";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** Items with their stamps (tombstones and locks included): equal dumps, equal replicas. */
const dump = (g: GroupDataManager) =>
  JSON.stringify(
    g.snapshot().items.map(([k, it]) => [k, it.stamp, it.value === undefined ? null : [...it.value]]).sort((
      x,
      y,
    ) => (x[0] as string) < (y[0] as string) ? -1 : 1),
  );

describe("GDM over UDP across a health-check leave", () => {
  it("the member rejoins with exactly the group's data and keeps working", async () => {
    const [pa, pb, pc] = await freeUdpPorts(3);
    const ports = { a: pa, b: pb, c: pc };
    const [a, b, c] = await Promise.all(
      ["a", "b", "c"].map((id) => udpMember(id, ports, closers, { gdm: { pullTimeoutMs: 3000 } })),
    );
    const all = [a, b, c];
    await until(
      "one view of three, every replica settled",
      30_000,
      () => all.every((m) => m.gcm.view.members.length === 3 && m.gdm.settled),
    );

    for (let i = 0; i < 30; i++) void a.gdm.set(`k${i}`, { i, v: "before" });
    await a.gdm.set("doc", { n: 0 });
    await b.gdm.set("gone", true);
    await until("b has a's writes", 10_000, () => b.gdm.get("doc") !== undefined && b.gdm.has("k29"));

    let ok = true;
    const synced: number[] = [];
    b.gdm.on("synced", (e) => synced.push(e.items));
    b.gcm.addHealthCheck("disk", () => ok, { intervalMs: 50 });
    ok = false;
    await until(
      "b out of the group",
      20_000,
      () => b.gcm.state.left && a.gcm.view.members.length === 2 && c.gcm.view.members.length === 2,
    );
    expect(b.gdm.synced).toBe(false);
    expect(b.gdm.get("k1")).toEqual({ i: 1, v: "before" }); // still readable

    for (let i = 0; i < 30; i += 3) await a.gdm.set(`k${i}`, { i, v: "during" });
    await c.gdm.set("k0", { i: 0, v: "twice" });
    await c.gdm.delete("gone");
    await c.gdm.patch("doc", { path: ["n"], value: 7 });
    await c.gdm.lock("L");
    let heldDone = false;
    const held = b.gdm.set("from-b", "written while out").then(() => (heldDone = true));
    await a.gdm.set("probe", "one more write through the group's order");
    expect(heldDone).toBe(false); // waits for the rejoin

    ok = true;
    await until(
      "b back and synced",
      30_000,
      () => !b.gcm.state.left && all.every((m) => m.gcm.view.members.length === 3) && b.gdm.synced,
    );
    await held;
    await until(
      "every replica equal",
      10_000,
      () => dump(a.gdm) === dump(b.gdm) && dump(c.gdm) === dump(b.gdm),
    );
    expect(synced.length).toBeGreaterThan(0);
    expect(b.gdm.stats.received).toBeGreaterThan(0);
    expect(b.gdm.get("k0")).toEqual({ i: 0, v: "twice" });
    expect(b.gdm.get("k3")).toEqual({ i: 3, v: "during" });
    expect(b.gdm.get("k1")).toEqual({ i: 1, v: "before" });
    expect(b.gdm.has("gone")).toBe(false);
    expect(b.gdm.get("doc")).toEqual({ n: 7 });
    expect(a.gdm.get("from-b")).toBe("written while out");
    expect(b.gdm.lockOwner("L")).toBe("c");

    // Keeps working: a write everyone sees, a lock handed over from c.
    await b.gdm.set("after", 1);
    await until("a sees b's write", 10_000, () => a.gdm.get("after") === 1);
    const got = b.gdm.lock("L", { timeoutMs: 20_000 });
    await c.gdm.unlock("L");
    await got;
    expect(b.gdm.holds("L")).toBe(true);
    await until("a sees b own L", 10_000, () => a.gdm.lockOwner("L") === "b");
    await b.gdm.unlock("L");
    await until(
      "every replica equal again",
      10_000,
      () => dump(a.gdm) === dump(b.gdm) && dump(c.gdm) === dump(b.gdm),
    );
  });
});
