/**
 * The sending half of the Transport Manager for one destination node: a queue of messages, the
 * sliding window of packets in flight, acknowledgements, the adaptive retransmission timer, and
 * the walk over the node's addresses that ends in a delivery failure.
 *
 * Messages are packed into packets only when the window has room, so small messages queued in the
 * same instant share packets and a large message is cut into fragments lazily (memory stays at
 * about one window). A packet is built once and resent byte for byte (only `dstInc` is patched), so
 * the receiver deduplicates packets and thereby frames and messages.
 *
 * How much is in flight is bounded three ways: `windowPackets` (the span from the lowest
 * unacknowledged packet to the next to send), `windowBytes`, and a congestion window
 * ({@link CongestionWindow}) of unacknowledged packets that grows while packets are acknowledged and
 * shrinks on loss, so a sender does not flood a bottleneck that drops what it cannot carry.
 *
 * Losses are found from acknowledgements (a packet overtaken by later ones and overdue) and by the
 * retransmission timer. A timeout resends only the lowest unacknowledged packet, like TCP: what else
 * was lost shows once that resend is acknowledged (every packet sent before it and still
 * unacknowledged then is overdue and resent), and what was only slow is acknowledged without a
 * resend. Each timeout counts as one attempt on the address, so failure detection keeps its timing.
 *
 * A session (`epoch`) ends when the sender gives up on the node or learns that the node restarted:
 * messages that may have reached the old session are rejected, the packet numbering starts over
 * under a new epoch, and the receiver drops whatever of the old session is still in flight. Epochs
 * come from a counter of the whole manager, so a session never reuses the number of an earlier one
 * to the same node, even after the sender for that node was forgotten and created again.
 *
 * Nothing is sent before the node's incarnation is known, and it becomes known (or changes) only
 * through the manager's probe round trip ({@link PeerSender.setIncarnation}), never from what a
 * packet merely claims.
 * @module
 */

import type { Clock, TimerId } from "../base/clock.ts";
import {
  DATA_FIXED_BYTES,
  FRAGMENT_FRAME_OVERHEAD,
  headerSize,
  MAX_PACKET_BYTES,
  patchDstInc,
  TYPE_DATA,
  WHOLE_FRAME_OVERHEAD,
  writeDataFields,
  writeFragmentFrame,
  writeHeader,
  writeWholeFrame,
} from "./codec.ts";
import { type RaincoreError } from "../base/errors.ts";
import { DeliveryFailedError } from "./errors.ts";
import { RtoEstimator, type RtoOptions } from "./rtt.ts";
import { CongestionWindow } from "./congestion.ts";

/** One `send()` call on its way. */
export interface OutMessage {
  /** Channel of the message. */
  readonly channel: number;
  /** The caller's bytes (not copied; the caller must not change them until the send settles). */
  readonly data: Uint8Array;
  /** Message number in the session, assigned when the first fragment is packed (0 = whole). */
  msgId: number;
  /** Bytes packed into packets so far. */
  offset: number;
  /** Whether every byte is in some packet. */
  packed: boolean;
  /** Packets carrying part of this message that are not acknowledged yet. */
  unacked: number;
  /**
   * Called once, synchronously from the event that decides it: with no argument when every byte
   * is acknowledged, with the error when the message failed.
   */
  readonly outcome: (error?: RaincoreError) => void;
}

interface OutPacket {
  seq: number;
  bytes: Uint8Array;
  sentAt: number;
  transmissions: number;
  acked: boolean;
  messages: OutMessage[];
}

/** What a {@link PeerSender} needs from its manager. */
export interface SenderHost {
  /** The manager's clock: every timer of the sender runs on it. */
  readonly clock: Clock;
  /** Local node ID, UTF-8. */
  readonly localId: Uint8Array;
  /** Local incarnation. */
  readonly localInc: number;
  /** Largest packet to build (the smallest mtu of the manager's backends). */
  readonly packetBytes: number;
  /** Most packets between the lowest unacknowledged one and the next to send. */
  readonly windowPackets: number;
  /** Most bytes of unacknowledged packets in flight (at least one packet is always allowed). */
  readonly windowBytes: number;
  /** Congestion window at the start, in packets (slow start grows it towards `windowPackets`). */
  readonly initialWindowPackets: number;
  /** Resends per address without any progress before the address counts as failed. */
  readonly retries: number;
  /** Whether every transmission goes to all addresses at once. */
  readonly parallel: boolean;
  /** Settings of the retransmission timeout. */
  readonly rto: RtoOptions;
  /** Sends one packet to one address; false when the address is unusable right now. */
  transmit(address: string, packet: Uint8Array): boolean;
  /**
   * Whether the address's backend reports it usable (it implements `isUnreachable` and says no).
   * Backends that cannot tell are never called usable: a silent path is not tried again early.
   */
  usable(address: string): boolean;
  /** Counts a retransmission (statistics). */
  countRetransmission(): void;
  /** A data session number never used before by this manager. */
  newEpoch(): number;
}

// Fast retransmit: a packet this many seqs below the highest acknowledged one is taken as lost.
const FAST_RETRANSMIT_GAP = 3;

/** Sending state towards one node. */
export class PeerSender {
  /** The node's addresses, in preference order. */
  addresses: string[] = [];
  /** The node's incarnation as last learned (0 = not known yet). */
  knownInc = 0;
  readonly #host: SenderHost;
  readonly #nodeId: string;
  readonly #dstId: Uint8Array;
  readonly #headerBytes: number;
  /** Room for frames in one packet. */
  readonly #frameRoom: number;
  #epoch: number;
  #nextSeq = 1;
  #nextMsgId = 1;
  readonly #queue: OutMessage[] = [];
  #queueHead = 0;
  readonly #inflight: OutPacket[] = [];
  #inflightHead = 0;
  /** Bytes of the sent, unacknowledged packets: bounded by `windowBytes` (or one packet). */
  #inflightBytes = 0;
  /** Sent, unacknowledged packets: bounded by the congestion window. */
  #unacked = 0;
  readonly #cc: CongestionWindow;
  /** Latest send time of a packet acknowledged in this session: an unacknowledged one sent before it was overtaken. */
  #ackedSentAt = -1;
  /**
   * After a timeout, until every packet then in flight is acknowledged: the highest seq then in flight
   * (0 = none; packets up to it are checked for loss on every ack) and the time it fired (-1 = none).
   */
  #recoverTo = 0;
  #timeoutAt = -1;
  /** Highest seq acknowledged in this session (0 = none). */
  #highestAcked = 0;
  #addrIndex = 0;
  #attempts = 0;
  /** Sequence mode: no return to a preferred address before this time (set when one timed out). */
  #holdUntil = 0;
  #rto: RtoEstimator;
  #timer: TimerId | undefined;
  /** Wakes the loss check when an overtaken packet becomes overdue and no ack may come to do it. */
  #lossTimer: TimerId | undefined;
  #flushTimer: TimerId | undefined;
  // Scratch for planning a packet, reused to avoid allocations on the hot path.
  readonly #planMsgs: OutMessage[] = [];
  readonly #planLens: number[] = [];
  readonly #planWhole: boolean[] = [];

  /** Creates the sender for `nodeId` (UTF-8 bytes `dstId`). */
  constructor(host: SenderHost, nodeId: string, dstId: Uint8Array) {
    this.#host = host;
    this.#nodeId = nodeId;
    this.#dstId = dstId;
    this.#headerBytes = headerSize(host.localId.length, dstId.length);
    this.#frameRoom = Math.min(host.packetBytes, MAX_PACKET_BYTES) - this.#headerBytes - DATA_FIXED_BYTES;
    this.#rto = new RtoEstimator(host.rto);
    this.#cc = new CongestionWindow(host.initialWindowPackets, host.windowPackets);
    this.#epoch = host.newEpoch();
  }

  /** The current data session towards the node. */
  get epoch(): number {
    return this.#epoch;
  }

  /** Lowest sequence number of the session not yet acknowledged (every lower one was). */
  get baseSeq(): number {
    return this.#baseSeq();
  }

  /** Current retransmission timeout (ms). */
  get rtoMs(): number {
    return this.#rto.rto;
  }

  /** Bytes of packets sent and not yet acknowledged. */
  get inflightBytes(): number {
    return this.#inflightBytes;
  }

  /** Sends pending or in flight. */
  get pending(): number {
    return this.#queue.length - this.#queueHead + this.#inflight.length - this.#inflightHead;
  }

  /** Replaces the address list; the next transmission starts from the first address. */
  setAddresses(addresses: readonly string[]): void {
    this.addresses = [...addresses];
    this.#addrIndex = 0;
    this.#attempts = 0;
    this.#holdUntil = 0;
  }

  /**
   * Queues a message. Packets leave after the current event so that small messages batch, but a
   * message too large for one packet leaves at once (with whatever is queued before it): it has
   * nothing to share a packet with, and waiting would put all the caller still does in this event
   * ahead of it — for the GCM, delivering a token's messages before the token moves on.
   */
  enqueue(message: OutMessage): void {
    this.#queue.push(message);
    if (message.data.length + WHOLE_FRAME_OVERHEAD > this.#frameRoom) {
      this.#pump();
      return;
    }
    if (this.#flushTimer === undefined) {
      this.#flushTimer = this.#host.clock.setTimer(0, () => {
        this.#flushTimer = undefined;
        this.#pump();
      });
    }
  }

  /**
   * Sets the node's incarnation, as a probe round trip confirmed it. The first one releases the
   * messages that were waiting for it; another one means the node restarted, so everything that may
   * have reached its old self fails and a new session starts.
   */
  setIncarnation(inc: number): void {
    if (inc === this.knownInc) return;
    const first = this.knownInc === 0;
    this.knownInc = inc;
    // Even with nothing in flight a new session starts: a message partly sent to the old process
    // cannot be finished at the new one.
    if (!first) this.#endSession(`node "${this.#nodeId}" restarted (new incarnation)`, false);
    this.#pump();
  }

  /**
   * The node did not answer a probe for its incarnation on any address (`detail` says how): like a
   * send whose every resend went unanswered, every message waiting for it fails.
   */
  failUnknown(detail: string): void {
    if (this.knownInc !== 0 || this.pending === 0) return;
    this.#endSession(detail, true);
  }

  /** Processes an acknowledgement of session `epoch`: cumulative point and selective ranges. */
  onAck(epoch: number, cum: number, ranges: readonly number[]): void {
    if (epoch !== this.#epoch) return;
    const inflight = this.#inflight;
    if (inflight.length === this.#inflightHead) return;
    const baseSeq = inflight[this.#inflightHead].seq;
    const now = this.#host.clock.now();
    let newlyAcked = 0;
    // A packet sent before the last timeout and never resent arrived: the timeout was premature.
    let spurious = false;
    // The latest-sent packet this ack covers, sent once: most likely the one that triggered it.
    let newestSentAt = -1;
    const ack = (from: number, to: number) => {
      const lo = Math.max(from, baseSeq);
      const hi = Math.min(to, this.#nextSeq - 1);
      for (let s = lo; s <= hi; s++) {
        const packet = inflight[this.#inflightHead + s - baseSeq];
        if (packet.acked) continue;
        packet.acked = true;
        newlyAcked++;
        if (packet.sentAt > this.#ackedSentAt) this.#ackedSentAt = packet.sentAt;
        if (packet.transmissions === 1 && packet.sentAt < this.#timeoutAt) spurious = true;
        // Karn's rule: a retransmitted packet gives no unambiguous round trip. Every other packet
        // is a sample: one per ack would favour the quick packets that trigger acks and make the
        // estimate too low on a path with jitter. Except one acknowledged long after our own
        // retransmission timer should have resent it: then this process was stalled (SIGSTOP, a
        // paused VM or tab), and the "round trip" is the stall — as a sample it inflated the
        // timeout towards that peer to ~700 ms and the next failure detection to 4 s+
        // (fail-over benchmark, a SIGKILL right after a SIGSTOP/SIGCONT of its predecessor).
        const rtt = now - packet.sentAt;
        if (packet.transmissions === 1 && rtt <= 2 * this.#rto.rto) {
          this.#rto.sample(rtt);
          if (packet.sentAt > newestSentAt) newestSentAt = packet.sentAt;
        }
        this.#settle(packet);
      }
    };
    ack(baseSeq, cum);
    let highest = cum;
    for (let i = 0; i < ranges.length; i += 2) {
      ack(ranges[i], ranges[i + 1]);
      highest = ranges[i + 1];
    }
    if (highest > this.#highestAcked) this.#highestAcked = Math.min(highest, this.#nextSeq - 1);
    while (this.#inflightHead < inflight.length && inflight[this.#inflightHead].acked) {
      this.#inflightHead++;
    }
    this.#compact();
    if (newlyAcked === 0) return;
    if (newestSentAt >= 0) this.#rto.samplePath(now - newestSentAt);
    if (spurious) this.#cc.undoTimeout();
    this.#cc.onAcked(newlyAcked);
    if (this.#recoverTo !== 0 && this.#baseSeq() > this.#recoverTo) {
      this.#recoverTo = 0;
      this.#timeoutAt = -1;
      this.#cc.settleTimeout();
    }
    this.#attempts = 0;
    if (this.#addrIndex > 0 && !this.#host.parallel) this.#returnToPreferred(now);
    this.#resendLost(now);
    this.#armTimer(true);
    this.#pump();
  }

  /** Rejects everything with `error` and stops all timers (manager closing). */
  close(error: RaincoreError): void {
    this.#cancelTimers();
    const failed = new Set<OutMessage>();
    for (let i = this.#inflightHead; i < this.#inflight.length; i++) {
      for (const m of this.#inflight[i].messages) failed.add(m);
    }
    for (let i = this.#queueHead; i < this.#queue.length; i++) failed.add(this.#queue[i]);
    this.#inflight.length = this.#inflightHead = this.#inflightBytes = 0;
    this.#unacked = 0;
    this.#queue.length = this.#queueHead = 0;
    for (const m of failed) m.outcome(error);
  }

  #settle(packet: OutPacket): void {
    for (const m of packet.messages) {
      if (--m.unacked === 0 && m.packed) m.outcome();
    }
    // Release the bytes now: an acked packet may sit behind a hole for a while.
    this.#inflightBytes -= packet.bytes.length;
    this.#unacked--;
    packet.messages = [];
    packet.bytes = EMPTY;
  }

  #pump(): void {
    const host = this.#host;
    // Until the node's incarnation is known (the manager probes for it), nothing can be addressed.
    if (this.knownInc === 0) return;
    const limit = host.windowPackets;
    // Bytes count too: a window of large packets would overflow the receiver's socket buffer, and
    // every packet it drops costs a retransmission timeout. A packet is at most `packetBytes`, so
    // checking with that size keeps the bound; an empty window always takes one packet.
    while (
      this.#queueHead < this.#queue.length &&
      this.#nextSeq - this.#baseSeq() < limit &&
      this.#unacked < this.#cc.packets &&
      (this.#inflightBytes === 0 || this.#inflightBytes + host.packetBytes <= host.windowBytes)
    ) {
      const packet = this.#buildPacket();
      this.#inflight.push(packet);
      this.#inflightBytes += packet.bytes.length;
      this.#unacked++;
      if (!this.#send(packet)) return;
      this.#armTimer(false);
    }
  }

  #baseSeq(): number {
    return this.#inflightHead < this.#inflight.length
      ? this.#inflight[this.#inflightHead].seq
      : this.#nextSeq;
  }

  /**
   * Packs queued messages into one packet: whole messages where they fit; only a message too large
   * for an empty packet is cut into fragments.
   */
  #buildPacket(): OutPacket {
    const host = this.#host;
    let room = this.#frameRoom;
    const msgs = this.#planMsgs;
    const lens = this.#planLens;
    const whole = this.#planWhole;
    msgs.length = lens.length = whole.length = 0;
    let size = this.#headerBytes + DATA_FIXED_BYTES;
    const queue = this.#queue;
    let q = this.#queueHead;
    while (q < queue.length) {
      const m = queue[q];
      const rest = m.data.length - m.offset;
      if (m.offset === 0 && rest + WHOLE_FRAME_OVERHEAD <= room && rest <= 0xffff) {
        msgs.push(m);
        lens.push(rest);
        whole.push(true);
        room -= rest + WHOLE_FRAME_OVERHEAD;
        size += rest + WHOLE_FRAME_OVERHEAD;
        q++;
        continue;
      }
      // A message that fits whole into an empty packet starts the next packet rather than being
      // split: reassembly costs the receiver, and one lost packet would then cost two messages.
      if (
        msgs.length > 0 && m.offset === 0 && rest + WHOLE_FRAME_OVERHEAD <= this.#frameRoom && rest <= 0xffff
      ) {
        break;
      }
      // Not worth a fragment header for a sliver: leave it for the next packet.
      if (room < FRAGMENT_FRAME_OVERHEAD + 64 && msgs.length > 0) break;
      const take = Math.min(rest, room - FRAGMENT_FRAME_OVERHEAD, 0xffff);
      msgs.push(m);
      lens.push(take);
      whole.push(false);
      size += take + FRAGMENT_FRAME_OVERHEAD;
      room -= take + FRAGMENT_FRAME_OVERHEAD;
      if (take < rest) break; // the packet is full; the message continues in the next one
      q++;
    }
    const seq = this.#nextSeq++;
    const bytes = new Uint8Array(size);
    let p = writeHeader(
      bytes,
      TYPE_DATA,
      host.localId,
      this.#dstId,
      host.localInc,
      this.knownInc,
      this.#epoch,
    );
    p = writeDataFields(bytes, p, seq, msgs.length);
    const carried: OutMessage[] = new Array(msgs.length);
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i];
      const len = lens[i];
      if (whole[i]) {
        p = writeWholeFrame(bytes, p, m.channel, m.data);
      } else {
        if (m.msgId === 0) m.msgId = this.#nextMsgId++;
        p = writeFragmentFrame(bytes, p, m.channel, m.msgId, m.data, m.offset, len);
      }
      m.offset += len;
      if (m.offset === m.data.length) m.packed = true;
      m.unacked++;
      carried[i] = m;
    }
    this.#queueHead = q;
    this.#compact();
    return { seq, bytes, sentAt: 0, transmissions: 0, acked: false, messages: carried };
  }

  /** Transmits one packet on the current address (or all, in parallel mode). False if the session ended. */
  #send(packet: OutPacket): boolean {
    const host = this.#host;
    patchDstInc(packet.bytes, this.knownInc);
    packet.sentAt = host.clock.now();
    packet.transmissions++;
    const addresses = this.addresses;
    if (host.parallel) {
      let any = false;
      for (const a of addresses) if (host.transmit(a, packet.bytes)) any = true;
      if (any) return true;
      this.#endSession("no usable address", true);
      return false;
    }
    while (this.#addrIndex < addresses.length) {
      if (host.transmit(addresses[this.#addrIndex], packet.bytes)) return true;
      // An address the backend knows to be unreachable counts as failed at once.
      this.#nextAddress();
    }
    this.#endSession(addresses.length === 0 ? "no address" : "every address unreachable", true);
    return false;
  }

  /**
   * Sequence mode, on progress over a fallback address: go back to the first preferred address
   * whose backend reports it usable again (a browser peer's WebRTC channel reopened, so leave its
   * relay). Not before `#holdUntil` when an address was left after timeouts: a backend may call a
   * silent path usable, and without the hold the sender would swing between the two.
   */
  #returnToPreferred(now: number): void {
    if (now < this.#holdUntil) return;
    for (let i = 0; i < this.#addrIndex; i++) {
      if (this.#host.usable(this.addresses[i])) {
        this.#addrIndex = i;
        this.#rto.resetBackoff();
        return;
      }
    }
  }

  #nextAddress(): void {
    this.#addrIndex++;
    this.#attempts = 0;
    this.#rto.resetBackoff();
  }

  /**
   * Resends the packets an acknowledgement shows lost: unacknowledged, overdue (older than the loss
   * delay; this also limits a packet to one resend per such delay, however many acks arrive), and
   * overtaken — `FAST_RETRANSMIT_GAP` seqs below the highest acknowledged one, or sent before a
   * packet that was acknowledged (after a timeout, the resend of the lowest packet overtakes every
   * packet then in flight). Without a measured round trip the gap alone tells a loss from a late ack.
   * An overtaken packet not yet overdue wakes this check when it is (RACK's reordering timer, RFC
   * 8985): the acks that would call it may never come, e.g. when the hole fills the window.
   */
  #resendLost(now: number): void {
    const inflight = this.#inflight;
    const highest = this.#highestAcked;
    const lossDelay = this.#rto.lossDelay;
    const ackedSentAt = this.#ackedSentAt;
    const epoch = this.#epoch;
    let wake = Infinity;
    for (let i = this.#inflightHead; i < inflight.length; i++) {
      const packet = inflight[i];
      const gapped = packet.seq + FAST_RETRANSMIT_GAP <= highest;
      if (!gapped && packet.seq > this.#recoverTo) break;
      if (packet.acked || !(packet.sentAt < ackedSentAt || (gapped && lossDelay > 0))) continue;
      const due = packet.sentAt + lossDelay;
      if (now < due) {
        if (due < wake) wake = due;
        continue;
      }
      // A loss while packets queue on the path is congestion: send less (once per episode).
      if (this.#rto.queueing) this.#cc.onLoss(packet.seq, this.#nextSeq - 1);
      this.#host.countRetransmission();
      if (!this.#send(packet) || this.#epoch !== epoch) return;
    }
    if (wake !== Infinity && this.#lossTimer === undefined) {
      this.#lossTimer = this.#host.clock.setTimer(wake - now, () => {
        this.#lossTimer = undefined;
        this.#resendLost(this.#host.clock.now());
      });
    }
  }

  #onTimeout(): void {
    this.#timer = undefined;
    if (this.#inflight.length === this.#inflightHead) return;
    this.#attempts++;
    this.#rto.backOff();
    if (this.#attempts > this.#host.retries) {
      if (this.#host.parallel || this.#addrIndex + 1 >= this.addresses.length) {
        this.#endSession(`no acknowledgement after ${this.#host.retries} resends on every address`, true);
        this.#pump();
        return;
      }
      this.#holdUntil = this.#host.clock.now() + this.#host.rto.maxMs * (this.#host.retries + 1);
      this.#nextAddress();
    }
    // Only the lowest unacknowledged packet: its acknowledgement tells which of the others were
    // lost (#resendLost) and which were only late.
    const highestSent = this.#nextSeq - 1;
    this.#cc.onTimeout(highestSent);
    this.#recoverTo = highestSent;
    this.#timeoutAt = this.#host.clock.now();
    this.#host.countRetransmission();
    if (this.#send(this.#inflight[this.#inflightHead])) this.#armTimer(true);
  }

  #armTimer(restart: boolean): void {
    const clock = this.#host.clock;
    if (this.#inflight.length === this.#inflightHead) {
      if (this.#timer !== undefined) clock.clearTimer(this.#timer);
      this.#timer = undefined;
      return;
    }
    if (this.#timer !== undefined) {
      if (!restart) return;
      clock.clearTimer(this.#timer);
    }
    this.#timer = clock.setTimer(this.#rto.rto, () => this.#onTimeout());
  }

  #cancelTimers(): void {
    const clock = this.#host.clock;
    if (this.#flushTimer !== undefined) clock.clearTimer(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#cancelLossTimers();
  }

  /** Stops the retransmission timer and the loss check's. */
  #cancelLossTimers(): void {
    const clock = this.#host.clock;
    if (this.#timer !== undefined) clock.clearTimer(this.#timer);
    if (this.#lossTimer !== undefined) clock.clearTimer(this.#lossTimer);
    this.#timer = this.#lossTimer = undefined;
  }

  /**
   * Ends the session: rejects every message that may have reached the node (those with a packet
   * in flight) — and, when the node is considered failed (`all`), the queued ones too — then starts
   * a new epoch so that the receiver discards the old session's leftovers.
   */
  #endSession(detail: string, all: boolean): void {
    const failed = new Set<OutMessage>();
    for (let i = this.#inflightHead; i < this.#inflight.length; i++) {
      for (const m of this.#inflight[i].messages) failed.add(m);
    }
    const queue = this.#queue;
    let keepFrom = this.#queueHead;
    if (all) {
      for (let i = keepFrom; i < queue.length; i++) failed.add(queue[i]);
      keepFrom = queue.length;
    } else if (keepFrom < queue.length && queue[keepFrom].offset > 0) {
      // The head message is partly in flight: it cannot be resumed in a new session.
      failed.add(queue[keepFrom]);
      keepFrom++;
    }
    const kept = queue.slice(keepFrom);
    queue.length = 0;
    this.#queueHead = 0;
    for (const m of kept) queue.push(m);
    this.#inflight.length = this.#inflightHead = this.#inflightBytes = 0;
    this.#unacked = 0;
    this.#ackedSentAt = this.#timeoutAt = -1;
    this.#recoverTo = this.#highestAcked = 0;
    this.#cc.restartNumbering();
    this.#epoch = this.#host.newEpoch();
    this.#nextSeq = 1;
    this.#nextMsgId = 1;
    this.#addrIndex = 0;
    this.#attempts = 0;
    this.#holdUntil = 0;
    this.#rto.resetBackoff();
    this.#cancelLossTimers();
    for (const m of failed) {
      if (m.packed && m.unacked === 0) continue; // fully acknowledged already: it was resolved
      m.outcome(new DeliveryFailedError(this.#nodeId, m.channel, detail));
    }
  }

  #compact(): void {
    if (this.#inflightHead > 256 && this.#inflightHead * 2 > this.#inflight.length) {
      this.#inflight.splice(0, this.#inflightHead);
      this.#inflightHead = 0;
    }
    if (this.#queueHead > 256 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);
