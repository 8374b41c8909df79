/**
 * The transport layer of raincore: the {@link TransportManager} (reliable, atomic, connectionless
 * messages between node IDs, thesis 3.2), the {@link PacketTransport} contract every backend
 * implements, the memory backend with its deterministic {@link SimNetwork}, clocks, the seeded
 * PRNG and the typed errors.
 *
 * ```ts
 * import { SimNetwork, TransportManager, VirtualClock, Random } from "./mod.ts";
 * const clock = new VirtualClock();
 * const net = new SimNetwork({ clock, random: new Random(1), link: { loss: 0.1, delayMs: { min: 1, max: 5 } } });
 * const a = new TransportManager({ nodeId: "a", transports: [net.createTransport("mem://a")], clock });
 * const b = new TransportManager({ nodeId: "b", transports: [net.createTransport("mem://b")], clock });
 * b.onMessage(7, (from, message) => console.log(from, message));
 * a.setAddresses("b", ["mem://b"]);
 * let done = false;
 * a.send("b", 7, new TextEncoder().encode("hello")).then(() => (done = true));
 * clock.runUntil(() => done, 10_000);
 * ```
 * @module
 */

export { type Clock, SystemClock, type TimerId, VirtualClock } from "../base/clock.ts";
export { ClosedError, DecodeError, MissingDependencyError, RaincoreError } from "../base/errors.ts";
export { DeliveryFailedError, InvalidKeyError, MessageTooLargeError, UnknownNodeError } from "./errors.ts";
export { addressScheme, type PacketHandler, type PacketTransport } from "./packet_transport.ts";
export { Random } from "../base/random.ts";
export {
  type LinkOptions,
  MemoryTransport,
  SimNetwork,
  type SimNetworkEvent,
  type SimNetworkOptions,
  type SimNetworkStats,
} from "./backends/memory.ts";
export {
  type MessageHandler,
  TransportManager,
  type TransportManagerOptions,
  type TransportStats,
} from "./manager.ts";
export type { IncarnationConflict } from "./peer_rounds.ts";
export { newIncarnation } from "./incarnation.ts";
export { addressFailureMs, TRANSPORT_TIMING_DEFAULTS } from "./rtt.ts";
export { PROTOCOL_VERSION } from "./codec.ts";
export { TransportBindError } from "./errors.ts";
export { decodeSecureEnvelope, SECURE_OVERHEAD } from "./secure/envelope.ts";
export { derivePairKey, issueNodeCredential, type NodeCredential } from "./secure/keys.ts";
export { formatNodeCredential, parseKeyFile } from "./secure/key_file.ts";
export { loadNodeCrypto } from "./secure/node_crypto.ts";
export {
  type SecureTransport,
  secureTransport,
  type SecureTransportOptions,
  type SecureTransportStats,
} from "./secure/secure.ts";
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
} from "./backends/udp.ts";
export {
  createWebSocketTransport,
  formatRelayAddress,
  type GoneHandler,
  type ListenOptions,
  parseWebSocketAddress,
  type ReconnectOptions,
  type RelayKey,
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
} from "./backends/websocket/mod.ts";
export {
  createWebRtcTransport,
  type DataChannelLike,
  type PeerConnectionConfig,
  type PeerConnectionConstructorLike,
  type PeerConnectionLike,
  type RtcImplementation,
  type SessionDescriptionLike,
  WEBRTC_DEFAULT_MTU,
  WEBRTC_SCHEMES,
  webRtcAddress,
  type WebRtcCoreOptions,
  WebRtcTransport,
  type WebRtcTransportOptions,
  type WebRtcTransportStats,
} from "./backends/webrtc/mod.ts";
