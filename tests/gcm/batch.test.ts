/**
 * `timing.batchMs`: with traffic, a member keeps the token up to batchMs to gather more messages —
 * fewer token visits for the same messages, delivered in one order — and passes at once when its
 * backlog fills half a visit's budget. The rule against the Hungry timeout is checked.
 */
import { describe, expect, it } from "vitest";
import { resolveTiming, TimingError } from "../../gcm/mod.ts";
import { simRing } from "../helpers/sim_ring.ts";
import { runUntil } from "../transport/_helpers.ts";

/** Three members on a simulated network; `delivered[i]` is member i's delivery order. */
async function ring(batchMs: number) {
  const { clock, nodes } = await simRing(
    ["a", "b", "c"],
    { rtoInitialMs: 20, batchMs, hungryMs: 3000 },
    5,
    10_000,
  );
  const delivered = nodes.map(() => [] as string[]);
  nodes.forEach((n, i) => n.gcm.on("deliver", (m) => delivered[i].push(`${m.from}#${m.seq}`)));
  return { clock, nodes, delivered };
}

/** Member 0 multicasts one message every 2 ms for `ms`; returns the token receipts meanwhile. */
async function steadyTraffic(r: Awaited<ReturnType<typeof ring>>, ms: number): Promise<number> {
  const before = r.nodes.reduce((s, n) => s + n.metrics().token.received, 0);
  for (let t = 0; t < ms; t += 2) {
    r.nodes[0].gcm.multicast(new Uint8Array([t & 0xff]));
    await runUntil(r.clock, () => false, 2);
  }
  return r.nodes.reduce((s, n) => s + n.metrics().token.received, 0) - before;
}

describe("timing.batchMs", () => {
  it("carries the same traffic in fewer token visits, in one order everywhere", async () => {
    const direct = await ring(0);
    const batched = await ring(10);
    const visitsDirect = await steadyTraffic(direct, 400);
    const visitsBatched = await steadyTraffic(batched, 400);
    for (const r of [direct, batched]) {
      const all = () => r.delivered.every((d) => d.length >= 200);
      expect(await runUntil(r.clock, all, 2000)).toBe(true);
      expect(r.delivered[1]).toEqual(r.delivered[0]);
      expect(r.delivered[2]).toEqual(r.delivered[0]);
      expect(r.delivered[0]).toHaveLength(200);
    }
    // Every hop of a batched ring holds ~10 ms: a round of three takes ~30 ms instead of ~5.
    expect(visitsBatched * 3).toBeLessThan(visitsDirect);
    expect(visitsBatched).toBeGreaterThan(400 / 40); // the ring kept moving
  });

  it("passes at once when the backlog fills half a visit, however long batchMs is", async () => {
    const r = await ring(2000);
    const [a] = r.nodes;
    // Traffic from b: the token reaches a with it, and a keeps it to batch.
    r.nodes[1].gcm.multicast(new Uint8Array([1]));
    expect(await runUntil(r.clock, () => r.delivered[0].length === 1 && a.gcm.holdsToken, 10_000)).toBe(true);
    const t0 = r.clock.now();
    expect(await runUntil(r.clock, () => !a.gcm.holdsToken, 100)).toBe(false); // held, not passed
    for (let i = 0; i < 255; i++) a.gcm.multicast(new Uint8Array([i & 0xff]));
    expect(await runUntil(r.clock, () => !a.gcm.holdsToken, 100)).toBe(false); // below half: still held
    for (let i = 0; i < 45; i++) a.gcm.multicast(new Uint8Array([i & 0xff]));
    // Half a visit's budget (256 of 512 messages) is waiting: a passes at once instead of holding 2 s.
    expect(await runUntil(r.clock, () => !a.gcm.holdsToken, 5)).toBe(true);
    expect(r.clock.now() - t0).toBeLessThan(250);
    expect(await runUntil(r.clock, () => r.delivered.every((d) => d.length === 301), 20_000)).toBe(true);
  });

  it("must be below the Hungry timeout", () => {
    expect(() => resolveTiming({ batchMs: 5000, hungryMs: 4000 })).toThrow(TimingError);
    expect(() => resolveTiming({ batchMs: 5000, hungryMs: 4000 })).toThrow(
      /'batchMs' \(5000 ms\) must be below/,
    );
    expect(() => resolveTiming({ batchMs: -1 })).toThrow(RangeError);
    expect(resolveTiming({ batchMs: 10 }).gcm.batchMs).toBe(10);
    expect(resolveTiming({}).gcm.batchMs).toBe(0);
  });
});
