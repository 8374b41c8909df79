import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../base/clock.ts";
import { SimNetwork } from "../../transport/backends/memory.ts";
import { Random } from "../../base/random.ts";
import { createNode, type GcmNode, TimingError } from "../../gcm/mod.ts";
import type { ViewEvent } from "../../gcm/events.ts";
import type { LogEntry } from "../../base/log.ts";
import { GroupDataManager } from "../../gdm/manager.ts";
import { runUntil } from "../transport/_helpers.ts";

describe("createNode", () => {
  it("wires TransportManager + GCM; three nodes agree, multicast, leave and close", async () => {
    const clock = new VirtualClock();
    const net = new SimNetwork({ clock, random: new Random(5), link: { delayMs: { min: 1, max: 3 } } });
    const ids = ["a", "b", "c"];
    const peers = Object.fromEntries(ids.map((id) => [id, [`mem://${id}`]]));
    const nodes: GcmNode[] = ids.map((id, i) =>
      createNode({
        id,
        transports: [net.createTransport(`mem://${id}`)],
        peers,
        clock,
        incarnation: i + 1,
        timing: { rtoInitialMs: 20 },
      })
    );
    const agreed = () => nodes.every((n) => n.gcm.agreed && n.gcm.view.members.length === 3);
    expect(await runUntil(clock, agreed, 5000)).toBe(true);
    const got: string[] = [];
    nodes[2].gcm.on("deliver", (d) => got.push(`${d.from}:${new TextDecoder().decode(d.data)}`));
    nodes[0].gcm.multicast(new TextEncoder().encode("x"));
    nodes[1].gcm.multicast(new TextEncoder().encode("y"), { level: "safe" });
    expect(await runUntil(clock, () => got.length === 2, 2000)).toBe(true);
    expect(got.sort()).toEqual(["a:x", "b:y"]);
    let closed = false;
    void nodes[1].close().then(() => (closed = true));
    expect(await runUntil(clock, () => closed, 3000)).toBe(true);
    const two = () => [nodes[0], nodes[2]].every((n) => n.gcm.agreed && n.gcm.view.members.length === 2);
    expect(await runUntil(clock, two, 5000)).toBe(true);
  });

  it("beforeStart: runs with the wired, not yet started node; what it attaches sees the first view", async () => {
    const clock = new VirtualClock();
    const net = new SimNetwork({ clock, random: new Random(7), link: { delayMs: { min: 1, max: 3 } } });
    const ids = ["a", "b"];
    const peers = Object.fromEntries(ids.map((id) => [id, [`mem://${id}`]]));
    const seen: Record<string, ViewEvent[]> = {};
    const gdms: Record<string, GroupDataManager> = {};
    const hooked: GcmNode[] = [];
    const nodes = ids.map((id) =>
      createNode({
        id,
        transports: [net.createTransport(`mem://${id}`)],
        peers,
        clock,
        timing: { rtoInitialMs: 20 },
        beforeStart: (node) => {
          hooked.push(node);
          // Not started yet: no view committed, multicast refused.
          expect(node.gcm.view.index).toBe(0);
          expect(() => node.gcm.multicast(new Uint8Array(1))).toThrow(/start/);
          seen[id] = [];
          node.gcm.on("view", (v) => seen[id].push(v));
          gdms[id] = new GroupDataManager({ gcm: node.gcm, layer: node.transport });
        },
      })
    );
    expect(hooked).toEqual(nodes);
    // The lone view {self} committed by start() reached the listener attached in the hook.
    for (const id of ids) expect(seen[id][0]?.members).toEqual([id]);
    const agreed = () => nodes.every((n) => n.gcm.agreed && n.gcm.view.members.length === 2);
    expect(await runUntil(clock, agreed, 5000)).toBe(true);
    let written = false;
    void gdms.a.set("k", "v").then(() => (written = true));
    expect(await runUntil(clock, () => written && gdms.b.get("k") === "v", 3000)).toBe(true);
    // The default incarnation is the Transport Manager's, whole (time-based, above 2^32).
    for (const n of nodes) {
      expect(n.gcm.incarnation).toBe(n.transport.incarnation);
      expect(n.gcm.incarnation).toBeGreaterThan(2 ** 32);
    }
    const b = nodes[0].gcm.view.detail.find((m) => m.id === "b");
    expect(b?.inc).toBe(nodes[1].transport.incarnation);
    let closed = 0;
    for (const id of ids) void gdms[id].close();
    const closes = nodes.map((n) => n.close().then(() => closed++));
    await runUntil(clock, () => closed === 2, 5000); // leave bounded by the node's clock (2 s)
    await Promise.all(closes);
  });

  it("beforeStart: when closing the transport fails too, the hook's error is thrown and the other logged", async () => {
    const clock = new VirtualClock();
    const net = new SimNetwork({ clock, random: new Random(9) });
    const backend = net.createTransport("mem://z");
    backend.close = () => Promise.reject(new Error("backend would not close"));
    const logged: LogEntry[] = [];
    expect(() =>
      createNode({
        id: "z",
        transports: [backend],
        clock,
        logger: (e) => logged.push(e),
        beforeStart: () => {
          throw new RangeError("hook");
        },
      })
    ).toThrow(RangeError);
    expect(await runUntil(clock, () => logged.some((e) => e.level === "error"), 1000)).toBe(true);
    const entry = logged.find((e) => e.level === "error")!;
    expect(entry.message).toMatch(/closing the transport after beforeStart threw failed/);
    expect(String(entry.fields?.error)).toContain("backend would not close");
  });

  it("beforeStart: an error closes both managers and is rethrown; close() in it leaves the node unstarted", async () => {
    const clock = new VirtualClock();
    const net = new SimNetwork({ clock, random: new Random(9) });
    const backend = net.createTransport("mem://x");
    class HookError extends Error {}
    let gcmOf: GcmNode["gcm"] | undefined;
    expect(() =>
      createNode({
        id: "x",
        transports: [backend],
        clock,
        beforeStart: (node) => {
          gcmOf = node.gcm;
          throw new HookError("no");
        },
      })
    ).toThrow(HookError);
    expect(() => gcmOf!.start()).toThrow(/closed/);
    expect(await runUntil(clock, () => backend.closed, 1000)).toBe(true);

    const views: ViewEvent[] = [];
    let closing: Promise<void> | undefined;
    const node = createNode({
      id: "y",
      transports: [net.createTransport("mem://y")],
      clock,
      beforeStart: (n) => {
        n.gcm.on("view", (v) => views.push(v));
        closing = n.close();
      },
    });
    expect(node.close()).toBe(closing);
    await closing; // never started: no leave to wait for
    expect(views).toEqual([]);
    expect(node.gcm.view.index).toBe(0);
  });

  it("passes the Transport Manager's timing to it, and checks the rules between the layers", () => {
    const clock = new VirtualClock();
    const net = new SimNetwork({ clock, random: new Random(3) });
    expect(() =>
      createNode({
        id: "p",
        transports: [net.createTransport("mem://p")],
        clock,
        timing: { rtoMinMs: 500, rtoMaxMs: 400 },
      })
    )
      .toThrow(TimingError);
    const node = createNode({
      id: "q",
      transports: [net.createTransport("mem://q")],
      peers: { r: ["mem://r"] },
      clock,
      timing: { rtoInitialMs: 10, rtoMinMs: 50, rtoMaxMs: 60 },
    });
    // The initial RTO (10) is raised to the floor of 50.
    expect(node.transport.rtoOf("r")).toBe(50);
    node.gcm.close();
    void node.transport.close();
  });
});

describe("createNode: one node ID, one member", () => {
  it("a second process started with a member's ID is refused by the group and closes itself; the group goes on", async () => {
    const clock = new VirtualClock();
    const net = new SimNetwork({ clock, random: new Random(11), link: { delayMs: { min: 1, max: 3 } } });
    const start = (id: string, address: string, peers: Record<string, string[]>, incarnation: number) =>
      createNode({
        id,
        transports: [net.createTransport(address)],
        peers,
        clock,
        incarnation,
        timing: { rtoInitialMs: 20 },
      });
    const a = start("a", "mem://a", { b: ["mem://b"] }, 1);
    const b = start("b", "mem://b", { a: ["mem://a"] }, 1);
    const both = () => [a, b].every((n) => n.gcm.agreed && n.gcm.view.members.length === 2);
    expect(await runUntil(clock, both, 5000)).toBe(true);
    const view = a.gcm.view.id;
    // The operator starts another "a" elsewhere, configured like the first (it knows b).
    const a2 = start("a", "mem://a2", { b: ["mem://b"] }, 2);
    let a2Closed = false;
    a2.gcm.on("close", () => (a2Closed = true));
    expect(await runUntil(clock, () => a2Closed, 10_000)).toBe(true);
    expect(await runUntil(clock, both, 5000)).toBe(true);
    // The group never took the second "a" in: a and b are still in one view of the first a and b.
    expect(b.gcm.view.detail).toEqual(expect.arrayContaining([{ id: "a", inc: a.gcm.incarnation }]));
    expect(a.gcm.view.id === view || a.gcm.view.members.sort().join() === "a,b").toBe(true);
  });
});
