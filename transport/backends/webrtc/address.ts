/**
 * WebRTC addresses. A WebRTC peer is found through the WebSocket server that carries its
 * signaling, so its address is its relay address with `webrtc+` in place of `relay+`:
 *
 * | address | signaling goes to |
 * | --- | --- |
 * | `webrtc+ws://127.0.0.1:8080/#tab-7` | `relay+ws://127.0.0.1:8080/#tab-7` |
 * | `webrtc+wss://edge.example/rc#n1` | `relay+wss://edge.example/rc#n1` |
 *
 * A server endpoint is addressed by its own relay ID at its own server (it relays to itself).
 * @module
 */

import { formatRelayAddress, tryParseWebSocketAddress } from "../websocket/address.ts";

/** Address schemes of the WebRTC backend. */
export const WEBRTC_SCHEMES: readonly string[] = Object.freeze(["webrtc+ws", "webrtc+wss"]);

/** The relay address that carries the signaling of WebRTC address `address`, or `undefined`. */
export function signalingAddressOf(address: string): string | undefined {
  if (!address.startsWith("webrtc+")) return undefined;
  const relay = `relay+${address.slice(7)}`;
  const parsed = tryParseWebSocketAddress(relay);
  return parsed?.relayId === undefined ? undefined : formatRelayAddress(parsed.server, parsed.relayId);
}

/** The WebRTC address of the peer whose signaling arrives from relay address `relay`, or `undefined`. */
export function webRtcAddressOf(relay: string): string | undefined {
  const parsed = tryParseWebSocketAddress(relay);
  if (parsed?.relayId === undefined) return undefined;
  return `webrtc+${formatRelayAddress(parsed.server, parsed.relayId).slice(6)}`;
}

/** The WebRTC address of endpoint `id` signaled through server `server` (`ws://…`). */
export function webRtcAddress(server: string, id: string): string {
  return `webrtc+${formatRelayAddress(server, id).slice(6)}`;
}
