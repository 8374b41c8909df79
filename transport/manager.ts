/**
 * The Transport Manager (thesis 3.2): atomic, reliable, connectionless message delivery between
 * node IDs over any number of unreliable packet backends at once.
 *
 * - `send()` resolves when the receiver acknowledged every byte of the message and rejects with
 *   {@link DeliveryFailedError} once every resend on every address of the node went unanswered —
 *   the local failure detector of the group layer.
 * - Atomic: a message of any size (up to `maxMessageBytes`) is cut into fragments that fit every
 *   backend and handed up whole or not at all.
 * - Exactly once: packets carry the sender's incarnation, a session epoch and a sequence number;
 *   the receiver processes each packet once and only packets of the sender's current session.
 *   Packets also carry the receiver's incarnation as the sender believes it, so a restarted
 *   receiver refuses what was meant for its old self (and says so with a HELLO), and the sender
 *   fails the messages that may have reached the old one instead of confusing the two.
 * - Incarnations and sessions are believed only by round trip: a PROBE with a random nonce to the
 *   peer's addresses, answered by a PROBE_REPLY that echoes it (`probe_round.ts`). A packet that
 *   claims another incarnation or session only starts such a round (at most one per peer at a
 *   time, and not more often than every `rtoMinMs`), and a DATA packet of an unconfirmed session
 *   waits for it (bounded) instead of being processed. First contact therefore costs one round
 *   trip, and a forged packet cannot reset a session, fail pending sends or pin a wrong incarnation.
 *   Two processes answering with different incarnations for one node ID are a conflict: the
 *   manager keeps talking to one, reports it ({@link TransportManager.onConflict}), and tells both
 *   processes, which hear it by probing the reporter — see {@link IncarnationConflict}.
 * - No ordering between different messages: each is handed up as soon as it is complete. (In
 *   practice small messages from one sender arrive in order unless the network reorders them.)
 * - Sliding window per destination, cumulative plus selective acks, Jacobson/Karels retransmission
 *   timeout with Karn's rule and back-off (a timeout resends only the lowest unacknowledged packet),
 *   fast retransmit of holes, and an AIMD congestion window (`congestion.ts`).
 * - Small messages sent in the same instant share packets (the flush waits for a zero-delay timer).
 * - One ack per sender per instant; while a fragmented message is arriving, one every 4 packets (or
 *   after 1 ms) and one when it is whole.
 * - Several addresses per node, tried in sequence (stay on the first that works, and go back to a
 *   preferred one when its backend reports it usable again) or in parallel;
 *   the address scheme (`mem://`, `udp://`, …) picks the backend; a backend's `isUnreachable()`
 *   makes an address count as failed at once.
 * - A node that contacts us first (a joiner) is probed at the packet's source address, which is
 *   learned once it answers, so replies work.
 * - Addresses a node declares for itself (the group layer passes them on with the join:
 *   {@link TransportManager.declareAddresses}) are used unless the application configured that node's;
 *   {@link TransportManager.discover} asks whoever listens at an address for its node ID (joining
 *   through one address); {@link TransportManager.addresses} are this node's own, every backend's.
 * - Bounded: node IDs the application did not configure (`maxUnknownPeers`, forgotten after
 *   `peerIdleMs` idle), packets waiting for a round (`maxHeldBytes`), reassembly per sender and
 *   overall (`maxReassemblyBytesPerPeer`, `maxReassemblyBytes`), and the answers and rounds spent
 *   on unconfirmed senders (`strangerBudgetPerSecond`).
 *
 * The manager is a protocol core: its only notion of time is the injected {@link Clock}.
 * @module
 */

import { type Clock, SystemClock, type TimerId } from "../base/clock.ts";
import {
  DATA_FIXED_BYTES,
  type DataPacket,
  type DecodeLimits,
  decodePacket,
  encodeAck,
  encodeDiscover,
  encodeHello,
  encodeNodeId,
  encodeProbeReply,
  FRAGMENT_FRAME_OVERHEAD,
  headerSize,
  MAX_ACK_RANGES,
  MAX_INCARNATION,
  MAX_PACKET_BYTES,
  type Packet,
  type ProbePacket,
  type ProbeReplyPacket,
  TYPE_ACK,
  TYPE_CONFLICT,
  TYPE_DATA,
  TYPE_DISCOVER,
  TYPE_HELLO,
  TYPE_PROBE,
  TYPE_PROBE_REPLY,
} from "./codec.ts";
import { ClosedError, type RaincoreError } from "../base/errors.ts";
import { MessageTooLargeError, UnknownNodeError } from "./errors.ts";
import { newIncarnation } from "./incarnation.ts";
import { addressScheme, type PacketTransport } from "./packet_transport.ts";
import { type Peer, PeerTable } from "./peer_table.ts";
import { type IncarnationConflict, PeerRounds } from "./peer_rounds.ts";
import type { ProbeAnswer } from "./probe_round.ts";
import { ReassemblyBudget } from "./reassembly.ts";
import { PeerReceiver } from "./receiver.ts";
import { addressFailureMs, TRANSPORT_TIMING_DEFAULTS } from "./rtt.ts";
import { type OutMessage, PeerSender, type SenderHost } from "./sender.ts";
import { TokenBucket } from "./token_bucket.ts";

/** Options of a {@link TransportManager}. */
export interface TransportManagerOptions {
  /** This node's ID: non-empty, at most 255 bytes of UTF-8. */
  nodeId: string;
  /**
   * The packet backends. The scheme of an address picks the backend that sends to it; with several
   * backends of one scheme, the one that last received from the address, else the first.
   */
  transports: readonly PacketTransport[];
  /** Source of time. @default {new SystemClock()} */
  clock?: Clock;
  /**
   * This process's incarnation, an integer in [1, 2^53); a restart must use a greater one.
   * @default {(Date.now() − 2024-01-01) × 2048 + 11 random bits + 1}, see {@link newIncarnation}
   */
  incarnation?: number;
  /** Retransmission timeout before a round trip was measured, in ms. @default {200} */
  rtoInitialMs?: number;
  /** Floor of the adaptive retransmission timeout, in ms; also the least time between two probe rounds to one peer. @default {12} */
  rtoMinMs?: number;
  /** Ceiling of the retransmission timeout, back-off included, in ms. @default {1000} */
  rtoMaxMs?: number;
  /**
   * Resends on one address without any acknowledgement before the address counts as failed (in
   * parallel mode: resends on all addresses together before the node counts as failed); also the
   * resends of an unanswered probe round. @default {4}
   */
  retries?: number;
  /** Try a node's addresses one after another, or send on all at once. @default {"sequence"} */
  addressMode?: "sequence" | "parallel";
  /** Most packets in flight (sent, not acknowledged) per destination, 1..65536. @default {256} */
  windowPackets?: number;
  /**
   * Most bytes in flight (sent, not acknowledged) per destination; the window is the smaller of
   * this and `windowPackets` packets, and at least one packet. Keep it below the receiver's socket
   * buffer (208 KiB by default on Linux, unchangeable on Deno): what overflows it is dropped and
   * costs a retransmission timeout. @default {1048576} (1 MiB)
   */
  windowBytes?: number;
  /**
   * Congestion window per destination at the start, in packets (1..`windowPackets`): slow start
   * doubles it every round trip without loss, up to `windowPackets`; losses shrink it (AIMD, as TCP).
   * @default {10}
   */
  initialWindowPackets?: number;
  /** Largest message, in bytes (at most 2^32 − 1). @default {67108864} (64 MiB) */
  maxMessageBytes?: number;
  /** Most messages of one sender under reassembly at once. @default {64} */
  maxReassembliesPerPeer?: number;
  /**
   * Most bytes of one sender's unfinished messages held for reassembly (≥ maxMessageBytes); its
   * oldest unfinished message may exceed it. @default {2 × maxMessageBytes}
   */
  maxReassemblyBytesPerPeer?: number;
  /**
   * Most bytes of unfinished messages held for reassembly across all senders (≥ maxMessageBytes).
   * When full, fragments are refused (the senders resend) until messages complete or sessions end.
   * @default {4 × maxMessageBytes}
   */
  maxReassemblyBytes?: number;
  /**
   * Most node IDs kept that the application did not configure with `setAddresses()`: joiners and
   * the senders of unconfirmed packets. The least recently heard one without pending sends is
   * forgotten to make room. @default {1024}
   */
  maxUnknownPeers?: number;
  /** Such a node is forgotten after this long without a packet from it or a pending send to it, ms. @default {60000} */
  peerIdleMs?: number;
  /** Most bytes of DATA packets kept while their session is being confirmed, across all peers. @default {4194304} (4 MiB) */
  maxHeldBytes?: number;
  /**
   * Answers (PROBE_REPLY, HELLO) to unconfirmed senders and probe rounds for unconfigured node
   * IDs, per second together (bursts of as many): what a flood can make this node do. @default {1000}
   */
  strangerBudgetPerSecond?: number;
}

/** Handler of the messages of one channel. */
export type MessageHandler = (from: string, message: Uint8Array) => void;

/** Counters of a {@link TransportManager}, for tests, benchmarks and monitoring. */
export interface TransportStats {
  /** Packets handed to a backend (first transmissions, resends, acks, hellos, probes). */
  packetsSent: number;
  /** Packets received from the backends. */
  packetsReceived: number;
  /** DATA packets sent again after a timeout, a fast-retransmit or an address switch. */
  retransmissions: number;
  /** Received packets that failed to decode. */
  decodeErrors: number;
  /** Received DATA packets seen before (dropped after re-acknowledging). */
  duplicatePackets: number;
  /** Messages handed to a handler. */
  messagesDelivered: number;
  /** Complete messages for a channel without a handler (dropped). */
  messagesUnhandled: number;
  /** PROBE packets sent (first sends and resends). */
  probesSent: number;
  /** Incarnations confirmed by a probe round trip that differ from the one known before (restarts, first contacts). */
  incarnationsConfirmed: number;
  /** DATA packets of an unconfirmed session dropped (no room to hold them, or still unconfirmed after the round). */
  unconfirmedDropped: number;
  /** Answers and rounds not spent on strangers because `strangerBudgetPerSecond` was used up. */
  strangerBudgetExceeded: number;
  /** Unconfigured peers forgotten (idle, or to make room). */
  peersForgotten: number;
  /** Conflicts reported through {@link TransportManager.onConflict}. */
  conflicts: number;
}

/** Longest an ack waits for more fragments of a message that is still arriving, ms. */
const ACK_DELAY_MS = 1;
/** While fragments arrive, an ack still goes out after this many packets (keeps the window moving). */
const ACK_EVERY_PACKETS = 4;
/** Most DATA packets of one peer held while its session is being confirmed (a default window). */
const MAX_HELD_PER_PEER = 256;
/** Most bytes of them (the default `windowBytes`). */
const MAX_HELD_BYTES_PER_PEER = 1024 * 1024;
/** Size of the map of which backend last heard an address (it is only a preference). */
const MAX_ADDRESS_BACKENDS = 4096;

/** A pending {@link TransportManager.discover}. */
interface Discovery {
  readonly outcome: (nodeId?: string) => void;
  timer: TimerId | undefined;
  tries: number;
  waitMs: number;
}

/** Reliable, atomic message delivery between node IDs; see the module documentation. */
export class TransportManager {
  /** This node's ID. */
  readonly nodeId: string;
  /** This process's incarnation. */
  readonly incarnation: number;
  /** Counters; see {@link TransportStats}. */
  readonly stats: TransportStats = {
    packetsSent: 0,
    packetsReceived: 0,
    retransmissions: 0,
    decodeErrors: 0,
    duplicatePackets: 0,
    messagesDelivered: 0,
    messagesUnhandled: 0,
    probesSent: 0,
    incarnationsConfirmed: 0,
    unconfirmedDropped: 0,
    strangerBudgetExceeded: 0,
    peersForgotten: 0,
    conflicts: 0,
  };
  readonly #clock: Clock;
  readonly #transports: readonly PacketTransport[];
  readonly #byAddress = new Map<string, PacketTransport | null>();
  readonly #byScheme = new Map<string, PacketTransport>();
  readonly #localId: Uint8Array;
  readonly #host: SenderHost;
  readonly #limits: DecodeLimits;
  readonly #maxReassemblies: number;
  readonly #maxReassemblyBytes: number;
  readonly #budget: ReassemblyBudget;
  readonly #maxHeldBytes: number;
  #heldBytes = 0;
  readonly #strangers: TokenBucket;
  readonly #peers: PeerTable;
  readonly #rounds: PeerRounds;
  readonly #handlers = new Map<number, MessageHandler>();
  readonly #conflictHandlers = new Set<(c: IncarnationConflict) => void>();
  readonly #loopback = new Map<TimerId, (error: RaincoreError) => void>();
  /** Pending discoveries by nonce. */
  readonly #discoveries = new Map<number, Discovery>();
  #onAddresses: (() => void) | undefined;
  #epochs = 0;
  #closed = false;

  /**
   * Creates a manager and takes over the backends' packet handlers.
   * @throws {RangeError} for an invalid option.
   */
  constructor(options: TransportManagerOptions) {
    this.nodeId = options.nodeId;
    this.#localId = encodeNodeId(options.nodeId);
    if (options.transports.length === 0) throw new RangeError("'transports' must not be empty");
    this.#transports = [...options.transports];
    this.#clock = options.clock ?? new SystemClock();
    this.incarnation = options.incarnation ?? newIncarnation();
    if (!Number.isInteger(this.incarnation) || this.incarnation < 1 || this.incarnation >= MAX_INCARNATION) {
      throw new RangeError("'incarnation' must be an integer in [1, 2^53)");
    }
    const d = TRANSPORT_TIMING_DEFAULTS;
    const rto = {
      initialMs: options.rtoInitialMs ?? d.rtoInitialMs,
      minMs: options.rtoMinMs ?? d.rtoMinMs,
      maxMs: options.rtoMaxMs ?? d.rtoMaxMs,
    };
    if (!(rto.minMs > 0 && rto.minMs <= rto.maxMs && rto.initialMs > 0)) {
      throw new RangeError("need 0 < rtoMinMs ≤ rtoMaxMs and rtoInitialMs > 0");
    }
    const retries = positiveInt(options.retries ?? d.retries, "retries", 0, 1000);
    const windowPackets = positiveInt(options.windowPackets ?? 256, "windowPackets", 1, 65_536);
    const windowBytes = positiveInt(options.windowBytes ?? 1024 * 1024, "windowBytes", 1, 2 ** 32);
    const initialWindowPackets = positiveInt(
      options.initialWindowPackets ?? Math.min(10, windowPackets),
      "initialWindowPackets",
      1,
      windowPackets,
    );
    const maxMessageBytes = positiveInt(
      options.maxMessageBytes ?? 64 * 1024 * 1024,
      "maxMessageBytes",
      0,
      2 ** 32 - 1,
    );
    this.#maxReassemblies = positiveInt(
      options.maxReassembliesPerPeer ?? 64,
      "maxReassembliesPerPeer",
      1,
      1 << 20,
    );
    this.#maxReassemblyBytes = options.maxReassemblyBytesPerPeer ?? 2 * maxMessageBytes;
    if (!(this.#maxReassemblyBytes >= maxMessageBytes)) {
      throw new RangeError("'maxReassemblyBytesPerPeer' must be ≥ maxMessageBytes");
    }
    const overall = options.maxReassemblyBytes ?? 4 * maxMessageBytes;
    if (!(overall >= maxMessageBytes)) throw new RangeError("'maxReassemblyBytes' must be ≥ maxMessageBytes");
    this.#budget = new ReassemblyBudget(overall);
    this.#maxHeldBytes = positiveInt(options.maxHeldBytes ?? 4 * 1024 * 1024, "maxHeldBytes", 0, 2 ** 32);
    const strangers = positiveInt(options.strangerBudgetPerSecond ?? 1000, "strangerBudgetPerSecond", 1, 1e9);
    this.#strangers = new TokenBucket(this.#clock, strangers, strangers);
    const mode = options.addressMode ?? "sequence";
    if (mode !== "sequence" && mode !== "parallel") {
      throw new RangeError("'addressMode' must be sequence or parallel");
    }
    this.#peers = new PeerTable(
      this.#clock,
      positiveInt(options.maxUnknownPeers ?? 1024, "maxUnknownPeers", 1, 1 << 24),
      positiveInt(options.peerIdleMs ?? 60_000, "peerIdleMs", 1, 2 ** 31),
      (peer) => this.#cleanUp(peer),
    );
    this.#limits = { maxMessageBytes };
    // Every packet must fit every backend, so that a resend may take any of a node's addresses.
    let packetBytes = MAX_PACKET_BYTES;
    for (const t of this.#transports) {
      packetBytes = Math.min(packetBytes, t.mtu);
      for (const scheme of t.schemes ?? [addressScheme(t.addresses[0] ?? `${t.kind}://`)]) {
        if (!this.#byScheme.has(scheme)) this.#byScheme.set(scheme, t);
      }
      t.onPacket((from, packet) => this.#onPacket(t, from, packet));
      t.onAddressChange?.(() => {
        if (!this.#closed) this.#onAddresses?.();
      });
    }
    this.#host = {
      clock: this.#clock,
      localId: this.#localId,
      localInc: this.incarnation,
      packetBytes,
      windowPackets,
      windowBytes,
      initialWindowPackets,
      retries,
      parallel: mode === "parallel",
      rto,
      transmit: (address, packet) => this.#transmit(address, packet),
      usable: (address) => {
        const t = this.#backendFor(address);
        return t !== null && t.isUnreachable !== undefined && !t.isUnreachable(address);
      },
      countRetransmission: () => {
        this.stats.retransmissions++;
      },
      newEpoch: () => (this.#epochs = (this.#epochs + 1) >>> 0 || 1),
    };
    this.#rounds = new PeerRounds({
      clock: this.#clock,
      nodeId: this.nodeId,
      localId: this.#localId,
      incarnation: this.incarnation,
      minIntervalMs: rto.minMs,
      maxWaitMs: rto.maxMs,
      retries,
      transmit: (address, packet) => this.#transmit(address, packet),
      stranger: () => this.#stranger(),
      confirmed: (peer, answer) => this.#confirmed(peer, answer),
      ended: (peer) => this.#dropHeld(peer),
      conflict: (c) => this.#emitConflict(c),
      countProbe: () => {
        this.stats.probesSent++;
      },
    });
  }

  /**
   * Sets the addresses of a node, in order of preference (replacing those known or learned).
   * An empty list forgets them (and makes the node one of the `maxUnknownPeers`).
   * @throws {RangeError} for an invalid node ID, or one too long to leave room for data in a packet.
   */
  setAddresses(nodeId: string, addresses: readonly string[]): void {
    const peer = this.#peers.get(nodeId) ?? this.#peers.add(nodeId, false, () => this.#makePeer(nodeId))!;
    this.#peers.configure(peer, addresses);
    peer.sender.setAddresses(addresses);
  }

  /** This node's own addresses: every backend's, in the order of the backends, preferred first. */
  get addresses(): readonly string[] {
    const out: string[] = [];
    for (const t of this.#transports) for (const a of t.addresses) if (!out.includes(a)) out.push(a);
    return out;
  }

  /**
   * Calls `fn` whenever {@link addresses} changed (a backend reported it: a WebSocket client that
   * attached to another server). One function; a later call replaces it.
   */
  onAddressesChanged(fn: () => void): void {
    this.#onAddresses = fn;
  }

  /**
   * The addresses node `nodeId` declared for itself (the group layer passes them on, so that a member
   * learns where the others are from the join itself). Those a backend here sends to are used, in
   * their order, replacing what was declared or learned before — unless the application set the
   * node's addresses ({@link setAddresses}): configured addresses win, since a relay or a NAT may make
   * the declared ones wrong from here. A node with declared addresses is kept like a configured one
   * (up to `maxUnknownPeers` of them; past that, the longest-declared becomes forgettable again).
   */
  declareAddresses(nodeId: string, addresses: readonly string[]): void {
    if (nodeId === this.nodeId || this.#closed) return;
    const usable = addresses.filter((a) => this.#backendFor(a) !== null);
    if (usable.length === 0) return;
    let peer = this.#peers.get(nodeId);
    if (peer === undefined) {
      try {
        peer = this.#peers.add(nodeId, false, () => this.#makePeer(nodeId));
      } catch {
        return; // an ID this manager could never send to
      }
      if (peer === undefined) return;
    }
    this.#peers.declare(peer, usable);
    if (peer.configured.length > 0) return;
    const cur = peer.sender.addresses;
    if (cur.length !== usable.length || cur.some((a, i) => a !== usable[i])) peer.sender.setAddresses(usable);
  }

  /**
   * Asks whoever listens at `address` for its node ID — for joining through an address whose node
   * is not known. `outcome` gets the ID (the address is then declared for that node, and the node is
   * probed there like any other), or `undefined` when nobody answered after `retries` resends (the
   * initial retransmission timeout, doubling up to its ceiling) or the manager closed. Our own
   * address answers nothing.
   */
  discover(address: string, outcome: (nodeId?: string) => void): void {
    if (this.#closed) {
      this.#later(() => outcome(undefined));
      return;
    }
    const a = new Uint32Array(1);
    globalThis.crypto.getRandomValues(a);
    // High bit set: never equal to a data session's epoch, which a HELLO also echoes.
    const nonce = (a[0] | 0x80000000) >>> 0;
    const h = this.#host;
    const d: Discovery = { outcome, timer: undefined, tries: 0, waitMs: h.rto.initialMs };
    this.#discoveries.set(nonce, d);
    const attempt = (): void => {
      if (d.tries++ > h.retries) {
        this.#discoveries.delete(nonce);
        outcome(undefined);
        return;
      }
      this.#transmit(address, encodeDiscover(this.#localId, this.incarnation, nonce));
      d.timer = this.#clock.setTimer(d.waitMs, attempt);
      d.waitMs = Math.min(d.waitMs * 2, h.rto.maxMs);
    };
    attempt();
  }

  /**
   * Longest time a send to a node never measured takes to fail on one address (first contact: the
   * initial timeout, then every resend with back-off). The group layer's Hungry timeout must exceed it.
   */
  get failureTimeMs(): number {
    const h = this.#host;
    return addressFailureMs(Math.max(h.rto.initialMs, h.rto.minMs), h.rto.maxMs, h.retries);
  }

  /** Failure time on one address with the timeout at its floor (`rtoMinMs`): the fastest a node fails. */
  get failureTimeFloorMs(): number {
    const h = this.#host;
    return addressFailureMs(h.rto.minMs, h.rto.maxMs, h.retries);
  }

  /**
   * Time a send to `nodeId` would take to fail from now on: the current (measured) timeout with
   * back-off, on each of its addresses in turn (all at once in parallel mode). For an unknown node,
   * {@link failureTimeMs}.
   */
  failureTimeOf(nodeId: string): number {
    const sender = this.#peers.get(nodeId)?.sender;
    if (sender === undefined) return this.failureTimeMs;
    const h = this.#host;
    const one = addressFailureMs(sender.rtoMs, h.rto.maxMs, h.retries);
    return h.parallel ? one : one * Math.max(1, sender.addresses.length);
  }

  /** The addresses known for a node (set or learned), in order of preference. */
  addressesOf(nodeId: string): readonly string[] {
    return this.#peers.get(nodeId)?.sender.addresses ?? [];
  }

  /** Current retransmission timeout towards a node in ms, or `undefined` for an unknown node. */
  rtoOf(nodeId: string): number | undefined {
    return this.#peers.get(nodeId)?.sender.rtoMs;
  }

  /** The incarnation of a node as confirmed by a probe round trip, or `undefined` if none is yet. */
  incarnationOf(nodeId: string): number | undefined {
    const inc = this.#peers.get(nodeId)?.sender.knownInc;
    return inc === 0 ? undefined : inc;
  }

  /** Nodes known now (configured, learned, and strangers being probed). */
  get peerCount(): number {
    return this.#peers.size;
  }

  /** Bytes held for reassembly now, across all senders. */
  get reassemblyBytes(): number {
    return this.#budget.bytes;
  }

  /** Bytes of DATA packets held now while their sessions are being confirmed. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /**
   * Sends a message to a node. Resolves when the node acknowledged all of it; the receiver hands
   * it to its channel handler exactly once, whole. Different messages may be handed up in another
   * order than they were sent. `message` is not copied: do not change it until the promise
   * settles. A message to this node's own ID is handed to the local handler after the current event.
   *
   * Rejects with {@link DeliveryFailedError} when every resend on every address went unanswered
   * (then every other pending send to that node rejects too: the node counts as failed) or when
   * the node restarted while the message was in flight (it may or may not have reached the old
   * process; a rejected message was handed up at most once), {@link UnknownNodeError} when no
   * address is known, {@link MessageTooLargeError}, {@link ClosedError} after
   * {@link TransportManager.close}, and `RangeError`/`TypeError` for bad arguments.
   */
  send(nodeId: string, channel: number, message: Uint8Array): Promise<void> {
    const error = this.#checkSend(nodeId, channel, message);
    if (error !== undefined) return Promise.reject(error);
    return new Promise<void>((resolve, reject) =>
      this.post(nodeId, channel, message, (e) => e ? reject(e) : resolve())
    );
  }

  /**
   * {@link send} for protocol cores: the same message semantics, but the outcome comes back through
   * `outcome` — called exactly once, synchronously from the event that decides it (the last
   * acknowledgement, the final timeout, `close()`), with no argument on success and the error
   * otherwise. Argument errors are reported the same way, from a zero-delay timer. A core driven by
   * a simulator thus sees the outcome as an event at a definite point of virtual time, never after
   * an unknown number of promise continuations.
   */
  post(
    nodeId: string,
    channel: number,
    message: Uint8Array,
    outcome: (error?: RaincoreError | Error) => void,
  ): void {
    const error = this.#checkSend(nodeId, channel, message);
    if (error !== undefined) {
      this.#later((e) => outcome(e ?? error));
      return;
    }
    if (nodeId === this.nodeId) {
      const copy = message.slice();
      this.#later((e) => {
        if (e !== undefined) return outcome(e);
        this.#deliver(channel, this.nodeId, copy);
        outcome();
      });
      return;
    }
    const out: OutMessage = {
      channel,
      data: message,
      msgId: 0,
      offset: 0,
      packed: false,
      unacked: 0,
      outcome,
    };
    const peer = this.#peers.get(nodeId)!;
    peer.sender.enqueue(out);
    if (peer.sender.knownInc === 0) this.#rounds.want(peer, undefined);
  }

  /** Why a send cannot go out (undefined: it can). */
  #checkSend(nodeId: string, channel: number, message: Uint8Array): Error | undefined {
    if (this.#closed) return new ClosedError("the transport manager is closed");
    if (!Number.isInteger(channel) || channel < 0 || channel > 0xffff) {
      return new RangeError(`channel must be an integer in 0..65535, got ${channel}`);
    }
    if (!(message instanceof Uint8Array)) return new TypeError("message must be a Uint8Array");
    const limit = this.#limits.maxMessageBytes;
    if (message.length > limit) return new MessageTooLargeError(message.length, limit);
    if (nodeId === this.nodeId) return undefined;
    const peer = this.#peers.get(nodeId);
    if (peer === undefined || peer.sender.addresses.length === 0) return new UnknownNodeError(nodeId);
    return undefined;
  }

  /** Runs `fn` from a zero-delay timer; `close()` first makes it run with the ClosedError. */
  #later(fn: (closed?: RaincoreError) => void): void {
    const id = this.#clock.setTimer(0, () => {
      this.#loopback.delete(id);
      fn();
    });
    this.#loopback.set(id, fn);
  }

  /**
   * Sets the handler of a channel (a later call replaces it). Messages for a channel without one are
   * dropped. Each message is handed over in a buffer of its own that the manager never touches again.
   */
  onMessage(channel: number, handler: MessageHandler): void {
    if (!Number.isInteger(channel) || channel < 0 || channel > 0xffff) {
      throw new RangeError(`channel must be an integer in 0..65535, got ${channel}`);
    }
    this.#handlers.set(channel, handler);
  }

  /**
   * Calls `handler` for every {@link IncarnationConflict}: two live processes answering for one
   * node ID (a peer's, or this node's own). Returns a function that unsubscribes.
   */
  onConflict(handler: (conflict: IncarnationConflict) => void): () => void {
    this.#conflictHandlers.add(handler);
    return () => this.#conflictHandlers.delete(handler);
  }

  /**
   * Stops the manager: pending sends reject with {@link ClosedError}, its timers stop, and the
   * backends it was given are closed (the manager owns them).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#rounds.close();
    const error = new ClosedError("the transport manager was closed");
    for (const peer of this.#peers.values()) peer.sender.close(error);
    this.#peers.clear();
    for (const [id, fn] of this.#loopback) {
      this.#clock.clearTimer(id);
      fn(error);
    }
    this.#loopback.clear();
    for (const d of this.#discoveries.values()) {
      if (d.timer !== undefined) this.#clock.clearTimer(d.timer);
      d.outcome(undefined);
    }
    this.#discoveries.clear();
    await Promise.all(this.#transports.map((t) => t.close()));
  }

  #makePeer(nodeId: string): Peer {
    const idBytes = encodeNodeId(nodeId);
    const room = this.#host.packetBytes - headerSize(this.#localId.length, idBytes.length) - DATA_FIXED_BYTES;
    if (room < FRAGMENT_FRAME_OVERHEAD + 1) {
      throw new RangeError(
        `packets of ${this.#host.packetBytes} bytes leave no room for data to "${nodeId}"`,
      );
    }
    const now = this.#clock.now();
    return {
      id: nodeId,
      idBytes,
      sender: new PeerSender(this.#host, nodeId, idBytes),
      receiver: undefined,
      ackTimer: undefined,
      ackDelayed: false,
      unacked: 0,
      configured: [],
      declared: [],
      homes: new Set(),
      round: undefined,
      nextRoundAt: 0,
      roundTimer: undefined,
      wanted: new Set(),
      held: [],
      heldBytes: 0,
      lastHeard: now,
      touchedAt: now,
    };
  }

  /**
   * The peer a packet from `nodeId` is about. A new one is transient and costs the stranger budget;
   * undefined when the budget is used up or there is no room.
   */
  #peerFor(nodeId: string): Peer | undefined {
    return this.#peers.get(nodeId) ?? (this.#stranger() ? this.#addStranger(nodeId) : undefined);
  }

  #addStranger(nodeId: string): Peer | undefined {
    try {
      return this.#peers.add(nodeId, true, () => this.#makePeer(nodeId));
    } catch {
      return undefined; // an ID we could never answer
    }
  }

  /** Stops a forgotten peer's timers and gives its buffers back. */
  #cleanUp(peer: Peer): void {
    if (peer.ackTimer !== undefined) this.#clock.clearTimer(peer.ackTimer);
    peer.ackTimer = undefined;
    this.#rounds.cancel(peer);
    peer.receiver?.release();
    this.#dropHeld(peer);
    if (!this.#closed) this.stats.peersForgotten++;
  }

  #backendFor(address: string): PacketTransport | null {
    let t = this.#byAddress.get(address);
    if (t === undefined) {
      t = this.#byScheme.get(addressScheme(address)) ?? null;
      this.#byAddress.set(address, t);
    }
    return t;
  }

  #transmit(address: string, packet: Uint8Array): boolean {
    const t = this.#backendFor(address);
    if (t === null || this.#closed) return false;
    if (t.isUnreachable !== undefined && t.isUnreachable(address)) return false;
    try {
      t.send(address, packet);
    } catch {
      return false; // a backend that cannot send to this address right now: same as unreachable
    }
    this.stats.packetsSent++;
    return true;
  }

  #reply(transport: PacketTransport, address: string, packet: Uint8Array): void {
    try {
      transport.send(address, packet);
      this.stats.packetsSent++;
    } catch {
      // Best effort, like the packet itself: the sender will resend and we answer again.
    }
  }

  /** Remembers that `transport` hears `address` (a confirmed peer's): answers go back the same way. */
  #heardVia(transport: PacketTransport, address: string): void {
    if (this.#byAddress.get(address) === transport) return;
    if (this.#byAddress.size >= MAX_ADDRESS_BACKENDS) this.#byAddress.clear();
    this.#byAddress.set(address, transport);
  }

  /** Spends one unit of the stranger budget; false (and counted) when it is used up. */
  #stranger(): boolean {
    if (this.#strangers.take()) return true;
    this.stats.strangerBudgetExceeded++;
    return false;
  }

  #onPacket(transport: PacketTransport, from: string, bytes: Uint8Array): void {
    if (this.#closed) return;
    this.stats.packetsReceived++;
    let packet: Packet;
    try {
      packet = decodePacket(bytes, this.#limits);
    } catch {
      this.stats.decodeErrors++; // decodePacket throws DecodeError only
      return;
    }
    if (packet.type === TYPE_DISCOVER) return this.#onDiscover(transport, from, packet);
    if (packet.dstId !== this.nodeId || packet.srcId === this.nodeId) return;
    switch (packet.type) {
      case TYPE_DATA:
        return this.#onData(transport, from, packet, bytes, false);
      case TYPE_ACK: {
        if (packet.dstInc !== this.incarnation) return;
        const peer = this.#peers.get(packet.srcId);
        if (peer === undefined) return;
        if (packet.srcInc !== peer.sender.knownInc) return this.#rounds.hint(peer, from);
        this.#peers.heard(peer);
        this.#heardVia(transport, from);
        peer.sender.onAck(packet.epoch, packet.cum, packet.ranges);
        return;
      }
      case TYPE_PROBE:
        return this.#onProbe(transport, from, packet);
      case TYPE_PROBE_REPLY:
        return this.#onReply(transport, from, packet);
      case TYPE_HELLO: {
        this.#discovered(packet.epoch, packet.srcId, from);
        // "I am srcInc": worth a probe when that is news.
        if (this.#peers.get(packet.srcId)?.sender.knownInc === packet.srcInc) return;
        const peer = this.#peerFor(packet.srcId);
        if (peer !== undefined) this.#rounds.hint(peer, from);
        return;
      }
      case TYPE_CONFLICT: {
        // "Your ID is claimed twice; probe me": the answer to the probe says by whom.
        if (packet.dstInc !== this.incarnation) return;
        const peer = this.#peerFor(packet.srcId);
        if (peer !== undefined) this.#rounds.hint(peer, from);
        return;
      }
    }
  }

  /** "Who are you?": answered with our ID (not by ourselves: our own address may be in a join list). */
  #onDiscover(transport: PacketTransport, from: string, packet: Packet): void {
    if (packet.srcId === this.nodeId || !this.#stranger()) return;
    let src: Uint8Array;
    try {
      src = encodeNodeId(packet.srcId);
    } catch {
      return;
    }
    this.#reply(
      transport,
      from,
      encodeHello(this.#localId, src, this.incarnation, packet.srcInc, packet.epoch),
    );
  }

  /** A HELLO echoing `nonce` answers a pending discovery: `nodeId` listens at `from`. */
  #discovered(nonce: number, nodeId: string, from: string): void {
    const d = this.#discoveries.get(nonce);
    if (d === undefined) return;
    this.#discoveries.delete(nonce);
    if (d.timer !== undefined) this.#clock.clearTimer(d.timer);
    this.declareAddresses(nodeId, [from]);
    d.outcome(nodeId);
  }

  #onData(
    transport: PacketTransport,
    from: string,
    packet: DataPacket,
    bytes: Uint8Array,
    replay: boolean,
  ): void {
    if (packet.dstInc !== this.incarnation) {
      // Meant for an earlier incarnation of ours, or the sender does not know us yet.
      if (this.#stranger()) {
        this.#reply(
          transport,
          from,
          encodeHello(
            this.#localId,
            encodeNodeId(packet.srcId),
            this.incarnation,
            packet.dstInc,
            packet.epoch,
          ),
        );
      }
      return;
    }
    const peer = replay ? this.#peers.get(packet.srcId) : this.#peerFor(packet.srcId);
    if (peer === undefined) {
      this.stats.unconfirmedDropped++;
      return;
    }
    const receiver =
      (peer.receiver ??= new PeerReceiver(this.#maxReassemblies, this.#maxReassemblyBytes, this.#budget));
    const outcome = receiver.accept(packet);
    if (outcome === "unconfirmed") {
      if (replay || !this.#hold(peer, transport, from, bytes)) this.stats.unconfirmedDropped++;
      if (!replay) this.#rounds.hint(peer, from);
      return;
    }
    this.#peers.heard(peer);
    if (outcome === "drop") return;
    if (outcome === "duplicate") {
      // Acknowledged again where the acks went: a copy (a replay) does not move them to its source.
      this.stats.duplicatePackets++;
      this.#scheduleAck(peer, true);
      return;
    }
    // A new source address of a confirmed session is learned by round trip too.
    if (!replay && !peer.sender.addresses.includes(from) && !peer.homes.has(from)) {
      this.#rounds.hint(peer, from);
    }
    this.#heardVia(transport, from);
    receiver.replyAddress = from;
    receiver.replyTransport = transport;
    const frames = packet.frames;
    // A packet the backend handed over (or our own held copy) may be kept, so large messages and
    // fragments stay views into it; copying them cost a fifth of a member's CPU in a 1 KB flood.
    const owned = replay || transport.handsOverPackets === true;
    for (let i = 0; i < frames.length && !this.#closed; i++) {
      const f = frames[i];
      const keep = owned && isMostOf(f.bytes, bytes);
      const message = f.whole ? (keep ? f.bytes : f.bytes.slice()) : receiver.reassembly.add(f, keep);
      if (message !== undefined) this.#deliver(f.channel, packet.srcId, message);
    }
    // Scheduled after the handlers ran, so that what they sent in reply leaves first (a token
    // ring: the token goes on before the ack goes back; zero-delay timers run in order).
    this.#scheduleAck(peer);
  }

  /** Keeps a copy of a DATA packet until its session is confirmed; false when there is no room. */
  #hold(peer: Peer, transport: PacketTransport, from: string, bytes: Uint8Array): boolean {
    if (
      peer.held.length >= MAX_HELD_PER_PEER || peer.heldBytes + bytes.length > MAX_HELD_BYTES_PER_PEER ||
      this.#heldBytes + bytes.length > this.#maxHeldBytes
    ) {
      return false;
    }
    peer.held.push({ transport, from, bytes: bytes.slice() });
    peer.heldBytes += bytes.length;
    this.#heldBytes += bytes.length;
    return true;
  }

  /** Drops the packets held for a peer (counted as unconfirmed unless they are about to be replayed). */
  #dropHeld(peer: Peer, replaying = false): void {
    if (!replaying) this.stats.unconfirmedDropped += peer.held.length;
    this.#heldBytes -= peer.heldBytes;
    peer.heldBytes = 0;
    peer.held = [];
  }

  /** Processes the held packets of a peer whose session was just confirmed; the rest are dropped. */
  #replayHeld(peer: Peer): void {
    const held = peer.held;
    this.#dropHeld(peer, true);
    for (const h of held) {
      if (this.#closed || this.#peers.get(peer.id) !== peer) return;
      this.#onData(h.transport, h.from, decodePacket(h.bytes, this.#limits) as DataPacket, h.bytes, true);
    }
  }

  /** Answers a PROBE (and probes back a sender whose incarnation is news). */
  #onProbe(transport: PacketTransport, from: string, packet: ProbePacket): void {
    let peer = this.#peers.get(packet.srcId);
    if (peer === undefined || peer.sender.knownInc !== packet.srcInc) {
      if (!this.#stranger()) return;
      // Our probe back should take the backend that heard this one (two interfaces, one cut off).
      this.#heardVia(transport, from);
      // Made before answering, so that the answer can name our data session towards it.
      peer ??= this.#addStranger(packet.srcId);
      if (peer !== undefined) this.#rounds.hint(peer, from);
    }
    const news = this.#rounds.conflictNews(packet.srcId, packet.srcInc);
    this.#reply(
      transport,
      from,
      encodeProbeReply(
        this.#localId,
        peer?.idBytes ?? encodeNodeId(packet.srcId),
        this.incarnation,
        packet.srcInc,
        {
          nonce: packet.nonce,
          epoch: peer?.sender.epoch ?? 0,
          baseSeq: peer?.sender.baseSeq ?? 1,
          window: this.#host.windowPackets,
          ...news,
        },
      ),
    );
  }

  #onReply(transport: PacketTransport, from: string, packet: ProbeReplyPacket): void {
    if (packet.dstInc !== this.incarnation) return;
    const peer = this.#peers.get(packet.srcId);
    if (peer === undefined || !this.#rounds.answered(peer, packet)) return;
    this.#peers.heard(peer);
    this.#heardVia(transport, from);
  }

  /** A probe round confirmed the peer's incarnation and data session. */
  #confirmed(peer: Peer, answer: ProbeAnswer): void {
    const sender = peer.sender;
    if (answer.inc !== sender.knownInc) this.stats.incarnationsConfirmed++;
    const receiver =
      (peer.receiver ??= new PeerReceiver(this.#maxReassemblies, this.#maxReassemblyBytes, this.#budget));
    receiver.confirm(answer.inc, answer.epoch, answer.baseSeq, answer.window);
    sender.setIncarnation(answer.inc);
    this.#replayHeld(peer);
  }

  #emitConflict(conflict: IncarnationConflict): void {
    this.stats.conflicts++;
    for (const handler of [...this.#conflictHandlers]) {
      try {
        handler(conflict);
      } catch (error) {
        this.#clock.setTimer(0, () => {
          throw error;
        });
      }
    }
  }

  /**
   * Acknowledges what arrived from `peer`: one ack per sender per instant covers every packet that
   * arrived in it. While a fragmented message is still arriving, the ack waits up to
   * {@link ACK_DELAY_MS} for more of it, and goes at once every {@link ACK_EVERY_PACKETS} packets and
   * when the message is whole (or `now`, for a duplicate: its sender missed an ack). Each ack is a send
   * system call here and a wake-up of the sender: acking every 64 KB fragment of a token made acks half
   * of a member's packets in a 1 KB flood.
   */
  #scheduleAck(peer: Peer, now = false): void {
    peer.unacked++;
    const arriving = (peer.receiver?.reassembly.size ?? 0) > 0;
    const delay = !now && arriving && peer.unacked < ACK_EVERY_PACKETS ? ACK_DELAY_MS : 0;
    if (peer.ackTimer !== undefined) {
      if (delay > 0 || !peer.ackDelayed) return;
      this.#clock.clearTimer(peer.ackTimer);
    }
    peer.ackDelayed = delay > 0;
    peer.ackTimer = this.#clock.setTimer(delay, () => this.#sendAck(peer));
  }

  /** Sends `peer` one ack of everything that arrived from it (its timer fired). */
  #sendAck(peer: Peer): void {
    peer.ackTimer = undefined;
    peer.unacked = 0;
    const r = peer.receiver;
    if (r === undefined || r.replyTransport === undefined || this.#closed) return;
    const w = r.window;
    const ack = encodeAck(
      this.#localId,
      peer.idBytes,
      this.incarnation,
      r.inc,
      r.epoch,
      w.cum,
      w.ranges(MAX_ACK_RANGES),
    );
    this.#reply(r.replyTransport, r.replyAddress, ack);
  }

  #deliver(channel: number, from: string, message: Uint8Array): void {
    const handler = this.#handlers.get(channel);
    if (handler === undefined) {
      this.stats.messagesUnhandled++;
      return;
    }
    this.stats.messagesDelivered++;
    try {
      handler(from, message);
    } catch (error) {
      // A faulty handler must not break the protocol state; surface its error after this event.
      this.#clock.setTimer(0, () => {
        throw error;
      });
    }
  }
}

function positiveInt(value: number, name: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`'${name}' must be an integer in ${min}..${max}, got ${value}`);
  }
  return value;
}

/**
 * Whether a frame's bytes are most of their packet, so that a view of them keeps alive little
 * else (a small message kept as a view would pin a whole packet of others in memory).
 */
function isMostOf(frame: Uint8Array, packet: Uint8Array): boolean {
  return frame.length * 2 >= packet.length;
}
