/**
 * What the GDM refuses and guards (real stack under a virtual clock): a GCM that cannot carry it;
 * lock grants to a member that is alone by accident, still joining, restarted and not back yet, or
 * outside a primary component; fencing tokens across a whole-cluster restart; requests given up
 * with an AbortSignal; and the progress of a state transfer.
 */
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../base/log.ts";
import { GroupCommunicationManager } from "../../gcm/manager.ts";
import { TransactionAbortedError, UnsupportedGcmError } from "../../gdm/errors.ts";
import type { TransferEvent } from "../../gdm/events.ts";
import { GroupDataManager } from "../../gdm/manager.ts";
import { GdmCluster } from "../../sim/gdm/cluster.ts";

async function boot(ids: string[], opts: ConstructorParameters<typeof GdmCluster>[0]): Promise<GdmCluster> {
  const g = new GdmCluster(opts);
  for (const id of ids) await g.start(id, ids.filter((p) => p !== id));
  expect(await g.settle()).toBe(true);
  return g;
}

const cutOff = (g: GdmCluster, id: string, others: string[]) => {
  for (const o of others) g.c.backend.cut(id, o);
};

describe("a GCM the GDM cannot ride on", () => {
  it("every-token mode, or a GCM that drops deliveries out of quorum, is refused with a typed error", () => {
    const g = new GdmCluster({ seed: 1 });
    const layer = g.c.backend.layer("x", 1, []);
    const gcm = (extra: object) =>
      new GroupCommunicationManager({ layer, clock: g.c.clock, logger: silentLogger, ...extra });
    expect(() => new GroupDataManager({ gcm: gcm({ mode: "every-token" }), layer })).toThrow(
      UnsupportedGcmError,
    );
    expect(() => new GroupDataManager({ gcm: gcm({ mode: "every-token" }), layer })).toThrow(/every-token/);
    expect(() => new GroupDataManager({ gcm: gcm({ expectedSize: 3, quorum: true }), layer })).toThrow(
      /drops them out of quorum/,
    );
    expect(() => new GroupDataManager({ gcm: gcm({}), layer, quorum: true })).toThrow(/expectedSize/);
    expect(() => new GroupDataManager({ gcm: gcm({ mode: "two-phase" }), layer })).not.toThrow();
  });
});

describe("no lock grant without the group's data", () => {
  it("a joiner alone (its group out of reach) grants itself nothing; once in, it queues behind the holder", async () => {
    const g = await boot(["a", "b"], { seed: 41 });
    const [a] = ["a"].map((id) => g.gdms.get(id)!);
    expect(await g.wait(a.lock("L"))).toBe(1);
    const c = await g.start("c", ["a", "b"]);
    cutOff(g, "c", ["a", "b"]);
    let granted = 0;
    c.lock("L").then((t) => (granted = t), () => {});
    await g.c.run(600); // within the join wait: c is alone, not holding the group's data
    expect(granted).toBe(0);
    expect(c.holds("L")).toBe(false);
    g.c.backend.healAll();
    expect(await g.settle()).toBe(true);
    expect(granted).toBe(0); // queued behind a's grant, in the group's order
    expect(c.lockOwner("L")).toBe("a");
    await g.wait(a.unlock("L"));
    await g.c.runUntil(() => granted > 0, 5000);
    expect(granted).toBe(2);
    expect(c.holds("L")).toBe(true);
  });

  it("a restarted member cannot take a lock before it is back with the group", async () => {
    const g = await boot(["a", "b", "c"], { seed: 42, disks: true });
    const a = g.gdms.get("a")!;
    expect(await g.wait(a.lock("L"))).toBe(1);
    g.crash("c");
    await g.c.run(300);
    const c = await g.start("c", ["a", "b"]);
    cutOff(g, "c", ["a", "b"]);
    let granted = 0;
    c.lock("L").then((t) => (granted = t), () => {});
    await g.c.run(600);
    expect(granted).toBe(0); // its disk says the lock is a's: nothing granted on a copy
    g.c.backend.healAll();
    expect(await g.settle()).toBe(true);
    expect(c.lockOwner("L")).toBe("a");
    await g.wait(a.unlock("L"));
    await g.c.runUntil(() => granted > 0, 5000);
    expect(granted).toBe(2);
  });

  it("with the quorum policy only a primary component grants, and tokens stay unique across the split", async () => {
    const ids = ["a", "b", "c"];
    const g = await boot(ids, { seed: 43, disks: true, gcm: { expectedSize: 3 }, gdm: { quorum: true } });
    const [a, b, c] = ids.map((id) => g.gdms.get(id)!);
    expect(await g.wait(a.lock("L"))).toBe(1);
    await g.wait(a.unlock("L"));
    cutOff(g, "c", ["a", "b"]);
    await g.c.runUntil(() => g.c.nodes.get("c")!.gcm.view.members.length === 1, 10_000);
    let minority = 0;
    c.lock("L").then((t) => (minority = t), () => {});
    const majority = await g.wait(b.lock("L"));
    expect(majority).toBe(2);
    await g.c.run(500);
    expect(minority).toBe(0); // alone, c is not a primary component: it grants nothing
    expect(c.holds("L")).toBe(false);
    g.c.backend.healAll();
    expect(await g.settle()).toBe(true);
    await g.wait(b.unlock("L"));
    await g.c.runUntil(() => minority > 0, 5000);
    expect(minority).toBe(3);
  });

  it("fencing tokens keep growing across a whole-cluster restart", async () => {
    const ids = ["a", "b"];
    const g = await boot(ids, { seed: 44, disks: true });
    const a = g.gdms.get("a")!;
    for (let i = 1; i <= 3; i++) {
      expect(await g.wait(a.lock("L"))).toBe(i);
      await g.wait(a.unlock("L"));
    }
    for (const id of ids) g.crash(id);
    for (const id of ids) await g.start(id, ids.filter((p) => p !== id));
    expect(await g.settle()).toBe(true);
    expect(await g.wait(g.gdms.get("b")!.lock("L"))).toBe(4);
  });
});

describe("AbortSignal", () => {
  it("an aborted write, lock or transaction rejects with the signal's reason", async () => {
    const g = await boot(["a", "b"], { seed: 45 });
    const [a, b] = ["a", "b"].map((id) => g.gdms.get(id)!);
    const gone = AbortSignal.abort(new Error("not any more"));
    await expect(a.set("k", 1, { signal: gone })).rejects.toThrow("not any more");
    await expect(a.lock("L", { signal: gone })).rejects.toThrow("not any more");
    await expect(a.transaction((tx) => tx.set("k", 2), { signal: gone })).rejects.toThrow("not any more");
    await g.c.run(300);
    expect(b.get("k")).toBeUndefined(); // none of them was sent
  });

  it("a lock request given up while waiting is withdrawn: the lock never comes to it", async () => {
    const g = await boot(["a", "b"], { seed: 46 });
    const [a, b] = ["a", "b"].map((id) => g.gdms.get(id)!);
    await g.wait(a.lock("L"));
    const ctl = new AbortController();
    const waiting = b.lock("L", { signal: ctl.signal }).catch((e: unknown) => e);
    await g.c.run(200);
    ctl.abort(new Error("changed my mind"));
    expect(await waiting).toMatchObject({ message: "changed my mind" });
    await g.c.run(200);
    await g.wait(a.unlock("L"));
    await g.c.run(300);
    expect(a.lockOwner("L")).toBeNull();
    expect(b.holds("L")).toBe(false);
  });

  it("a write held while the member cannot issue is never sent once aborted", async () => {
    const g = await boot(["a", "b"], { seed: 47 });
    const c = await g.start("c", ["a", "b"]); // joining: it holds requests until it has the group's data
    const ctl = new AbortController();
    const held = c.set("from-c", 1, { signal: ctl.signal }).catch((e: unknown) => e);
    ctl.abort(new Error("too slow"));
    expect(await held).toMatchObject({ message: "too slow" });
    expect(await g.settle()).toBe(true);
    await g.c.run(500);
    expect(g.gdms.get("a")!.get("from-c")).toBeUndefined();
    const aborted = await c.transaction(() => {
      throw new Error("no");
    }).catch((e: unknown) => e);
    expect(aborted).toBeInstanceOf(TransactionAbortedError);
  });
});

describe("state transfer progress", () => {
  it("a joiner's transfer reports items and bytes received against the totals, then done", async () => {
    const g = await boot(["a", "b"], { seed: 48, gdm: { chunkBytes: 2048 } });
    const a = g.gdms.get("a")!;
    for (let i = 0; i < 60; i++) void a.set(`item/${i}`, "x".repeat(300));
    await g.c.run(1000);
    const c = await g.start("c", ["a", "b"]);
    const events: TransferEvent[] = [];
    c.on("transfer", (e) => void events.push(e));
    expect(await g.settle()).toBe(true);
    expect(events.length).toBeGreaterThan(3); // several chunks
    const last = events.at(-1)!;
    expect(last.done).toBe(true);
    expect([last.items, last.totalItems]).toEqual([60, 60]);
    expect(last.bytes).toBe(last.totalBytes);
    for (let i = 1; i < events.length; i++) {
      expect(events[i].items).toBeGreaterThanOrEqual(events[i - 1].items);
    }
    expect(["a", "b"]).toContain(last.from);
    expect(c.size).toBe(60);
  });
});
