/**
 * The application-facing API around the ring: `ready()` and what happens to sends before it,
 * `AbortSignal` on the operations that wait, `metrics()`, the logger, `Symbol.asyncDispose`, and
 * listener isolation. Real stack (TransportManager over SimNetwork) under a virtual clock.
 */
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../base/clock.ts";
import type { LogEntry } from "../../base/log.ts";
import { Random } from "../../base/random.ts";
import { createNode, type GcmNode } from "../../gcm/mod.ts";
import { SimNetwork } from "../../transport/backends/memory.ts";
import { runUntil } from "../transport/_helpers.ts";

function cluster(ids: string[], seed: number, extra: { logs?: LogEntry[] } = {}) {
  const clock = new VirtualClock();
  const net = new SimNetwork({ clock, random: new Random(seed), link: { delayMs: { min: 1, max: 3 } } });
  const peers = Object.fromEntries(ids.map((id) => [id, [`mem://${id}`]]));
  const start = (id: string, i: number): GcmNode =>
    createNode({
      id,
      transports: [net.createTransport(`mem://${id}`)],
      peers,
      clock,
      incarnation: i + 1,
      timing: { rtoInitialMs: 20 },
      logger: extra.logs === undefined ? () => {} : (e) => extra.logs!.push(e),
    });
  return { clock, net, start };
}

const text = (s: string) => new TextEncoder().encode(s);

describe("ready() and sends before it", () => {
  it("a message multicast right after start is kept back and delivered by every member once they are one group", async () => {
    const { clock, start } = cluster(["a", "b", "c"], 3);
    const nodes = ["a", "b", "c"].map(start);
    const got = new Map<string, string[]>();
    for (const n of nodes) {
      got.set(n.id, []);
      n.gcm.on("deliver", (d) => got.get(n.id)!.push(new TextDecoder().decode(d.data)));
    }
    // Before any view with another member: this used to be delivered in a's view of one, by a alone.
    nodes[0].gcm.multicast(text("early"));
    let view: string[] | undefined;
    void nodes[0].ready().then((v) => (view = v.members));
    expect(await runUntil(clock, () => view !== undefined, 5000)).toBe(true);
    expect(view!.length).toBeGreaterThan(1);
    const all = () => nodes.every((n) => n.gcm.view.members.length === 3);
    expect(await runUntil(clock, () => all() && [...got.values()].every((g) => g.includes("early")), 5000))
      .toBe(true);
  });

  it("with peers that never answer, ready() resolves after joinWaitMs and the node goes on alone", async () => {
    const { clock, start } = cluster(["a", "ghost"], 4);
    const a = start("a", 0);
    const got: string[] = [];
    a.gcm.on("deliver", (d) => got.push(new TextDecoder().decode(d.data)));
    a.gcm.multicast(text("alone"));
    let readyAt = -1;
    void a.ready().then(() => (readyAt = clock.now()));
    expect(await runUntil(clock, () => readyAt >= 0, 5000)).toBe(true);
    expect(readyAt).toBeGreaterThanOrEqual(1000); // joinWaitMs
    expect(await runUntil(clock, () => got.includes("alone"), 1000)).toBe(true);
  });
});

describe("AbortSignal", () => {
  it("withToken: aborted before the token comes, the callback never runs and the promise rejects with the reason", async () => {
    const { clock, start } = cluster(["a", "b"], 5);
    const [a, b] = ["a", "b"].map(start);
    expect(await runUntil(clock, () => a.gcm.view.members.length === 2 && b.gcm.agreed, 5000)).toBe(true);
    const ac = new AbortController();
    let ran = false;
    let outcome: unknown;
    a.gcm.withToken(() => (ran = true), { signal: ac.signal }).catch((e) => (outcome = e));
    ac.abort(new Error("changed my mind"));
    expect(await runUntil(clock, () => outcome !== undefined, 100)).toBe(true);
    expect((outcome as Error).message).toBe("changed my mind");
    // The token comes round and nothing runs.
    expect(await runUntil(clock, () => ran, 500)).toBe(false);
    // An already aborted signal rejects at once.
    await expect(a.gcm.withToken(() => 1, { signal: AbortSignal.abort() })).rejects.toThrow();
  });

  it("ready() and leave() stop waiting on abort", async () => {
    const { start } = cluster(["a", "ghost"], 6);
    const a = start("a", 0);
    await expect(a.gcm.ready({ signal: AbortSignal.abort() })).rejects.toThrow();
  });
});

describe("metrics, logger, disposal", () => {
  it("metrics count views, token visits and messages; the logger hears views; asyncDispose closes", async () => {
    const logs: LogEntry[] = [];
    const { clock, start } = cluster(["a", "b", "c"], 7, { logs });
    const nodes = ["a", "b", "c"].map(start);
    expect(
      await runUntil(clock, () => nodes.every((n) => n.gcm.view.members.length === 3 && n.gcm.agreed), 5000),
    )
      .toBe(true);
    for (let i = 0; i < 10; i++) nodes[1].gcm.multicast(text(`m${i}`));
    expect(await runUntil(clock, () => nodes[0].metrics().multicast.delivered >= 10, 2000)).toBe(true);
    await runUntil(clock, () => false, 200);
    const m = nodes[1].metrics();
    expect(m.multicast.sent).toBe(10);
    expect(m.multicast.delivered).toBe(10);
    expect(m.view.members).toBe(3);
    expect(m.view.installed).toBeGreaterThanOrEqual(2); // its own view of one, then the group
    expect(m.token.received).toBeGreaterThan(5);
    expect(m.token.roundMs).toBeGreaterThan(0);
    expect(m.token.roundsPerSecond).toBeCloseTo(1000 / m.token.roundMs);
    expect(m.token.sent).toBeGreaterThan(5);
    expect(m.token.sentBytes).toBeGreaterThan(m.token.sent * 20); // a token is more than 20 bytes
    expect(m.messages911.sent).toBeGreaterThan(0); // it asked its peers to be let in
    expect(m.transport.packetsSent).toBeGreaterThan(0);
    expect(logs.some((e) => e.namespace === "gcm" && e.message.startsWith("view "))).toBe(true);
    let closed = false;
    nodes[2].gcm.on("close", () => (closed = true));
    const scope = async () => {
      await using _node = nodes[2]; // disposed (closed gracefully) when the scope ends
    };
    let disposed = false;
    void scope().then(() => (disposed = true));
    expect(await runUntil(clock, () => disposed && closed, 3000)).toBe(true);
  });

  it("a throwing listener costs its member nothing: every delivery still happens, an error event reports it", async () => {
    const { clock, start } = cluster(["a", "b"], 8);
    const [a, b] = ["a", "b"].map(start);
    expect(await runUntil(clock, () => a.gcm.view.members.length === 2 && b.gcm.agreed, 5000)).toBe(true);
    const got: string[] = [];
    const errors: unknown[] = [];
    let thrown = 0;
    b.gcm.on("deliver", () => {
      if (thrown++ === 0) throw new Error("application bug");
    });
    b.gcm.on("deliver", (d) => got.push(new TextDecoder().decode(d.data)));
    b.gcm.on("error", (e) => errors.push(e.error));
    for (const s of ["1", "2", "3", "4", "5"]) a.gcm.multicast(text(s));
    expect(await runUntil(clock, () => got.length === 5, 2000)).toBe(true);
    expect(got).toEqual(["1", "2", "3", "4", "5"]);
    expect(errors.map((e) => (e as Error).message)).toEqual(["application bug"]);
    expect(b.gcm.view.members.length).toBe(2);
  });
});
