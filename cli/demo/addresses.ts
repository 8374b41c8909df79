/**
 * How the demo's members reach each other. Every member attaches to the demo's WebSocket hub
 * under its own ID, so every address follows from the ID: a browser tab is
 * `webrtc+HUB#id` (direct data channel, signaled through the hub) then `relay+HUB#id`; a server
 * member is `relay+HUB#id` from a tab and `udp://…` from the other server members. A node that
 * joins the ring is handed the token before anyone set its addresses, so the layer given to the
 * GCM and GDM fills them in on the first send ({@link resolvingLayer}).
 * @module
 */
import type { MessageLayer, TransportManager } from "../../mod.ts";

/** The addresses of `id` behind the hub `hub` (`ws://host:port/`), direct WebRTC first when `rtc`. */
export function hubAddresses(hub: string, id: string, rtc: boolean): string[] {
  const relay = `relay+${hub}#${encodeURIComponent(id)}`;
  return rtc ? [`webrtc+${hub}#${encodeURIComponent(id)}`, relay] : [relay];
}

/**
 * A message layer over `tm` that sets a node's addresses from `resolve(id)` before the first send
 * to it (and whenever they were replaced by a learned source address that is not among them).
 */
export function resolvingLayer(tm: TransportManager, resolve: (id: string) => string[]): MessageLayer {
  return {
    nodeId: tm.nodeId,
    post(id, channel, msg, outcome) {
      const want = resolve(id);
      const have = tm.addressesOf(id);
      if (want.length > 0 && (have.length !== want.length || have.some((a, i) => a !== want[i]))) {
        tm.setAddresses(id, want);
      }
      tm.post(id, channel, msg, outcome);
    },
    onMessage: (channel, fn) => tm.onMessage(channel, fn),
  };
}
