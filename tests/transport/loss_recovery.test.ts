/**
 * How the Transport Manager's sender recovers losses and shares a bottleneck: a timeout resends
 * only the lowest unacknowledged packet (the rest is resent when shown lost, or not at all when only
 * late), failure detection keeps its timing, and under a drop-tail bottleneck the congestion window
 * keeps goodput near the bandwidth with few resends.
 */
import { describe, expect, it } from "vitest";
import { decodePacket, TYPE_DATA } from "../../transport/codec.ts";
import { DeliveryFailedError } from "../../transport/errors.ts";
import type { MemoryTransport } from "../../transport/backends/memory.ts";
import type { PacketTransport } from "../../transport/packet_transport.ts";
import { TransportManager } from "../../transport/manager.ts";
import { addressFailureMs } from "../../transport/rtt.ts";
import { runUntil, simCluster, track } from "./_helpers.ts";

/**
 * Wraps a memory transport: the first transmission of each DATA packet whose seq is in `drop` is
 * lost; `sends` counts the transmissions of each DATA seq.
 */
function dropFirst(inner: MemoryTransport, drop: ReadonlySet<number>) {
  const sends = new Map<number, number>();
  const transport: PacketTransport = {
    kind: inner.kind,
    mtu: inner.mtu,
    addresses: inner.addresses,
    send(to, packet) {
      const p = decodePacket(packet, { maxMessageBytes: 1 << 20 });
      if (p.type === TYPE_DATA) {
        const n = (sends.get(p.seq) ?? 0) + 1;
        sends.set(p.seq, n);
        if (n === 1 && drop.has(p.seq)) return;
      }
      inner.send(to, packet);
    },
    onPacket: (fn) => inner.onPacket(fn),
    close: () => inner.close(),
  };
  return { transport, sends };
}

/** Ten 1,000-byte messages (ten packets) from a to b over 40 ms each way, `drop` lost once. */
async function tenPackets(drop: number[]) {
  const { clock, net, start } = simCluster(3, { delayMs: { min: 40, max: 40 } });
  const { transport, sends } = dropFirst(net.createTransport("mem://a"), new Set(drop));
  const b = start("b");
  const got: number[] = [];
  b.onMessage(0, (_from, m) => got.push(m[0]));
  // No round trip is measured before the first timeout (50 ms < the 80 ms round trip).
  const a = new TransportManager({ nodeId: "a", transports: [transport], clock, rtoInitialMs: 50 });
  a.setAddresses("b", ["mem://b"]);
  const outcomes = Array.from(
    { length: 10 },
    (_, i) => track(clock, a.send("b", 0, new Uint8Array(1000).fill(i))),
  );
  const t0 = clock.now();
  await runUntil(clock, () => outcomes.every((o) => o.settled), 60_000);
  return { outcomes, sends, got, ms: clock.now() - t0, retransmissions: a.stats.retransmissions };
}

describe("Transport Manager loss recovery", () => {
  it("on a timeout resends only the lost packet, not the ones in flight that are only late", async () => {
    const r = await tenPackets([1]);
    expect(r.outcomes.every((o) => o.state === "resolved")).toBe(true);
    expect(r.got.sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The timeout fires before any ack is back: every packet is unacknowledged, only seq 1 is lost.
    expect(r.retransmissions).toBe(1);
    expect([...r.sends]).toEqual([[1, 2], [2, 1], [3, 1], [4, 1], [5, 1], [6, 1], [7, 1], [8, 1], [9, 1], [
      10,
      1,
    ]]);
  });

  it("after a timeout resends the other lost packets once the resend is acknowledged, each once", async () => {
    const r = await tenPackets([1, 2, 3, 4, 5]);
    expect(r.outcomes.every((o) => o.state === "resolved")).toBe(true);
    expect(r.got.length).toBe(10);
    expect(r.retransmissions).toBe(5);
    for (let seq = 1; seq <= 10; seq++) expect(r.sends.get(seq)).toBe(seq <= 5 ? 2 : 1);
    // Not one timeout per lost packet (those would back off: 50 + 100 + 200 + 400 ms and more).
    expect(r.ms).toBeLessThan(600);
  });

  it("keeps failure detection: one resend per timeout, failed after the backed-off timeouts", async () => {
    const { clock, net, start } = simCluster(4);
    const a = start("a", undefined, { rtoMinMs: 20, retries: 4 });
    start("b").onMessage(0, () => {});
    a.setAddresses("b", ["mem://b"]);
    const first = track(clock, a.send("b", 0, new Uint8Array(10)));
    await runUntil(clock, () => first.settled, 1000);
    expect(first.state).toBe("resolved"); // a round trip of 0 ms measured: the timeout is the 20 ms floor
    net.partition([["mem://a"], ["mem://b"]]);
    const t0 = clock.now();
    const sends = Array.from({ length: 20 }, () => track(clock, a.send("b", 0, new Uint8Array(1000))));
    await runUntil(clock, () => sends.every((s) => s.settled), 60_000);
    for (const s of sends) {
      expect(s.state).toBe("rejected");
      expect((s as { error: unknown }).error).toBeInstanceOf(DeliveryFailedError);
    }
    expect(clock.now() - t0).toBe(addressFailureMs(20, 1000, 4));
    expect(a.stats.retransmissions).toBe(4);
  });

  it("under a drop-tail bottleneck delivers everything exactly once near the bandwidth, with few resends", async () => {
    const bandwidth = 10_000; // bytes per ms: 10 MB/s
    const { clock, start } = simCluster(5, {
      delayMs: { min: 5, max: 5 },
      bandwidth,
      queuePackets: 64,
    });
    const a = start("a", undefined, { retries: 20 });
    const b = start("b");
    a.setAddresses("b", ["mem://b"]);
    const copies = new Map<number, number>();
    let bytesInTime = 0;
    const durationMs = 1000;
    b.onMessage(0, (_from, m) => {
      const no = new DataView(m.buffer, m.byteOffset).getUint32(0);
      copies.set(no, (copies.get(no) ?? 0) + 1);
      if (clock.now() <= durationMs) bytesInTime += m.length;
    });
    const resolved: number[] = [];
    let outstanding = 0;
    let next = 0;
    while (clock.now() < durationMs) {
      while (outstanding < 1024) {
        const no = next++;
        const m = new Uint8Array(1024);
        new DataView(m.buffer).setUint32(0, no);
        outstanding++;
        void a.send("b", 0, m).then(() => {
          outstanding--;
          resolved.push(no);
        });
      }
      await runUntil(clock, () => false, 1);
    }
    await runUntil(clock, () => outstanding === 0, 60_000);
    expect(outstanding).toBe(0);
    expect(resolved.length).toBe(next);
    expect([...copies.values()].every((c) => c === 1)).toBe(true);
    expect(copies.size).toBe(next);
    // Payload only (headers use the rest): at least 70 % of the link's bandwidth, no collapse.
    expect(bytesInTime / durationMs).toBeGreaterThan(0.7 * bandwidth);
    expect(a.stats.retransmissions / next).toBeLessThan(0.05);
  });
});
