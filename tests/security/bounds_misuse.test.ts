/**
 * Bounds (item 4) and misuse errors (item 5): each bound exceeded, each misuse a typed error whose
 * message says what to do.
 */
import { describe, expect, it } from "vitest";
import {
  GroupCommunicationManager,
  MulticastBackpressureError,
  MulticastTooLargeError,
  NotMemberError,
} from "../../gcm/mod.ts";
import { LeftGroupError } from "../../gcm/errors.ts";
import { ClosedError } from "../../base/errors.ts";
import { MessageTooLargeError, UnknownNodeError } from "../../transport/errors.ts";
import { Cluster, type ClusterOptions } from "../../sim/gcm/cluster.ts";
import { encode911 } from "../../gcm/codec.ts";
import { entryBytes } from "../../gcm/token.ts";
import { F911_JOIN, STATUS_NO } from "../../gcm/message911.ts";
import { simCluster } from "../transport/_helpers.ts";

const ids = ["a", "b", "c"];

/** A simulated ring of a, b and c with the GCM options `gcm`, once it has settled. */
async function ringOfThree(seed: number, gcm: ClusterOptions["gcm"]): Promise<Cluster> {
  const c = new Cluster({ seed, gcm });
  for (const id of ids) c.start(id, ids.filter((p) => p !== id));
  expect(await c.settle(20_000)).toBe(true);
  return c;
}

describe("bounds", () => {
  it("maxPendingBytes: multicast beyond it throws MulticastBackpressureError; whenWritable() waits for room", async () => {
    const c = await ringOfThree(7, { maxPendingBytes: 1000 });
    const a = c.nodes.get("a")!.gcm;
    const msg = new Uint8Array(300);
    let sent = 0;
    let error: unknown;
    try {
      for (let i = 0; i < 10; i++) {
        a.multicast(msg);
        sent++;
      }
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MulticastBackpressureError);
    expect((error as Error).message).toMatch(/whenWritable/);
    expect(sent).toBeGreaterThanOrEqual(3);
    expect(sent).toBeLessThanOrEqual(4);
    expect(a.core.multicast.pendingBytes).toBeLessThanOrEqual(1000 + 300);
    let writable = false;
    void a.whenWritable(300).then(() => (writable = true));
    expect(await c.runUntil(() => writable, 5000)).toBe(true);
    expect(() => a.multicast(msg)).not.toThrow();
    // A waiter is rejected, not left hanging, when the manager closes.
    for (let i = 0; i < 10; i++) {
      try {
        a.multicast(msg);
      } catch {
        break;
      }
    }
    const waiting = a.whenWritable(300);
    a.close();
    await expect(waiting).rejects.toBeInstanceOf(LeftGroupError);
  });

  it("maxTokenBytes: no appends beyond it — tokens stay bounded under a flood, and everything is delivered", async () => {
    const c = await ringOfThree(8, { maxTokenBytes: 2000, maxBatchBytes: 800 });
    let biggest = 0;
    for (const id of ids) {
      const g = c.nodes.get(id)!.gcm;
      g.on("token", () => {
        const t = g.core.token ?? g.core.lastToken;
        if (t !== undefined) biggest = Math.max(biggest, entryBytes(t));
      });
    }
    let delivered = 0;
    c.nodes.get("a")!.gcm.on("deliver", () => delivered++);
    for (const id of ids) for (let i = 0; i < 30; i++) c.nodes.get(id)!.gcm.multicast(new Uint8Array(400));
    expect(await c.runUntil(() => delivered === 90, 30_000)).toBe(true);
    expect(biggest).toBeGreaterThan(0);
    expect(biggest).toBeLessThanOrEqual(2000 + 800 + 400);
  });

  it("maxPendingBytes must be positive", () => {
    const { start } = simCluster(1);
    const tm = start("x");
    expect(() =>
      new GroupCommunicationManager(
        { layer: tm, clock: undefined, incarnation: 1, peers: [], maxPendingBytes: 0 } as never,
      )
    ).toThrow(RangeError);
  });

  it("maxMessageBytes: TM send and GCM multicast beyond it are typed errors naming the option", async () => {
    const { start } = simCluster(2);
    const a = start("a", ["mem://a"], { maxMessageBytes: 1000 });
    a.setAddresses("b", ["mem://b"]);
    await expect(a.send("b", 0, new Uint8Array(1001))).rejects.toBeInstanceOf(MessageTooLargeError);
    await expect(a.send("b", 0, new Uint8Array(1001))).rejects.toThrow(/maxMessageBytes/);
    const c = new Cluster({ seed: 3, gcm: { maxMessageBytes: 100 } });
    c.start("a", []);
    await c.run(100);
    expect(() => c.nodes.get("a")!.gcm.multicast(new Uint8Array(101))).toThrow(MulticastTooLargeError);
  });
});

describe("911 rate limit per source", () => {
  it("a flood of 911s from one sender is cut to max911PerSecondPerSource; the ring stays whole", async () => {
    const c = await ringOfThree(11, { max911PerSecondPerSource: 50 });
    const evil = c.backend.layer("m", 1, ids);
    const m911 = encode911({
      ringId: "m/1/1",
      seq: 1,
      nodelist: [{ id: "m", inc: 1 }],
      orig: 0,
      current: 0,
      dest: 0,
      status: STATUS_NO,
      flags: F911_JOIN,
      addrs: [],
    });
    for (let i = 0; i < 2000; i++) {
      evil.post("b", 16, m911, () => {});
      if (i % 100 === 99) await c.run(50);
    }
    await c.run(500);
    const b = c.nodes.get("b")!.gcm;
    // 1 s of virtual time at 50/s plus the initial burst of 50: at most ~100 got through.
    expect(b.rateLimited911).toBeGreaterThanOrEqual(2000 - 120);
    evil.close();
    expect(await c.settle(20_000)).toBe(true);
    expect(() => new Cluster({ seed: 1, gcm: { max911PerSecondPerSource: 0 } }).start("x", [])).toThrow(
      RangeError,
    );
  });
});

describe("misuse", () => {
  it("sending to an unknown node ID: UnknownNodeError says to call setAddresses()", async () => {
    const { start } = simCluster(4);
    const a = start("a");
    await expect(a.send("nobody", 0, new Uint8Array(1))).rejects.toBeInstanceOf(UnknownNodeError);
    await expect(a.send("nobody", 0, new Uint8Array(1))).rejects.toThrow(/setAddresses/);
  });

  it("using a closed Transport Manager or GCM: ClosedError", async () => {
    const { start } = simCluster(5);
    const a = start("a");
    await a.close();
    await expect(a.send("a", 0, new Uint8Array(1))).rejects.toBeInstanceOf(ClosedError);
    const c = new Cluster({ seed: 5 });
    const n = c.start("a", []);
    n.gcm.close();
    expect(() => n.gcm.multicast(new Uint8Array(1))).toThrow(/closed|left/);
  });

  it("multicast before start(): NotMemberError says to call start()", () => {
    const { start } = simCluster(6);
    const tm = start("a");
    const g = new GroupCommunicationManager({ layer: tm, incarnation: 1, peers: [] });
    expect(() => g.multicast(new Uint8Array(1))).toThrow(NotMemberError);
    expect(() => g.multicast(new Uint8Array(1))).toThrow(/start\(\)/);
    g.close();
  });

  it("invalid channel: RangeError naming the range", async () => {
    const { start } = simCluster(7);
    const a = start("a");
    await expect(a.send("a", 70_000, new Uint8Array(1))).rejects.toThrow(/0\.\.65535/);
  });
});
