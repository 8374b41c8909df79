/**
 * The runtime-neutral core of the WebSocket backend: a {@link PacketTransport} over any number of
 * WebSocket connections — outgoing ones it dials itself (to `ws://` addresses and to the servers
 * that relay for it) and incoming ones handed to {@link WebSocketTransport.accept} by a server
 * (`node_server.ts`, `deno_server.ts`, or an edge runtime's own upgrade).
 *
 * A server relays: a client sends `RELAY(id, packet)` and the server forwards it to its client
 * `id`, so two browsers that cannot reach each other are still neighbours (see `address.ts`). A
 * server answers a relay to a client it does not have with `NO_ROUTE`, and a dropped connection
 * is redialled with exponential back-off; meanwhile {@link WebSocketTransport.isUnreachable} says
 * so, and the Transport Manager fails the address at once instead of waiting out its timeouts.
 * Every server this endpoint is attached to relays for it, so its addresses are its own servers'
 * URLs, then a relay address behind each of its `servers` that it is attached to (if none is up:
 * behind one other server it is connected to, else behind the ones it keeps redialling);
 * {@link WebSocketTransport.onAddressChange} reports each change (a tab that reconnected elsewhere).
 * The accepting side — limits, relay IDs (one live connection each; proven with a key), slow
 * readers — is `inbound.ts`. A client names itself only after the server's CHALLENGE, with a proof
 * when it has a `key` (`relay_auth.ts`).
 *
 * Create one with `createWebSocketTransport()` (`mod.ts`), which also starts a server if asked.
 * @module
 */

import type { PacketHandler, PacketTransport } from "../../packet_transport.ts";
import {
  formatRelayAddress,
  normalizeServerUrl,
  tryParseWebSocketAddress,
  validRelayId,
  WEBSOCKET_SCHEMES,
  type WebSocketAddress,
} from "./address.ts";
import {
  decodeFrame,
  encodeDataFrame,
  encodeHelloFrame,
  encodePingFrame,
  encodeRelayFrame,
  type Frame,
  FRAME_CHALLENGE,
  FRAME_DATA,
  FRAME_GONE,
  FRAME_NO_ROUTE,
  FRAME_PING,
  FRAME_PONG,
  FRAME_RELAY,
  FRAME_RELAYED,
  LANE_PACKET,
  LANE_SIGNAL,
  relayIdBytes,
} from "./frame.ts";
import { CLOSE, closeQuietly, InboundConnections } from "./inbound.ts";
import { checkRelayKey, type RelayKey, relayProof } from "./relay_auth.ts";
import {
  binaryData,
  OPEN,
  type WebSocketConstructorLike,
  type WebSocketEventLike,
  type WebSocketLike,
} from "./socket.ts";

/** Default largest packet: like UDP on loopback; a stream has no datagram limit of its own. */
export const WEBSOCKET_DEFAULT_MTU = 65_000;

/** Reconnection back-off of outgoing connections. */
export interface ReconnectOptions {
  /** Delay before the first redial, in ms. @default {100} */
  initialMs?: number;
  /** Longest delay between redials, in ms. @default {5_000} */
  maxMs?: number;
  /** Factor applied to the delay after each failed dial. @default {2} */
  multiplier?: number;
  /**
   * Keep redialling an address that is not in `servers` only while it was used (sent to or asked
   * about) within this many ms; then let it rest until the next send. @default {30_000}
   */
  idleMs?: number;
}

/** Options of the {@link WebSocketTransport} core (see `createWebSocketTransport` for the rest). */
export interface WebSocketCoreOptions {
  /** This endpoint's relay ID (1..255 bytes UTF-8): its name at the servers it attaches to. @default {a random ID} */
  id?: string;
  /** Largest packet payload in bytes (64..65,535). @default {WEBSOCKET_DEFAULT_MTU} (65,000) */
  mtu?: number;
  /**
   * Servers (`ws://…`/`wss://…`) to stay connected to, so that peers reach this endpoint through
   * them at `relay+ws://…#id` (listed in `addresses`). @default {[]}
   */
  servers?: readonly string[];
  /** Whether accepted clients may relay through this endpoint. @default {true} */
  relay?: boolean;
  /**
   * Bytes queued on a connection (WebSocket `bufferedAmount`) above which: on a connection this
   * endpoint dialled, further packets are dropped (the Transport Manager resends); on an accepted
   * one, the client is closed as a slow reader. Above the Transport Manager's window (1 MiB in
   * flight per sender), so a reader that keeps up with several senders is never cut off.
   * @default {8_388_608}
   */
  maxBufferedBytes?: number;
  /** Accepted connections at most; more are closed at once. @default {1024} */
  maxConnections?: number;
  /** Bytes queued on all accepted connections together above which the fullest is closed. @default {67_108_864} */
  maxTotalBufferedBytes?: number;
  /** Time an accepted connection has to name itself (HELLO), ms. @default {10_000} */
  identifyTimeoutMs?: number;
  /** Time the holder of a relay ID has to answer when another connection claims the ID, ms. @default {2_000} */
  claimCheckMs?: number;
  /**
   * Cluster key or node credential. As a client, proves this endpoint's relay ID to servers; as a
   * server, requires every client to prove its own (so none can take another's). Give servers and
   * clients keys of one cluster, like the secure transport's. @default {none: the first live claim of a relay ID holds it}
   */
  key?: RelayKey;
  /** How long a `NO_ROUTE` answer makes a relay address count as unreachable, in ms. @default {500} */
  noRouteHoldMs?: number;
  /** Back-off of redials. */
  reconnect?: ReconnectOptions;
}

/** Counters of a {@link WebSocketTransport}. */
export interface WebSocketTransportStats {
  /** Packets handed to a connection. */
  packetsSent: number;
  /** Packets received and handed to the handler. */
  packetsReceived: number;
  /** Packets dropped: connection down, buffer over `maxBufferedBytes`, bad address. */
  packetsDropped: number;
  /** Packets forwarded between two clients. */
  packetsRelayed: number;
  /** Accepted connections closed by a limit or rule (too many, no or unproven HELLO, ID in use, slow reader, bad frame). */
  connectionsRefused: number;
  /** Connections this endpoint dialled that the server closed with a refusal (ID in use, not authenticated). */
  helloRefused: number;
  /** Frames that failed to decode. */
  decodeErrors: number;
  /** Outgoing connections opened (first dials and redials). */
  connectionsOpened: number;
  /** Incoming connections accepted. */
  connectionsAccepted: number;
}

/** Handler of WebRTC signaling messages: `from` is the sender's relay address. */
export type SignalHandler = (from: string, message: Uint8Array) => void;

/** Handler of departures: `relay` is the relay address of a client that detached from its server. */
export type GoneHandler = (relay: string) => void;

interface Outbound {
  readonly server: string;
  socket: WebSocketLike | undefined;
  /** "connecting" lasts until the server's CHALLENGE was answered. */
  state: "connecting" | "open" | "down";
  /** Whether the connection was open once (a first dial queues; a redial does not). */
  opened: boolean;
  failures: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  lastUsed: number;
  readonly keep: boolean;
  queue: Uint8Array[];
}

const FIRST_DIAL_QUEUE = 256;
const ADDRESS_CACHE_LIMIT = 4_096;
/** Placeholder server address for an endpoint that only accepts (edge runtimes) and advertises none. */
const LOCAL_SERVER = "ws://local.invalid/";

/** A {@link PacketTransport} over WebSocket connections; see the module documentation. */
export class WebSocketTransport implements PacketTransport {
  /** Always `"websocket"`. */
  readonly kind = "websocket";
  /** Every WebSocket message arrives in a buffer of its own (`ws`, browsers, Deno); a frame's payload is a view of it: see {@link PacketTransport.handsOverPackets}. */
  readonly handsOverPackets = true;
  /** Address schemes this backend sends to. */
  readonly schemes: readonly string[] = WEBSOCKET_SCHEMES;
  /** Largest packet payload. */
  readonly mtu: number;
  /** This endpoint's relay ID. */
  readonly id: string;
  /** Counters since creation. */
  readonly stats: WebSocketTransportStats = {
    packetsSent: 0,
    packetsReceived: 0,
    packetsDropped: 0,
    packetsRelayed: 0,
    connectionsRefused: 0,
    helloRefused: 0,
    decodeErrors: 0,
    connectionsOpened: 0,
    connectionsAccepted: 0,
  };
  readonly #connect: WebSocketConstructorLike | undefined;
  readonly #maxBuffered: number;
  readonly #key: RelayKey | undefined;
  readonly #inbound: InboundConnections;
  readonly #noRouteHoldMs: number;
  readonly #backoff: Required<ReconnectOptions>;
  readonly #selfServers = new Set<string>();
  #primaryServer: string;
  #addresses: string[] = [];
  readonly #servers: readonly string[];
  readonly #outbound = new Map<string, Outbound>();
  readonly #parsed = new Map<string, WebSocketAddress | null>();
  readonly #noRoute = new Map<string, number>();
  #handler: PacketHandler | undefined;
  #addressHandler: (() => void) | undefined;
  readonly #addressWatchers = new Set<() => void>();
  #signalHandler: SignalHandler | undefined;
  #goneHandler: GoneHandler | undefined;
  #closing: Promise<void> | undefined;
  readonly #onClose: Array<() => Promise<void>> = [];

  /**
   * An endpoint that is not yet listening or dialling (`createWebSocketTransport` does both).
   * @param options core options.
   * @param connect constructor of client sockets; without one, this endpoint cannot dial out.
   * @throws {RangeError} for an invalid option.
   */
  constructor(options: WebSocketCoreOptions, connect: WebSocketConstructorLike | undefined) {
    this.id = options.id ?? randomId();
    if (!validRelayId(this.id)) throw new RangeError("'id' must be 1..255 bytes of UTF-8");
    this.mtu = options.mtu ?? WEBSOCKET_DEFAULT_MTU;
    if (!Number.isInteger(this.mtu) || this.mtu < 64 || this.mtu > 65_535) {
      throw new RangeError("'mtu' must be an integer 64..65535");
    }
    this.#connect = connect;
    this.#maxBuffered = limit(options.maxBufferedBytes, 8 * 1024 * 1024, "maxBufferedBytes");
    this.#key = options.key;
    if (this.#key !== undefined) checkRelayKey(this.#key, this.id);
    this.#inbound = new InboundConnections({
      id: this.id,
      relay: options.relay ?? true,
      key: this.#key,
      stats: this.stats,
      primaryServer: () => this.#primaryServer,
      decode: (data) => this.#decode(data),
      deliver: (lane, from, payload) => this.#deliver(lane, from, payload),
      gone: (relay) => this.#goneHandler?.(relay),
    }, {
      maxConnections: limit(options.maxConnections, 1024, "maxConnections"),
      identifyTimeoutMs: limit(options.identifyTimeoutMs, 10_000, "identifyTimeoutMs"),
      maxBufferedBytes: this.#maxBuffered,
      maxTotalBufferedBytes: limit(options.maxTotalBufferedBytes, 64 * 1024 * 1024, "maxTotalBufferedBytes"),
      claimCheckMs: limit(options.claimCheckMs, 2_000, "claimCheckMs"),
    });
    this.#noRouteHoldMs = options.noRouteHoldMs ?? 500;
    const r = options.reconnect ?? {};
    this.#backoff = {
      initialMs: r.initialMs ?? 100,
      maxMs: r.maxMs ?? 5_000,
      multiplier: r.multiplier ?? 2,
      idleMs: r.idleMs ?? 30_000,
    };
    if (!(this.#backoff.initialMs > 0 && this.#backoff.maxMs >= this.#backoff.initialMs)) {
      throw new RangeError("reconnect: need 0 < initialMs ≤ maxMs");
    }
    const servers: string[] = [];
    for (const s of options.servers ?? []) {
      const n = normalizeServerUrl(s);
      if (n === undefined) throw new RangeError(`'servers' holds a non-WebSocket URL "${s}"`);
      servers.push(n);
    }
    if (servers.length > 0 && connect === undefined) {
      throw new RangeError("'servers' needs a WebSocket client implementation");
    }
    this.#servers = servers;
    this.#primaryServer = LOCAL_SERVER;
    this.#selfServers.add(LOCAL_SERVER);
    this.#refreshAddresses();
  }

  /** Addresses at which peers reach this endpoint: its server URLs, then its relay addresses. */
  get addresses(): readonly string[] {
    return this.#addresses;
  }

  /** Whether {@link WebSocketTransport.close} was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * @internal Declares a server address of this endpoint (by `createWebSocketTransport` once it
   * listens, or for an endpoint fed through `accept()`), and a hook to run on close.
   */
  _addServer(address: string, onClose?: () => Promise<void>): void {
    const n = normalizeServerUrl(address);
    if (n === undefined) throw new RangeError(`not a WebSocket URL: "${address}"`);
    if (this.#primaryServer === LOCAL_SERVER) this.#primaryServer = n;
    this.#selfServers.add(n);
    if (onClose !== undefined) this.#onClose.push(onClose);
    this.#refreshAddresses();
  }

  /** @internal Dials every server of `servers` and resolves when each has opened or failed once. */
  _attach(timeoutMs: number): Promise<void> {
    const waits = this.#servers.map((s) => {
      const out = this.#dial(s, true);
      return new Promise<void>((resolve) => {
        const deadline = Date.now() + timeoutMs;
        const poll = (): void => {
          if (out.state !== "connecting" || Date.now() > deadline || this.closed) resolve();
          else setTimeout(poll, 5);
        };
        poll();
      });
    });
    return Promise.all(waits).then(() => undefined);
  }

  /**
   * Takes over an incoming WebSocket (open or still connecting) whose HTTP upgrade someone else
   * did: a server of this module, `Deno.upgradeWebSocket`, or an edge runtime. The client's first
   * frame names it; after that it can send, be sent to and relay. Closes the socket if this
   * transport is closed.
   */
  accept(socket: WebSocketLike): void {
    this.#inbound.accept(socket);
  }

  /**
   * Sends one packet, best effort; the bytes are copied at once. Dials the server of `to` if no
   * connection is open (packets wait for the first dial; after a connection failed they are
   * dropped until a redial succeeds).
   * @throws {RangeError} when the packet is larger than {@link WebSocketTransport.mtu}.
   */
  send(to: string, packet: Uint8Array): void {
    if (packet.length > this.mtu) {
      throw new RangeError(`packet of ${packet.length} bytes exceeds the mtu (${this.mtu})`);
    }
    this.#send(to, LANE_PACKET, packet);
  }

  /**
   * Sends a WebRTC signaling message to the endpoint at relay address `to` (best effort; the
   * WebRTC backend retries). Arrives at that endpoint's {@link WebSocketTransport.onSignal}.
   */
  sendSignal(to: string, message: Uint8Array): void {
    this.#send(to, LANE_SIGNAL, message);
  }

  /** Registers the handler of signaling messages (a later call replaces it). */
  onSignal(fn: SignalHandler): void {
    this.#signalHandler = fn;
  }

  /** Registers the handler for incoming packets (a later call replaces it). */
  onPacket(fn: PacketHandler): void {
    this.#handler = fn;
  }

  /** Registers the function called when {@link WebSocketTransport.addresses} changed (a later call replaces it). */
  onAddressChange(fn: () => void): void {
    this.#addressHandler = fn;
  }

  /**
   * @internal Also calls `fn` on every address change (the WebRTC backend, whose addresses follow its
   * signaling transport's); returns a function that stops it.
   */
  _watchAddresses(fn: () => void): () => void {
    this.#addressWatchers.add(fn);
    return () => this.#addressWatchers.delete(fn);
  }

  /**
   * Registers the handler of departures (a later call replaces it): a server reports each client
   * that detached from it to its other clients (and to itself), so that paths to that client —
   * its relay address, and the WebRTC channels of the same endpoint — fail fast.
   */
  onGone(fn: GoneHandler): void {
    this.#goneHandler = fn;
  }

  /**
   * Whether packets to `to` cannot be delivered now: its connection failed and is being redialled,
   * the server said it has no such client, or (as a server) no such client is attached. Asking
   * keeps a redial of that address going.
   */
  isUnreachable(to: string): boolean {
    if (this.closed) return true;
    const a = this.#parse(to);
    if (a === undefined) return true;
    if (this.#selfServers.has(a.server)) {
      return a.relayId !== undefined && a.relayId !== this.id && !this.#inbound.has(a.relayId);
    }
    const out = this.#outbound.get(a.server);
    if (out === undefined) return this.#connect === undefined;
    out.lastUsed = Date.now();
    if (out.state === "down") {
      if (out.timer === undefined) this.#scheduleRedial(out);
      return true;
    }
    if (out.state === "connecting") return out.opened || out.failures > 0;
    if (a.relayId !== undefined) {
      const until = this.#noRoute.get(to);
      if (until !== undefined) {
        if (Date.now() < until) return true;
        this.#noRoute.delete(to);
      }
    }
    return false;
  }

  /** Closes every connection and the server, if any; idempotent. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#handler = undefined;
      this.#signalHandler = undefined;
      this.#goneHandler = undefined;
      for (const out of this.#outbound.values()) {
        if (out.timer !== undefined) clearTimeout(out.timer);
        out.timer = undefined;
        out.state = "down";
        closeQuietly(out.socket);
      }
      this.#inbound.close();
      this.#closing = Promise.all(this.#onClose.map((f) => f().catch(() => undefined))).then(() => undefined);
    }
    return this.#closing;
  }

  #refreshAddresses(): void {
    const list: string[] = [];
    for (const s of this.#selfServers) if (s !== LOCAL_SERVER) list.push(s);
    // Few relay addresses: a sender tries a node's addresses one after another, each with its resends,
    // so every address adds to the time the node takes to count as failed.
    const open = [...this.#outbound.values()].filter((o) => o.state === "open").map((o) => o.server);
    const attached = this.#servers.filter((s) => open.includes(s));
    const relays = attached.length > 0 ? attached : open.length > 0
      ? open.slice(0, 1) // none of `servers` is up: the server it reached instead
      : this.#servers; // nothing is up: the ones it keeps redialling
    for (const s of relays) list.push(formatRelayAddress(s, this.id));
    if (list.length === 0) list.push(formatRelayAddress(LOCAL_SERVER, this.id));
    const changed = list.length !== this.#addresses.length || list.some((a, i) => a !== this.#addresses[i]);
    this.#addresses = Object.freeze(list) as string[];
    if (!changed) return;
    this.#addressHandler?.();
    for (const fn of this.#addressWatchers) fn();
  }

  #parse(address: string): WebSocketAddress | undefined {
    let a = this.#parsed.get(address);
    if (a === undefined) {
      a = tryParseWebSocketAddress(address) ?? null;
      if (this.#parsed.size >= ADDRESS_CACHE_LIMIT) this.#parsed.clear();
      this.#parsed.set(address, a);
    }
    return a ?? undefined;
  }

  #send(to: string, lane: number, payload: Uint8Array): void {
    if (this.closed) return;
    const a = this.#parse(to);
    if (a === undefined) {
      this.stats.packetsDropped++;
      return;
    }
    if (this.#selfServers.has(a.server)) {
      // To a client attached to this endpoint's own server. Signals say who sent them (a relay
      // address); packets come from the server's own URL.
      if (a.relayId === undefined || !this.#inbound.send(a.relayId, lane, payload)) {
        this.stats.packetsDropped++;
      }
      return;
    }
    const frame = a.relayId === undefined
      ? encodeDataFrame(lane, payload)
      : encodeRelayFrame(FRAME_RELAY, lane, relayIdBytes(a.relayId), payload);
    const out = this.#outbound.get(a.server) ?? this.#dial(a.server, false);
    out.lastUsed = Date.now();
    if (out.state === "open" && out.socket !== undefined) {
      this.#write(out.socket, frame);
    } else if (out.state === "connecting" && !out.opened && out.queue.length < FIRST_DIAL_QUEUE) {
      out.queue.push(frame);
    } else {
      if (out.state === "down" && out.timer === undefined) this.#scheduleRedial(out);
      this.stats.packetsDropped++;
    }
  }

  #write(socket: WebSocketLike, frame: Uint8Array): void {
    if (socket.readyState !== OPEN || socket.bufferedAmount > this.#maxBuffered) {
      this.stats.packetsDropped++;
      return;
    }
    try {
      socket.send(frame);
      this.stats.packetsSent++;
    } catch {
      this.stats.packetsDropped++;
    }
  }

  #dial(server: string, keep: boolean): Outbound {
    let out = this.#outbound.get(server);
    if (out === undefined) {
      out = {
        server,
        socket: undefined,
        state: "down",
        opened: false,
        failures: 0,
        timer: undefined,
        lastUsed: Date.now(),
        keep,
        queue: [],
      };
      this.#outbound.set(server, out);
      this.#open(out);
    }
    return out;
  }

  #open(out: Outbound): void {
    if (this.closed) return;
    out.timer = undefined;
    if (this.#connect === undefined) {
      out.state = "down";
      return;
    }
    let socket: WebSocketLike;
    try {
      socket = new this.#connect(out.server);
    } catch {
      out.state = "down";
      out.failures++;
      this.#scheduleRedial(out);
      return;
    }
    out.socket = socket;
    out.state = "connecting";
    socket.binaryType = "arraybuffer";
    let ended = false;
    socket.addEventListener("open", () => {
      if (out.socket === socket && !this.closed) this.stats.connectionsOpened++;
    });
    socket.addEventListener("message", (event) => {
      if (out.socket === socket) this.#outboundFrame(out, event.data);
    });
    const end = (event?: WebSocketEventLike): void => {
      if (ended) return;
      ended = true;
      if (event?.code === CLOSE.inUse || event?.code === CLOSE.notAuthenticated) this.stats.helloRefused++;
      if (out.socket !== socket) return;
      out.socket = undefined;
      out.state = "down";
      out.queue = [];
      out.failures++;
      closeQuietly(socket);
      if (!this.closed) {
        this.#scheduleRedial(out);
        this.#refreshAddresses();
      }
    };
    socket.addEventListener("close", end);
    socket.addEventListener("error", end);
  }

  #scheduleRedial(out: Outbound): void {
    if (out.timer !== undefined || this.closed) return;
    if (!out.keep && Date.now() - out.lastUsed > this.#backoff.idleMs) return; // rests until used
    const b = this.#backoff;
    const delay = Math.min(b.maxMs, b.initialMs * b.multiplier ** Math.max(0, out.failures - 1));
    out.timer = setTimeout(() => this.#open(out), delay);
  }

  #decode(data: unknown): Frame | undefined {
    const bytes = binaryData(data);
    if (bytes === undefined) {
      this.stats.decodeErrors++;
      return undefined;
    }
    try {
      return decodeFrame(bytes);
    } catch {
      this.stats.decodeErrors++; // decodeFrame throws DecodeError only
      return undefined;
    }
  }

  #deliver(lane: number, from: string, payload: Uint8Array): void {
    if (lane === LANE_SIGNAL) {
      this.#signalHandler?.(from, payload);
      return;
    }
    const handler = this.#handler;
    if (handler === undefined) return;
    this.stats.packetsReceived++;
    handler(from, payload);
  }

  #outboundFrame(out: Outbound, data: unknown): void {
    if (this.closed) return;
    const f = this.#decode(data);
    if (f === undefined) return;
    if (f.type === FRAME_CHALLENGE) {
      if (out.state === "connecting") void this.#identify(out, out.socket!, f.id, f.nonce);
    } else if (f.type === FRAME_PING) {
      if (out.socket !== undefined) this.#write(out.socket, encodePingFrame(FRAME_PONG, f.token));
    } else if (f.type === FRAME_DATA) {
      if (f.lane === LANE_PACKET) this.#deliver(f.lane, out.server, f.payload);
    } else if (f.type === FRAME_RELAYED) {
      const from = formatRelayAddress(out.server, f.id);
      this.#noRoute.delete(from);
      this.#deliver(f.lane, from, f.payload);
    } else if (f.type === FRAME_NO_ROUTE) {
      this.#noRoute.set(formatRelayAddress(out.server, f.id), Date.now() + this.#noRouteHoldMs);
    } else if (f.type === FRAME_GONE) {
      const relay = formatRelayAddress(out.server, f.id);
      this.#noRoute.set(relay, Date.now() + this.#noRouteHoldMs);
      this.#goneHandler?.(relay);
    }
  }

  /** Answers the server's CHALLENGE with a HELLO (and proof, with a key); the connection is then open. */
  async #identify(out: Outbound, socket: WebSocketLike, serverId: string, nonce: Uint8Array): Promise<void> {
    const proof = this.#key === undefined ? undefined : await relayProof(this.#key, this.id, serverId, nonce);
    if (out.socket !== socket || this.closed || out.state !== "connecting") return;
    try {
      socket.send(encodeHelloFrame(this.id, proof));
    } catch {
      return; // closing: the close event redials
    }
    out.state = "open";
    out.opened = true;
    out.failures = 0;
    this.#refreshAddresses();
    const queue = out.queue;
    out.queue = [];
    for (const frame of queue) this.#write(socket, frame);
  }
}

/** An option's value (a positive integer), or its default. */
function limit(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) {
    throw new RangeError(`'${name}' must be a positive integer, got ${value}`);
  }
  return v;
}

function randomId(): string {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  let s = "";
  for (const b of bytes) s += b.toString(36).padStart(2, "0");
  return s;
}
