/**
 * raincore: turn peers — server processes, edge nodes, browser tabs — into one fault-tolerant
 * cluster (the Raincore protocols). This module is the public API; it loads in Node, Deno and
 * browsers alike (backends that need a runtime feature, such as UDP, load it only when created).
 *
 * ```ts
 * import { createUdpTransport, TransportManager } from "./mod.ts";
 * const tm = new TransportManager({ nodeId: "a", transports: [await createUdpTransport({ port: 7001 })] });
 * ```
 * @module
 */

export * from "./transport/mod.ts";
export { TransportBindError } from "./transport/errors.ts";
export {
  createUdpTransport,
  formatUdpAddress,
  parseUdpAddress,
  UDP_LAN_MTU,
  UDP_LOOPBACK_MTU,
  UDP_MAX_MTU,
  type UdpBufferSizes,
  type UdpSocketAddress,
  UdpTransport,
  type UdpTransportOptions,
  type UdpTransportStats,
} from "./transport/udp.ts";
export {
  createWebSocketTransport,
  formatRelayAddress,
  parseWebSocketAddress,
  type ReconnectOptions,
  type SignalHandler,
  WEBSOCKET_DEFAULT_MTU,
  WEBSOCKET_SCHEMES,
  type WebSocketAddress,
  type WebSocketConstructorLike,
  type WebSocketCoreOptions,
  type WebSocketEventLike,
  type WebSocketLike,
  WebSocketTransport,
  type WebSocketTransportOptions,
  type WebSocketTransportStats,
} from "./transport/websocket/mod.ts";
export {
  createWebRtcTransport,
  type PeerConnectionConstructorLike,
  WEBRTC_DEFAULT_MTU,
  WEBRTC_SCHEMES,
  webRtcAddress,
  type WebRtcCoreOptions,
  WebRtcTransport,
  type WebRtcTransportOptions,
  type WebRtcTransportStats,
} from "./transport/webrtc/mod.ts";
