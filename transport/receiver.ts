/**
 * The receiving half of the Transport Manager for one sending node: which session of the sender
 * is current, which of its packets arrived, the messages under reassembly, and the pending
 * acknowledgement.
 *
 * A session is named by the sender's (incarnation, epoch); a greater one replaces the current
 * one and discards its state, a smaller one is a leftover of the past and is dropped. That is how
 * a restarted sender is never taken for its old self.
 * @module
 */

import type { DataPacket } from "./codec.ts";
import type { PacketTransport } from "./packet_transport.ts";
import { Reassembly } from "./reassembly.ts";
import { ReceiveWindow } from "./window.ts";

/** How far above the cumulative point a packet may be (≥ any sender's window). */
export const MAX_AHEAD = 65_536;

/** Outcome of {@link PeerReceiver.accept}. */
export type ReceiveOutcome =
  /** New packet: its frames must be processed, then acknowledged. */
  | "new"
  /** Already seen: acknowledge again (the ack was probably lost). */
  | "duplicate"
  /** Not taken (old session, too far ahead, no room): drop silently; the sender will resend. */
  | "drop";

/** Receiving state for one sending node. */
export class PeerReceiver {
  /** Sender incarnation of the current session. */
  inc = 0;
  /** Sender epoch of the current session. */
  epoch = 0;
  /** Arrived packet seqs of the current session. */
  window = new ReceiveWindow(MAX_AHEAD);
  /** Messages under reassembly in the current session. */
  reassembly: Reassembly;
  /** Whether an acknowledgement is scheduled. */
  ackScheduled = false;
  /** Address the sender's last packet came from: acks go back there. */
  replyAddress = "";
  /** Backend the sender's last packet came in on. */
  replyTransport: PacketTransport | undefined;
  readonly #maxReassemblies: number;
  readonly #maxReassemblyBytes: number;

  /**
   * @param maxReassemblies most messages of this sender under reassembly at once.
   * @param maxReassemblyBytes most bytes of this sender's messages under reassembly.
   */
  constructor(maxReassemblies: number, maxReassemblyBytes: number) {
    this.#maxReassemblies = maxReassemblies;
    this.#maxReassemblyBytes = maxReassemblyBytes;
    this.reassembly = new Reassembly(maxReassemblies, maxReassemblyBytes);
  }

  /**
   * Decides what to do with a DATA packet addressed to this incarnation, and records it when it is
   * new. The caller then hands its frames to {@link PeerReceiver.reassembly} or up directly.
   */
  accept(packet: DataPacket): ReceiveOutcome {
    if (packet.srcInc !== this.inc || packet.epoch !== this.epoch) {
      if (packet.srcInc < this.inc || (packet.srcInc === this.inc && packet.epoch < this.epoch)) {
        return "drop";
      }
      // A newer session of the sender: whatever the old one left behind is void.
      this.inc = packet.srcInc;
      this.epoch = packet.epoch;
      this.window = new ReceiveWindow(MAX_AHEAD);
      this.reassembly = new Reassembly(this.#maxReassemblies, this.#maxReassemblyBytes);
    }
    const verdict = this.window.check(packet.seq);
    if (verdict === "duplicate") return "duplicate";
    if (verdict === "too-far" || !this.reassembly.admits(packet.frames)) return "drop";
    this.window.record(packet.seq);
    return "new";
  }
}
