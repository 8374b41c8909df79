/**
 * The WebRTC backend on Deno (werift through `npm:werift`, Deno.serve for signaling): two
 * Transport Managers exchange a 1 MiB message over a data channel. Runs only inside a
 * loopback-only network namespace (ignored otherwise, e.g. in scripts/deno-tests.mjs):
 *   node scripts/loopback-only.mjs node_modules/.bin/deno test -A tests/deno/webrtc_test.ts
 */
import { TransportManager } from "../../transport/manager.ts";
import { createWebRtcTransport } from "../../transport/backends/webrtc/mod.ts";
import { createWebSocketTransport } from "../../transport/backends/websocket/mod.ts";

function onlyLoopback(): boolean {
  try {
    return Deno.env.get("RAINCORE_LOOPBACK_NETNS") === "1" &&
      Deno.networkInterfaces().every((i) => i.name === "lo");
  } catch {
    return false; // no permission to look: not proven isolated
  }
}

Deno.test({
  name: "WebRTC (werift) on Deno: a 1 MiB message between two Transport Managers",
  ignore: !onlyLoopback(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const hub = await createWebSocketTransport({ listen: { port: 0 } });
    const wa = await createWebSocketTransport({ id: "a", servers: [hub.addresses[0]] });
    const wb = await createWebSocketTransport({ id: "b", servers: [hub.addresses[0]] });
    const ra = await createWebRtcTransport({ signaling: wa, loopbackOnly: true });
    const rb = await createWebRtcTransport({ signaling: wb, loopbackOnly: true });
    const a = new TransportManager({ nodeId: "a", transports: [ra] });
    const b = new TransportManager({ nodeId: "b", transports: [rb] });
    try {
      if (ra.implementation !== "werift") throw new Error(`implementation ${ra.implementation}`);
      a.setAddresses("b", [...rb.addresses]);
      const message = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) & 0xff);
      const got = new Promise<Uint8Array>((resolve) => b.onMessage(1, (_, m) => resolve(m.slice())));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("no delivery within 30 s")), 30_000);
      });
      await Promise.race([a.send("b", 1, message), deadline]);
      const m = await Promise.race([got, deadline]);
      clearTimeout(timer);
      if (m.length !== message.length || m.some((v, i) => v !== message[i])) throw new Error("corrupted");
      if (ra.stats.channelsOpened !== 1) throw new Error(`channels opened: ${ra.stats.channelsOpened}`);
    } finally {
      await a.close();
      await b.close();
      await wa.close();
      await wb.close();
      await hub.close();
    }
  },
});
