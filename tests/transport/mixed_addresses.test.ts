/**
 * Mixed addresses end to end: two peers behind one WebSocket server, each reachable at a direct
 * WebRTC address and at a relay address (as browser tabs are). The Transport Manager sends
 * directly, falls back to the relay at once when the channel closes, and goes back to the direct
 * path when the channel has reopened. Runs only in a loopback-only network namespace:
 *   node scripts/loopback-only.mjs npx vitest run tests/transport/mixed_addresses.test.ts
 */
import { afterEach, describe, expect, it } from "vitest";
import { TransportManager } from "../../transport/manager.ts";
import { createWebRtcTransport, type WebRtcTransport } from "../../transport/backends/webrtc/mod.ts";
import { createWebSocketTransport, type WebSocketTransport } from "../../transport/backends/websocket/mod.ts";
import { webRtcSkipReason } from "../helpers/loopback_netns.ts";
import { until } from "../helpers/until.ts";
import { withDeadline } from "./compliance.ts";

const skip = webRtcSkipReason();

if (skip !== undefined) {
  // Refuse loudly rather than skip: these stacks may only run where no packet can leave the host.
  it(`mixed addresses`, () => {
    throw new Error(`cannot run here: ${skip}`);
  });
} else {
  describe("WebRTC first, WebSocket relay as fallback", () => {
    const closers: Array<() => Promise<void>> = [];
    afterEach(async () => {
      for (const c of closers.splice(0).reverse()) await c();
    });

    async function peer(id: string, server: string) {
      const ws = await createWebSocketTransport({ id, servers: [server] });
      const rtc = await createWebRtcTransport({ signaling: ws, loopbackOnly: true, retryMs: 300 });
      const tm = new TransportManager({ nodeId: id, transports: [rtc, ws] });
      closers.push(() => tm.close());
      return { ws, rtc, tm };
    }

    it("switches to the relay when the channel closes and back when it reopens", async () => {
      const hub: WebSocketTransport = await createWebSocketTransport({ listen: { port: 0 } });
      closers.push(() => hub.close());
      const server = hub.addresses[0];
      const a = await peer("a", server);
      const b = await peer("b", server);
      const direct = (id: string) => `webrtc+${server}#${id}`;
      const relay = (id: string) => `relay+${server}#${id}`;
      a.tm.setAddresses("b", [direct("b"), relay("b")]);
      b.tm.setAddresses("a", [direct("a"), relay("a")]);
      let got = 0;
      b.tm.onMessage(1, () => got++);
      const rtcA: WebRtcTransport = a.rtc;
      const send = (n: number) =>
        withDeadline(
          Promise.all(Array.from({ length: n }, () => a.tm.send("b", 1, new Uint8Array(100)))),
          5_000,
          `${n} sends`,
        );

      // Direct: the first packets wait for the channel, then everything goes over WebRTC.
      await send(10);
      expect(rtcA.isOpen(direct("b"))).toBe(true);
      const relayedAtStart = hub.stats.packetsRelayed;
      const directSent = rtcA.stats.packetsSent;
      await send(10);
      expect(rtcA.stats.packetsSent).toBeGreaterThan(directSent);
      expect(hub.stats.packetsRelayed).toBe(relayedAtStart);

      // The channel closes: the next sends go through the relay at once, without timeouts. No
      // resend proves it: had the manager waited out a timeout on the closed channel before trying
      // the relay, the packets would have been counted as retransmissions.
      b.rtc.disconnect(direct("a"));
      await until("a sees the channel closed", 5_000, () => !rtcA.isOpen(direct("b")));
      const sentBefore = rtcA.stats.packetsSent;
      const retransBefore = a.tm.stats.retransmissions;
      await send(10);
      expect(a.tm.stats.retransmissions).toBe(retransBefore);
      expect(rtcA.stats.packetsSent).toBe(sentBefore);
      expect(hub.stats.packetsRelayed).toBeGreaterThan(relayedAtStart);

      // The channel reopens after the back-off; the manager returns to it.
      await until("the channel reopens", 10_000, () => {
        void a.tm.send("b", 1, new Uint8Array(1)).catch(() => undefined); // keeps asking, as traffic would
        return rtcA.isOpen(direct("b"));
      });
      await send(5); // acknowledged over the relay or directly; an ack moves the sender back
      const relayedBefore = hub.stats.packetsRelayed;
      const directBefore = rtcA.stats.packetsSent;
      await send(10);
      expect(rtcA.stats.packetsSent).toBeGreaterThan(directBefore);
      expect(hub.stats.packetsRelayed - relayedBefore).toBeLessThan(5); // acks from b may still take the relay briefly
      expect(got).toBeGreaterThanOrEqual(45);
    }, 30_000);
  });
}
