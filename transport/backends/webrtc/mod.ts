/**
 * The WebRTC backend: unordered, unreliable data channels between peers (werift on Node and Deno,
 * the native `RTCPeerConnection` in browsers), signaled through a WebSocket transport.
 *
 * ```ts
 * const ws = await createWebSocketTransport({ id: "tab-1", servers: ["ws://127.0.0.1:8080/"] });
 * const rtc = await createWebRtcTransport({ signaling: ws });   // webrtc+ws://127.0.0.1:8080/#tab-1
 * const tm = new TransportManager({ nodeId: "tab-1", transports: [rtc, ws] });
 * tm.setAddresses("tab-2", ["webrtc+ws://127.0.0.1:8080/#tab-2", "relay+ws://127.0.0.1:8080/#tab-2"]);
 * ```
 * Addresses: `address.ts`; signaling format: `signal_codec.ts`; channel semantics and flow
 * control: `transport.ts`.
 * @module
 */

import type { WebSocketTransport } from "../websocket/transport.ts";
import { loadRtc, type PeerConnectionConstructorLike } from "./rtc.ts";
import { type WebRtcCoreOptions, WebRtcTransport } from "./transport.ts";

export { signalingAddressOf, WEBRTC_SCHEMES, webRtcAddress, webRtcAddressOf } from "./address.ts";
export type {
  DataChannelLike,
  PeerConnectionConfig,
  PeerConnectionConstructorLike,
  PeerConnectionLike,
  RtcImplementation,
  SessionDescriptionLike,
} from "./rtc.ts";
export { decodeSignal, encodeSignal, type Signal, SIGNAL_VERSION } from "./signal_codec.ts";
export {
  WEBRTC_DEFAULT_MTU,
  type WebRtcCoreOptions,
  WebRtcTransport,
  type WebRtcTransportStats,
} from "./transport.ts";

/** Options of {@link createWebRtcTransport}. */
export interface WebRtcTransportOptions extends WebRtcCoreOptions {
  /** The WebSocket transport that carries signaling (its relay addresses become `webrtc+…` addresses). */
  signaling: WebSocketTransport;
  /**
   * An `RTCPeerConnection` implementation to use instead of the platform's.
   * @default {the global RTCPeerConnection in browsers, werift on Node and Deno}
   */
  RTCPeerConnection?: PeerConnectionConstructorLike;
  /** Which implementation an injected constructor is (they differ in details). @default {"native"} */
  implementation?: "native" | "werift";
}

/**
 * Creates a WebRTC transport. Peer connections open lazily, on the first packet to a peer.
 * @throws {RangeError} for invalid options.
 */
export async function createWebRtcTransport(opts: WebRtcTransportOptions): Promise<WebRtcTransport> {
  const impl = await loadRtc(opts.RTCPeerConnection, opts.implementation);
  return new WebRtcTransport(opts.signaling, impl, opts);
}
