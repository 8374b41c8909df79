/**
 * Sequence mode with a preferred address whose backend reports reachability (a browser peer's
 * WebRTC address before its relay address): the manager falls back to the second address at once
 * when the first is reported unreachable, and returns to the first once it is reported usable
 * again — but not to a path that went silent (timeouts) before a hold-down has passed.
 */
import { describe, expect, it } from "vitest";
import { TransportManager } from "../../transport/manager.ts";
import type { MemoryTransport } from "../../transport/backends/memory.ts";
import type { PacketHandler, PacketTransport } from "../../transport/packet_transport.ts";
import { runUntil, simCluster, track } from "./_helpers.ts";

/** A `direct://` backend over a memory transport that the test can take down, loudly or silently. */
class Switchable implements PacketTransport {
  readonly kind = "direct";
  readonly mtu: number;
  readonly addresses: readonly string[];
  /** Reported unreachable (like a closed WebRTC channel). */
  down = false;
  /** Drops everything but says nothing (a path that went silent). */
  silent = false;
  sent = 0;
  constructor(readonly inner: MemoryTransport, name: string) {
    this.mtu = inner.mtu;
    this.addresses = [`direct://${name}`];
  }
  send(to: string, packet: Uint8Array): void {
    if (this.down || this.silent) return;
    this.sent++;
    this.inner.send(to.replace("direct://", "mem://d-"), packet);
  }
  onPacket(fn: PacketHandler): void {
    this.inner.onPacket((from, p) => {
      if (!this.down && !this.silent) fn(from.replace("mem://d-", "direct://"), p);
    });
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  isUnreachable(): boolean {
    return this.down;
  }
}

function setup() {
  const { clock, net } = simCluster(7, { delayMs: { min: 1, max: 1 } });
  const directA = new Switchable(net.createTransport("mem://d-a"), "a");
  const directB = new Switchable(net.createTransport("mem://d-b"), "b");
  const opts = { clock, rtoInitialMs: 50, rtoMinMs: 20, rtoMaxMs: 200, retries: 2 };
  const a = new TransportManager({
    nodeId: "a",
    transports: [directA, net.createTransport("mem://a")],
    ...opts,
  });
  const b = new TransportManager({
    nodeId: "b",
    transports: [directB, net.createTransport("mem://b")],
    ...opts,
  });
  a.setAddresses("b", ["direct://b", "mem://b"]);
  b.setAddresses("a", ["direct://a", "mem://a"]);
  let got = 0;
  b.onMessage(1, () => got++);
  const send = async () => {
    const o = track(clock, a.send("b", 1, new Uint8Array([1])));
    expect(await runUntil(clock, () => o.settled, 10_000)).toBe(true);
    expect(o.state).toBe("resolved");
  };
  return { clock, a, b, directA, send, got: () => got };
}

describe("TransportManager sequence mode: back to the preferred address", () => {
  it("falls back at once when the first address is reported unreachable, returns when it is usable", async () => {
    const s = await setup();
    await s.send();
    const viaDirect = s.directA.sent;
    expect(viaDirect).toBeGreaterThan(0);

    s.directA.down = true;
    const before = s.clock.now();
    await s.send();
    expect(s.clock.now() - before).toBeLessThan(50); // no timeout waited out
    expect(s.directA.sent).toBe(viaDirect);
    expect(s.a.stats.retransmissions).toBe(0);

    s.directA.down = false;
    await s.send(); // acknowledged over the fallback; that ack moves the sender back
    const atReturn = s.directA.sent;
    await s.send();
    expect(s.directA.sent).toBeGreaterThan(atReturn);
    expect(s.got()).toBe(4);
  });

  it("does not return to an address that timed out before the hold-down passed", async () => {
    const s = await setup();
    await s.send();
    s.directA.silent = true; // reported usable, but drops everything
    await s.send(); // times out on direct, succeeds over the fallback
    expect(s.a.stats.retransmissions).toBeGreaterThan(0);
    const retrans = s.a.stats.retransmissions;
    for (let i = 0; i < 5; i++) await s.send();
    expect(s.a.stats.retransmissions).toBe(retrans); // stayed on the fallback: no swinging back
    s.directA.silent = false;
    s.clock.advance(200 * 3 + 1); // the hold-down: rtoMaxMs × (retries + 1)
    await s.send();
    const sent = s.directA.sent;
    await s.send();
    expect(s.directA.sent).toBeGreaterThan(sent);
  });
});
