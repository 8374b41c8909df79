/**
 * The Transport Manager's table of peers, with a bound on the ones nobody asked for. A peer whose
 * addresses the application set ({@link PeerTable.configure}) stays until told otherwise, and so
 * does one whose declared addresses the group layer passed on ({@link PeerTable.declare}: a member of
 * the group), up to as many as `maxTransient`, the longest-declared going back first; any other
 * — a node that contacted us first (a joiner), or a node ID out of a forged packet — is "transient":
 * at most `maxTransient` of them are kept, the least recently heard one is forgotten first when a
 * new one needs room, and each is forgotten after `idleMs` without a packet and without pending
 * sends. So a flood of made-up node IDs costs a fixed amount of memory and leaves nothing behind.
 *
 * Forgetting a transient peer is safe for exactly-once delivery: if it comes back, its session is
 * confirmed again by a probe round trip, whose answer names the lowest sequence number the sender
 * still needs (every lower one was acknowledged). Acknowledged fragments of a message not yet
 * complete would be lost, so a peer holding one is not pushed out for room; an idle peer may hold
 * one only for a session its sender gave up on long ago (`idleMs` must exceed any sender's
 * failure time, about `(retries + 1) × rtoMaxMs`).
 * @module
 */

import type { Clock, TimerId } from "../base/clock.ts";
import type { PacketTransport } from "./packet_transport.ts";
import type { ProbeRound } from "./probe_round.ts";
import type { PeerReceiver } from "./receiver.ts";
import type { PeerSender } from "./sender.ts";

/** A packet kept while the session it belongs to is being confirmed. */
export interface HeldPacket {
  /** Backend it came in on. */
  readonly transport: PacketTransport;
  /** Its source address. */
  readonly from: string;
  /** A copy of its bytes. */
  readonly bytes: Uint8Array;
}

/** Everything the manager keeps per peer node. */
export interface Peer {
  /** Node ID. */
  readonly id: string;
  /** Node ID, UTF-8. */
  readonly idBytes: Uint8Array;
  /** Sending half. */
  readonly sender: PeerSender;
  /** Receiving half, created with the first packet from the peer. */
  receiver: PeerReceiver | undefined;
  /** Pending ack timer. */
  ackTimer: TimerId | undefined;
  /** Whether the pending ack timer is a delayed one (a fragmented message still arriving). */
  ackDelayed: boolean;
  /** Packets arrived since the last ack went out. */
  unacked: number;
  /** Addresses the application set, in preference order. */
  configured: readonly string[];
  /** Addresses the node declared for itself (passed on by the group layer). Neither: a transient peer. */
  declared: readonly string[];
  /** Addresses where the confirmed incarnation answered a probe. */
  homes: Set<string>;
  /** The open probe round, if any. */
  round: ProbeRound | undefined;
  /** No new round before this time (rounds per peer are rate-limited). */
  nextRoundAt: number;
  /** Timer that starts a round once `nextRoundAt` is reached. */
  roundTimer: TimerId | undefined;
  /** Addresses a round was asked to include (hints that came while rounds were rate-limited). */
  wanted: Set<string>;
  /** Packets waiting for their session to be confirmed. */
  held: HeldPacket[];
  /** Bytes of `held`. */
  heldBytes: number;
  /** When a packet from the peer last arrived (or the entry was made). */
  lastHeard: number;
  /** When a transient peer was last moved to the young end of the table. */
  touchedAt: number;
}

/** Peers by node ID; see the module documentation. */
export class PeerTable {
  readonly #peers = new Map<string, Peer>();
  /** Transient peers, least recently heard first (approximately: reordered at most once a second). */
  readonly #transient = new Map<string, Peer>();
  /** Peers kept for their declared addresses (and not configured), oldest declaration first. */
  readonly #declared = new Map<string, Peer>();
  readonly #clock: Clock;
  readonly #maxTransient: number;
  readonly #idleMs: number;
  readonly #forget: (peer: Peer) => void;
  #sweep: TimerId | undefined;

  /**
   * @param clock the manager's clock.
   * @param maxTransient most transient peers kept at once.
   * @param idleMs a transient peer is forgotten after this long without a packet or pending send.
   * @param forget cleans up a peer that is being forgotten (timers, buffers).
   */
  constructor(clock: Clock, maxTransient: number, idleMs: number, forget: (peer: Peer) => void) {
    this.#clock = clock;
    this.#maxTransient = maxTransient;
    this.#idleMs = idleMs;
    this.#forget = forget;
  }

  /** Peers known now. */
  get size(): number {
    return this.#peers.size;
  }

  /** Transient peers known now. */
  get transientCount(): number {
    return this.#transient.size;
  }

  /** The peer of a node ID, if known. */
  get(id: string): Peer | undefined {
    return this.#peers.get(id);
  }

  /** Every peer. */
  values(): IterableIterator<Peer> {
    return this.#peers.values();
  }

  /**
   * Adds a peer made by `make`. A transient one may first push out the least recently heard
   * transient peer that has no pending sends; returns undefined when none can make room.
   */
  add(id: string, transient: boolean, make: () => Peer): Peer | undefined {
    if (transient && this.#transient.size >= this.#maxTransient && !this.#evictOne()) return undefined;
    const peer = make();
    this.#peers.set(id, peer);
    if (transient) this.#enter(peer);
    return peer;
  }

  /** Records that a packet from `peer` arrived now. */
  heard(peer: Peer): void {
    const now = this.#clock.now();
    peer.lastHeard = now;
    // Reordering a Map costs a delete and a set: once a second per peer is enough for eviction.
    if (now - peer.touchedAt >= 1000 && this.#transient.delete(peer.id)) {
      this.#transient.set(peer.id, peer);
      peer.touchedAt = now;
    }
  }

  /** Sets a peer's configured addresses; with none (and none declared) it becomes transient, with some permanent. */
  configure(peer: Peer, addresses: readonly string[]): void {
    peer.configured = [...addresses];
    if (addresses.length > 0) {
      this.#transient.delete(peer.id);
      this.#declared.delete(peer.id);
    } else if (peer.declared.length > 0) this.#keepDeclared(peer);
    else if (!this.#transient.has(peer.id)) this.#enter(peer);
  }

  /**
   * Sets a peer's declared addresses: it is kept (not transient) while they are among the
   * `maxTransient` most recent declarations, unless configured anyway.
   */
  declare(peer: Peer, addresses: readonly string[]): void {
    peer.declared = [...addresses];
    if (peer.configured.length > 0) return;
    if (addresses.length > 0) this.#keepDeclared(peer);
    else {
      this.#declared.delete(peer.id);
      if (!this.#transient.has(peer.id)) this.#enter(peer);
    }
  }

  #keepDeclared(peer: Peer): void {
    this.#transient.delete(peer.id);
    this.#declared.delete(peer.id);
    this.#declared.set(peer.id, peer);
    if (this.#declared.size <= this.#maxTransient) return;
    const [oldestId, oldest] = this.#declared.entries().next().value as [string, Peer];
    this.#declared.delete(oldestId);
    this.#enter(oldest);
  }

  /** Forgets every peer (manager closing). */
  clear(): void {
    if (this.#sweep !== undefined) this.#clock.clearTimer(this.#sweep);
    this.#sweep = undefined;
    for (const peer of this.#peers.values()) this.#forget(peer);
    this.#peers.clear();
    this.#transient.clear();
    this.#declared.clear();
  }

  #enter(peer: Peer): void {
    peer.lastHeard = peer.touchedAt = this.#clock.now();
    this.#transient.set(peer.id, peer);
    this.#armSweep();
  }

  #remove(peer: Peer): void {
    this.#peers.delete(peer.id);
    this.#transient.delete(peer.id);
    this.#declared.delete(peer.id);
    this.#forget(peer);
  }

  /**
   * Forgets one of the oldest transient peers that has no pending sends and no message half
   * received (its acknowledged fragments would be lost with it); false if none of them qualifies.
   */
  #evictOne(): boolean {
    let looked = 0;
    for (const peer of this.#transient.values()) {
      if (peer.sender.pending === 0 && (peer.receiver?.reassembly.size ?? 0) === 0) {
        this.#remove(peer);
        return true;
      }
      if (++looked >= 16) break;
    }
    return false;
  }

  #armSweep(): void {
    if (this.#sweep !== undefined || this.#transient.size === 0) return;
    const oldest = this.#transient.values().next().value as Peer;
    const at = Math.max(oldest.lastHeard + this.#idleMs, this.#clock.now() + 1);
    this.#sweep = this.#clock.setTimer(at - this.#clock.now(), () => {
      this.#sweep = undefined;
      this.#expire();
      this.#armSweep();
    });
  }

  /** Forgets the transient peers idle for `idleMs` (from the old end, stopping at the first active one). */
  #expire(): void {
    const now = this.#clock.now();
    for (const peer of [...this.#transient.values()]) {
      if (now - peer.lastHeard < this.#idleMs) break;
      if (peer.sender.pending > 0) {
        this.heard(peer); // busy: look again after another idle period
        continue;
      }
      this.#remove(peer);
    }
  }
}
