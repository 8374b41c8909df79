/**
 * The receiving half of the Transport Manager for one sending node: which session of the sender
 * is current, which of its packets arrived, the messages under reassembly, and the pending
 * acknowledgement.
 *
 * A session is named by the sender's (incarnation, epoch). Only a round trip sets it
 * ({@link PeerReceiver.confirm}, from a PROBE_REPLY: the sender itself says which session is
 * current and which sequence numbers it no longer needs). A packet of any other session is
 * refused ("unconfirmed") — it is a hint to probe, never a reason to drop the current session — so
 * neither a restarted sender's leftovers nor forged packets can move a receiver off the sender's
 * real session.
 * @module
 */

import type { DataPacket } from "./codec.ts";
import type { PacketTransport } from "./packet_transport.ts";
import { Reassembly, type ReassemblyBudget } from "./reassembly.ts";
import { ReceiveWindow } from "./window.ts";

/** How far above the cumulative point a packet may be when the sender did not say (≥ any window). */
export const MAX_AHEAD = 65_536;

/** Outcome of {@link PeerReceiver.accept}. */
export type ReceiveOutcome =
  /** New packet: its frames must be processed, then acknowledged. */
  | "new"
  /** Already seen: acknowledge again (the ack was probably lost). */
  | "duplicate"
  /** Not taken (too far ahead, no room): drop silently; the sender will resend. */
  | "drop"
  /** Of a session not confirmed: hold or drop it, and probe the sender. */
  | "unconfirmed";

/** Receiving state for one sending node. */
export class PeerReceiver {
  /** Sender incarnation of the current session (0: none confirmed yet). */
  inc = 0;
  /** Sender epoch of the current session (0: the sender has none towards us). */
  epoch = 0;
  /** Arrived packet seqs of the current session. */
  window = new ReceiveWindow(MAX_AHEAD);
  /** Messages under reassembly in the current session. */
  reassembly: Reassembly;
  /** Address the sender's last packet came from: acks go back there. */
  replyAddress = "";
  /** Backend the sender's last packet came in on. */
  replyTransport: PacketTransport | undefined;
  readonly #maxReassemblies: number;
  readonly #maxReassemblyBytes: number;
  readonly #budget: ReassemblyBudget;

  /**
   * @param maxReassemblies most messages of this sender under reassembly at once.
   * @param maxReassemblyBytes most bytes of this sender's messages under reassembly.
   * @param budget the manager's bound on reassembly bytes across all senders.
   */
  constructor(maxReassemblies: number, maxReassemblyBytes: number, budget: ReassemblyBudget) {
    this.#maxReassemblies = maxReassemblies;
    this.#maxReassemblyBytes = maxReassemblyBytes;
    this.#budget = budget;
    this.reassembly = new Reassembly(maxReassemblies, maxReassemblyBytes, budget);
  }

  /** Whether a packet of this (incarnation, epoch) belongs to the confirmed session. */
  current(inc: number, epoch: number): boolean {
    return inc === this.inc && epoch === this.epoch && epoch !== 0;
  }

  /**
   * Makes (inc, epoch) the current session, as the sender itself reported it in answer to a probe:
   * every seq below `baseSeq` was acknowledged, and its packets are at most `window` above that.
   * Nothing changes if it is the current session already, or an older one of the same incarnation
   * (a late answer: a process numbers its sessions in increasing order, so the sender has moved on,
   * and going back would drop the fragments acknowledged since).
   */
  confirm(inc: number, epoch: number, baseSeq: number, window: number): void {
    if (inc === this.inc && epoch <= this.epoch) return;
    this.inc = inc;
    this.epoch = epoch;
    this.window = new ReceiveWindow(Math.min(Math.max(window, 1), MAX_AHEAD));
    this.window.cum = baseSeq - 1;
    this.reassembly.release();
    this.reassembly = new Reassembly(this.#maxReassemblies, this.#maxReassemblyBytes, this.#budget);
  }

  /** Drops the session's state and gives its reassembly bytes back (peer forgotten, manager closed). */
  release(): void {
    this.reassembly.release();
  }

  /**
   * Decides what to do with a DATA packet addressed to this incarnation, and records it when it is
   * new. The caller then hands its frames to {@link PeerReceiver.reassembly} or up directly.
   */
  accept(packet: DataPacket): ReceiveOutcome {
    if (!this.current(packet.srcInc, packet.epoch)) return "unconfirmed";
    const verdict = this.window.check(packet.seq);
    if (verdict === "duplicate") return "duplicate";
    if (verdict === "too-far" || !this.reassembly.admits(packet.frames)) return "drop";
    this.window.record(packet.seq);
    return "new";
  }
}
