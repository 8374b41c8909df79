/**
 * Who owns a received packet: a backend that hands its packets over lets the Transport Manager
 * deliver large messages as views into them (no copy); one that reuses its receive buffer — the
 * default contract — gets every message copied, fragments included, so reuse corrupts nothing.
 */
import { describe, expect, it } from "vitest";
import type { MemoryTransport } from "../../transport/backends/memory.ts";
import { TransportManager } from "../../transport/manager.ts";
import type { PacketHandler, PacketTransport } from "../../transport/packet_transport.ts";
import { runUntil, simCluster } from "./_helpers.ts";

/** A backend with one receive buffer, overwritten after every packet (as a C ring buffer would be). */
class ReusingBuffer implements PacketTransport {
  readonly kind = "memory";
  readonly mtu: number;
  readonly addresses: readonly string[];
  readonly #scratch: Uint8Array;
  constructor(readonly inner: MemoryTransport) {
    this.mtu = inner.mtu;
    this.addresses = inner.addresses;
    this.#scratch = new Uint8Array(inner.mtu);
  }
  send(to: string, packet: Uint8Array): void {
    this.inner.send(to, packet);
  }
  onPacket(fn: PacketHandler): void {
    this.inner.onPacket((from, p) => {
      this.#scratch.set(p);
      fn(from, this.#scratch.subarray(0, p.length));
      this.#scratch.fill(0xee);
    });
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Messages of every shape: small ones batched into a packet, one nearly a packet, fragmented ones. */
const MESSAGES = [10, 600, 1_300, 5_000, 20, 3_000].map((size, i) =>
  Uint8Array.from({ length: size }, (_, k) => (k * 7 + i) & 0xff)
);

async function deliver(receiveVia: (t: MemoryTransport) => PacketTransport) {
  const { clock, net } = simCluster(3, { delayMs: { min: 1, max: 2 } }, 1_400);
  const opts = { clock, rtoInitialMs: 50 };
  const a = new TransportManager({ nodeId: "a", transports: [net.createTransport("mem://a")], ...opts });
  const b = new TransportManager({
    nodeId: "b",
    transports: [receiveVia(net.createTransport("mem://b"))],
    ...opts,
  });
  a.setAddresses("b", ["mem://b"]);
  b.setAddresses("a", ["mem://a"]);
  const got: Uint8Array[] = [];
  b.onMessage(1, (_from, message) => got.push(message));
  for (const m of MESSAGES) void a.send("b", 1, m);
  expect(await runUntil(clock, () => got.length === MESSAGES.length, 10_000)).toBe(true);
  // Reliable, not ordered: a small message may overtake a fragmented one. Put them in send order.
  return MESSAGES.map((m) => got.find((g) => g.length === m.length)!);
}

describe("received packets: views or copies", () => {
  it("a backend that reuses its buffer still gets every message intact", async () => {
    const got = await deliver((t) => new ReusingBuffer(t));
    expect(got).toEqual(MESSAGES);
  });

  it("a backend that hands packets over gets large messages as views, small ones copied", async () => {
    const got = await deliver((t) => t); // MemoryTransport.handsOverPackets
    expect(got).toEqual(MESSAGES);
    const isView = (m: Uint8Array) => m.byteOffset > 0 || m.buffer.byteLength > m.length;
    // 1,300 B fills most of its packet: a view. 10 B and 20 B share packets with others: copies, so
    // that a small message kept by the application does not keep a whole packet alive.
    expect(isView(got[2])).toBe(true);
    expect(isView(got[0])).toBe(false);
    expect(isView(got[4])).toBe(false);
  });
});
