/**
 * The accepting side of the WebSocket backend: the connections a server (or an edge endpoint fed by
 * `accept()`) holds for its clients, the relay between them, and the limits that keep a hostile
 * client from costing more than a bounded share of the server.
 *
 * - At most `maxConnections` connections; more are closed at once (1013).
 * - Every connection is opened with a CHALLENGE and must answer with a HELLO within
 *   `identifyTimeoutMs`, else it is closed (4008). With a key, the HELLO must carry the proof of
 *   `relay_auth.ts` (4003 otherwise).
 * - One live connection per relay ID: when another connection claims an ID in use, the holder is
 *   sent a PING; if it answers within `claimCheckMs` the newcomer is refused (4001), else the
 *   holder is taken for dead and replaced (a client reconnecting after a network change). Nobody
 *   may claim the server's own relay ID.
 * - A slow reader is dropped, not buffered: a connection with more than `maxBufferedBytes` waiting
 *   is closed (4009), and when all connections together hold more than `maxTotalBufferedBytes`, the
 *   one holding most is closed.
 * - A malformed frame closes its connection (4002): no honest client sends one.
 * @module
 */

import { formatRelayAddress } from "./address.ts";
import {
  CHALLENGE_NONCE_BYTES,
  encodeChallengeFrame,
  encodeDataFrame,
  encodeGoneFrame,
  encodeNoRouteFrame,
  encodePingFrame,
  encodeRelayFrame,
  type Frame,
  FRAME_DATA,
  FRAME_HELLO,
  FRAME_PING,
  FRAME_PONG,
  FRAME_RELAY,
  FRAME_RELAYED,
  LANE_SIGNAL,
  relayIdBytes,
} from "./frame.ts";
import { type RelayKey, relayProofValid } from "./relay_auth.ts";
import { CONNECTING, OPEN, type WebSocketLike } from "./socket.ts";

/** Limits of the accepting side; see the module documentation. */
export interface InboundLimits {
  /** Most accepted connections at once. */
  readonly maxConnections: number;
  /** Time a new connection has to send its HELLO, ms. */
  readonly identifyTimeoutMs: number;
  /** Bytes waiting on one connection above which it is closed as a slow reader. */
  readonly maxBufferedBytes: number;
  /** Bytes waiting on all accepted connections together above which the fullest is closed. */
  readonly maxTotalBufferedBytes: number;
  /** Time the holder of a relay ID has to answer a PING when another connection claims it, ms. */
  readonly claimCheckMs: number;
}

/** Counters of the accepting side (part of the transport's stats). */
export interface InboundStats {
  /** Packets forwarded between two clients. */
  packetsRelayed: number;
  /** Packets dropped (no open connection to the client). */
  packetsDropped: number;
  /** Incoming connections accepted. */
  connectionsAccepted: number;
  /** Connections closed by a limit or a rule: too many, no or bad HELLO, ID in use, slow reader, bad frame. */
  connectionsRefused: number;
}

/** What the accepting side needs from its transport. */
export interface InboundHost {
  /** This endpoint's relay ID. */
  readonly id: string;
  /** Whether clients may relay through this endpoint. */
  readonly relay: boolean;
  /** The key relay IDs are checked with, if any. */
  readonly key: RelayKey | undefined;
  /** Counters. */
  readonly stats: InboundStats;
  /** This endpoint's first server address (clients' packets are said to come from `relay+…#id` on it). */
  primaryServer(): string;
  /** Decodes a frame, counting failures. */
  decode(data: unknown): Frame | undefined;
  /** Hands a packet or signal from a client to this endpoint. */
  deliver(lane: number, from: string, payload: Uint8Array): void;
  /** A client detached (its relay address). */
  gone(relay: string): void;
}

/** Close codes of refused connections. */
export const CLOSE = {
  tooMany: 1013,
  inUse: 4001,
  malformed: 4002,
  notAuthenticated: 4003,
  noHello: 4008,
  slowReader: 4009,
} as const;

interface Conn {
  readonly socket: WebSocketLike;
  readonly nonce: Uint8Array;
  state: "new" | "checking" | "member" | "closed";
  id: string | undefined;
  from: string | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** A claim of this member's ID waits for it to answer a PING with this token. */
  ping: { token: number; answered: () => void } | undefined;
}

/** The accepted connections of one WebSocket transport; see the module documentation. */
export class InboundConnections {
  readonly #host: InboundHost;
  readonly #limits: InboundLimits;
  readonly #conns = new Set<Conn>();
  readonly #members = new Map<string, Conn>();
  #closed = false;
  #totalAt = 0;
  #total = 0;

  /** @param host the transport. @param limits see {@link InboundLimits}. */
  constructor(host: InboundHost, limits: InboundLimits) {
    this.#host = host;
    this.#limits = limits;
  }

  /** Connections held now (identified or not). */
  get size(): number {
    return this.#conns.size;
  }

  /** Whether a client with relay ID `id` is attached. */
  has(id: string): boolean {
    return this.#members.has(id);
  }

  /** Takes over an incoming socket; see `WebSocketTransport.accept`. */
  accept(socket: WebSocketLike): void {
    if (this.#closed) {
      socket.close(1001, "closed");
      return;
    }
    if (this.#conns.size >= this.#limits.maxConnections) {
      this.#host.stats.connectionsRefused++;
      closeQuietly(socket, CLOSE.tooMany, "too many connections");
      return;
    }
    socket.binaryType = "arraybuffer";
    const nonce = new Uint8Array(CHALLENGE_NONCE_BYTES);
    globalThis.crypto.getRandomValues(nonce);
    const conn: Conn = {
      socket,
      nonce,
      state: "new",
      id: undefined,
      from: undefined,
      timer: undefined,
      ping: undefined,
    };
    this.#conns.add(conn);
    this.#host.stats.connectionsAccepted++;
    conn.timer = setTimeout(
      () => this.#refuse(conn, CLOSE.noHello, "no HELLO in time"),
      this.#limits.identifyTimeoutMs,
    );
    const challenge = () => this.#write(conn, encodeChallengeFrame(this.#host.id, nonce));
    if (socket.readyState === OPEN) challenge();
    else socket.addEventListener("open", challenge);
    socket.addEventListener("message", (event) => this.#frame(conn, event.data));
    socket.addEventListener("close", () => this.#drop(conn));
    socket.addEventListener("error", () => this.#drop(conn));
  }

  /**
   * Sends a packet (DATA) or a signal (RELAYED, naming this endpoint) to client `id`; false when no
   * such client is attached.
   */
  send(id: string, lane: number, payload: Uint8Array): boolean {
    const conn = this.#members.get(id);
    if (conn === undefined) return false;
    const frame = lane === LANE_SIGNAL
      ? encodeRelayFrame(FRAME_RELAYED, lane, relayIdBytes(this.#host.id), payload)
      : encodeDataFrame(lane, payload);
    this.#write(conn, frame);
    return true;
  }

  /** Closes every connection; no more are accepted. */
  close(): void {
    this.#closed = true;
    for (const conn of this.#conns) {
      if (conn.timer !== undefined) clearTimeout(conn.timer);
      closeQuietly(conn.socket, 1001, "closed");
    }
    this.#conns.clear();
    this.#members.clear();
  }

  #frame(conn: Conn, data: unknown): void {
    if (this.#closed || conn.state === "closed") return;
    const f = this.#host.decode(data);
    if (f === undefined) {
      this.#refuse(conn, CLOSE.malformed, "malformed frame");
      return;
    }
    if (f.type === FRAME_HELLO) {
      if (conn.state === "new") void this.#hello(conn, f.id, f.proof);
      return;
    }
    if (f.type === FRAME_PONG) {
      if (conn.ping?.token === f.token) conn.ping.answered();
      return;
    }
    if (conn.state !== "member") return; // must name itself first
    const from = conn.from!;
    if (f.type === FRAME_DATA) {
      this.#host.deliver(f.lane, from, f.payload);
    } else if (f.type === FRAME_RELAY) {
      if (f.id === this.#host.id) {
        this.#host.deliver(f.lane, from, f.payload); // addressed to this endpoint by relay ID
        return;
      }
      const target = this.#host.relay ? this.#members.get(f.id) : undefined;
      if (target === undefined) {
        this.#write(conn, encodeNoRouteFrame(f.id));
        return;
      }
      this.#host.stats.packetsRelayed++;
      this.#write(target, encodeRelayFrame(FRAME_RELAYED, f.lane, relayIdBytes(conn.id!), f.payload));
    } else {
      this.#refuse(conn, CLOSE.malformed, "frame not for a server"); // CHALLENGE, RELAYED, PING, …
    }
  }

  async #hello(conn: Conn, id: string, proof: Uint8Array | undefined): Promise<void> {
    conn.state = "checking";
    const key = this.#host.key;
    if (key !== undefined && !(await relayProofValid(key, id, this.#host.id, conn.nonce, proof))) {
      this.#refuse(conn, CLOSE.notAuthenticated, `relay ID "${id}" not authenticated`);
      return;
    }
    if (id === this.#host.id) {
      this.#refuse(conn, CLOSE.inUse, `relay ID "${id}" is this server's own`);
      return;
    }
    if (conn.state !== "checking") return; // closed meanwhile
    const holder = this.#members.get(id);
    if (holder === undefined) {
      this.#admit(conn, id);
      return;
    }
    if (holder.ping !== undefined) {
      this.#refuse(conn, CLOSE.inUse, `relay ID "${id}" is in use`); // a claim is being checked already
      return;
    }
    // Is the holder still there? It answers a PING at once if it is.
    const token = crypto.getRandomValues(new Uint32Array(1))[0];
    const timer = setTimeout(() => {
      holder.ping = undefined;
      this.#refuse(holder, CLOSE.inUse, `relay ID "${id}" taken over: this connection did not answer`);
      if (conn.state === "checking") this.#admit(conn, id);
    }, this.#limits.claimCheckMs);
    holder.ping = {
      token,
      answered: () => {
        clearTimeout(timer);
        holder.ping = undefined;
        this.#refuse(conn, CLOSE.inUse, `relay ID "${id}" is in use`);
      },
    };
    this.#write(holder, encodePingFrame(FRAME_PING, token));
  }

  #admit(conn: Conn, id: string): void {
    if (conn.timer !== undefined) clearTimeout(conn.timer);
    conn.timer = undefined;
    conn.state = "member";
    conn.id = id;
    conn.from = formatRelayAddress(this.#host.primaryServer(), id);
    this.#members.set(id, conn);
  }

  /** Closes a connection the rules refuse (counted), after telling it why in the close reason. */
  #refuse(conn: Conn, code: number, reason: string): void {
    if (conn.state === "closed") return;
    this.#host.stats.connectionsRefused++;
    this.#drop(conn);
    closeQuietly(conn.socket, code, reason);
  }

  /** Forgets a connection (closed by either side) and tells the other clients if it was a member. */
  #drop(conn: Conn): void {
    if (conn.state === "closed") return;
    const wasMember = conn.state === "member";
    conn.state = "closed";
    if (conn.timer !== undefined) clearTimeout(conn.timer);
    conn.timer = undefined;
    conn.ping?.answered(); // a claim waiting on this one must not wait for the timer
    this.#conns.delete(conn);
    if (!wasMember || this.#members.get(conn.id!) !== conn) return;
    this.#members.delete(conn.id!);
    if (this.#closed) return;
    // Tell the other clients (and this endpoint's own WebRTC layer): a closed tab's WebRTC
    // channels may not say so for many seconds (werift sees no ABORT from a torn-down page).
    const gone = encodeGoneFrame(conn.id!);
    for (const other of this.#members.values()) this.#write(other, gone);
    this.#host.gone(conn.from!);
  }

  /** Writes a frame to a client, closing it instead when it does not keep up. */
  #write(conn: Conn, frame: Uint8Array): void {
    const socket = conn.socket;
    if (socket.readyState !== OPEN) {
      this.#host.stats.packetsDropped++;
      return;
    }
    const limits = this.#limits;
    if (socket.bufferedAmount + frame.length > limits.maxBufferedBytes) {
      this.#refuse(conn, CLOSE.slowReader, "slow reader: too many bytes waiting");
      this.#host.stats.packetsDropped++;
      return;
    }
    if (socket.bufferedAmount > 0 && this.#totalBuffered() + frame.length > limits.maxTotalBufferedBytes) {
      const fullest = this.#fullest();
      if (fullest !== undefined) this.#refuse(fullest, CLOSE.slowReader, "slow reader: the server is full");
      this.#totalAt = 0; // measure again
      if (fullest === conn) {
        this.#host.stats.packetsDropped++;
        return;
      }
    }
    try {
      socket.send(frame);
    } catch {
      this.#host.stats.packetsDropped++;
    }
  }

  /** Bytes waiting on all connections, measured at most every 20 ms (the slow path of a write). */
  #totalBuffered(): number {
    const now = Date.now();
    if (now - this.#totalAt >= 20) {
      let total = 0;
      for (const c of this.#conns) total += c.socket.bufferedAmount;
      this.#total = total;
      this.#totalAt = now;
    }
    return this.#total;
  }

  #fullest(): Conn | undefined {
    let best: Conn | undefined;
    for (const c of this.#conns) {
      if (best === undefined || c.socket.bufferedAmount > best.socket.bufferedAmount) best = c;
    }
    return best;
  }
}

/**
 * Closes a socket quietly. A slow reader is cut off with `terminate()` where the implementation has
 * it (the `ws` package): a closing handshake would wait for the stalled peer and keep the bytes queued
 * for it until ws's close timeout. Others get a close frame with `code` and `reason`.
 */
export function closeQuietly(socket: WebSocketLike | undefined, code = 1000, reason = "closed"): void {
  if (socket === undefined) return;
  try {
    if (socket.readyState !== OPEN && socket.readyState !== CONNECTING) return;
    const terminate = (socket as { terminate?: () => void }).terminate;
    if (code === CLOSE.slowReader && terminate !== undefined) terminate.call(socket);
    else socket.close(code, reason);
  } catch {
    // already closing
  }
}
