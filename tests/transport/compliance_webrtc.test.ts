/**
 * Runs the transport compliance suite against the WebRTC backend (werift on Node) on loopback,
 * signaled through a WebSocket relay server. Runs only in a loopback-only network namespace:
 *   node scripts/loopback-only.mjs npx vitest run tests/transport/compliance_webrtc.test.ts
 */
import { it } from "vitest";
import { createWebRtcTransport, type WebRtcTransport } from "../../transport/backends/webrtc/mod.ts";
import { createWebSocketTransport, type WebSocketTransport } from "../../transport/backends/websocket/mod.ts";
import { webRtcSkipReason } from "../helpers/loopback_netns.ts";
import { describeTransportCompliance } from "./compliance.ts";

const skip = webRtcSkipReason();
if (skip !== undefined) {
  // Refuse loudly rather than skip: these stacks may only run where no packet can leave the host.
  it(`webrtc compliance`, () => {
    throw new Error(`cannot run here: ${skip}`);
  });
} else {
  let hub: WebSocketTransport | undefined;
  let signaling: WebSocketTransport[] = [];
  let peers: WebRtcTransport[] = [];
  let n = 0;
  const hubAddress = async (): Promise<string> => {
    hub ??= await createWebSocketTransport({ listen: { port: 0 } });
    return hub.addresses[0];
  };
  describeTransportCompliance({
    name: "webrtc (werift, loopback)",
    create: async (): Promise<WebRtcTransport> => {
      const ws = await createWebSocketTransport({ id: `peer-${++n}`, servers: [await hubAddress()] });
      signaling.push(ws);
      const t = await createWebRtcTransport({ signaling: ws, loopbackOnly: true });
      // Open the channels to the transports of this test ahead of time: the suite's fail-over
      // test detects failure in ~150 ms, less than a channel takes to open (0.15–0.6 s).
      const opened = await Promise.all(peers.filter((p) => !p.closed).map((p) => t.connect(p.addresses[0])));
      if (!opened.every(Boolean)) throw new Error("a data channel did not open");
      peers.push(t);
      return t;
    },
    deadAddress: async () => `webrtc+${(await hubAddress())}#nobody-${++n}`,
    cleanup: async () => {
      const all = signaling;
      signaling = [];
      peers = [];
      await Promise.all(all.map((s) => s.close()));
      await hub?.close();
      hub = undefined;
    },
  }, { eventTimeoutMs: 10_000 });
}
