/**
 * The congestion window of the Transport Manager's sender: how many unacknowledged packets one
 * destination may have in flight, below the fixed `windowPackets` cap. AIMD in packets, after TCP
 * (RFC 5681): slow start from a small initial window (one more packet per packet acknowledged),
 * then additive increase (about one packet per window acknowledged); halved once per loss episode
 * (a loss found by fast retransmit; further losses of packets sent before the episode began are
 * the same congestion and do not halve it again); back to one packet after a retransmission
 * timeout, which may be undone when the timeout proves spurious (a packet sent before it is
 * acknowledged afterwards: the network was slow, not lossy).
 *
 * On a path without loss the window reaches the cap within a few round trips (slow start doubles
 * it each round trip), so a fast loopback path pays almost nothing for it.
 * @module
 */

/** Smallest window a loss episode halves to, in packets. */
const MIN_WINDOW_AFTER_LOSS = 2;

/** AIMD congestion window in packets, between 1 and a fixed cap. */
export class CongestionWindow {
  readonly #max: number;
  #cwnd: number;
  #ssthresh: number;
  /** Highest seq sent when the current loss episode began; losses at or below it are the same episode. */
  #recoverSeq = 0;
  /** State before the last timeout, for {@link CongestionWindow.undoTimeout}; undefined when none. */
  #beforeTimeout: { cwnd: number; ssthresh: number; recoverSeq: number } | undefined;

  /**
   * @param initial packets allowed before any acknowledgement (clamped to 1..max)
   * @param max the cap (the sender's `windowPackets`)
   */
  constructor(initial: number, max: number) {
    this.#max = max;
    this.#cwnd = Math.max(1, Math.min(initial, max));
    this.#ssthresh = max;
  }

  /** Packets that may be unacknowledged in flight now (1..max). */
  get packets(): number {
    return Math.floor(this.#cwnd);
  }

  /** Slow-start threshold in packets: below it the window grows by one per packet acknowledged. */
  get ssthresh(): number {
    return this.#ssthresh;
  }

  /** `count` packets were newly acknowledged: the window grows. */
  onAcked(count: number): void {
    const cwnd = this.#cwnd;
    const grown = cwnd < this.#ssthresh ? cwnd + count : cwnd + count / cwnd;
    this.#cwnd = Math.min(grown, this.#max);
  }

  /**
   * Packet `seq` was found lost while `highestSent` was the highest seq sent: the window halves,
   * unless `seq` belongs to the loss episode already answered.
   */
  onLoss(seq: number, highestSent: number): void {
    if (seq <= this.#recoverSeq) return;
    this.#ssthresh = Math.max(MIN_WINDOW_AFTER_LOSS, Math.floor(this.#cwnd / 2));
    this.#cwnd = this.#ssthresh;
    this.#recoverSeq = highestSent;
    this.#beforeTimeout = undefined;
  }

  /**
   * The retransmission timer expired with `highestSent` the highest seq sent: back to one packet.
   * Repeated timeouts of one episode (back-off) keep the threshold of the first.
   */
  onTimeout(highestSent: number): void {
    if (this.#beforeTimeout === undefined) {
      this.#beforeTimeout = { cwnd: this.#cwnd, ssthresh: this.#ssthresh, recoverSeq: this.#recoverSeq };
      this.#ssthresh = Math.max(MIN_WINDOW_AFTER_LOSS, Math.floor(this.#cwnd / 2));
    }
    this.#cwnd = 1;
    this.#recoverSeq = highestSent;
  }

  /** The last timeout was spurious: the window, threshold and episode return to what they were before it. */
  undoTimeout(): void {
    const saved = this.#beforeTimeout;
    if (saved === undefined) return;
    this.#cwnd = saved.cwnd;
    this.#ssthresh = saved.ssthresh;
    this.#recoverSeq = saved.recoverSeq;
    this.#beforeTimeout = undefined;
  }

  /** Every packet sent before the timeout is accounted for: the timeout can no longer be undone. */
  settleTimeout(): void {
    this.#beforeTimeout = undefined;
  }

  /** A new session numbers its packets from 1 again: forget the episode (the window stays). */
  restartNumbering(): void {
    this.#recoverSeq = 0;
    this.#beforeTimeout = undefined;
  }
}
