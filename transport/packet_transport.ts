/**
 * The backend contract: unreliable datagrams between addresses. Everything above it (reliability,
 * fragmentation, ordering, failure detection) is the Transport Manager's job, so a backend stays
 * small: UDP, WebSocket, WebRTC and the simulated network all implement just this.
 * @module
 */

/**
 * Called for every packet a backend receives. `packet` may be reused after the call returns, unless
 * the backend declares {@link PacketTransport.handsOverPackets}.
 */
export type PacketHandler = (from: string, packet: Uint8Array) => void;

/** One backend instance: best-effort datagrams to and from addresses such as `udp://127.0.0.1:7001`. */
export interface PacketTransport {
  /** Backend name: `"udp"`, `"websocket"`, `"webrtc"`, `"memory"`, … */
  readonly kind: string;
  /** Largest packet payload, in bytes, that this backend carries. */
  readonly mtu: number;
  /** Addresses at which peers reach this instance. */
  readonly addresses: readonly string[];
  /**
   * Optional: the address schemes this backend sends to (e.g. `["ws", "wss", "relay+ws"]`), when
   * it reaches more kinds of addresses than its own first one shows. @default {the scheme of `addresses[0]`}
   */
  readonly schemes?: readonly string[];
  /**
   * Optional: true when every packet handed to the handler is the handler's to keep — the backend
   * never reuses or changes its bytes afterwards. The Transport Manager then delivers large messages
   * as views into their packets instead of copying them. @default {false}
   */
  readonly handsOverPackets?: boolean;
  /** Sends one packet, best effort: it may be lost, duplicated or reordered; never throws for that. */
  send(to: string, packet: Uint8Array): void;
  /** Registers the handler for incoming packets (one handler; a later call replaces it). */
  onPacket(fn: PacketHandler): void;
  /** Stops sending and receiving and releases the backend's resources. */
  close(): Promise<void>;
  /**
   * Optional: registers a function called when {@link addresses} changed (a WebSocket client that
   * attached to another server, a server that started listening); one function, a later call
   * replaces it. Backends whose addresses never change need not implement it.
   */
  onAddressChange?(fn: () => void): void;
  /**
   * Optional: whether packets to `to` are known to be undeliverable right now (e.g. a closed
   * WebSocket). The Transport Manager counts such an address as failed at once instead of
   * waiting out its retransmission timeout.
   */
  isUnreachable?(to: string): boolean;
}

/** The scheme of an address (`"udp"` for `udp://127.0.0.1:7001`). */
export function addressScheme(address: string): string {
  const i = address.indexOf("://");
  return i < 0 ? "" : address.slice(0, i);
}
