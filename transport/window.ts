/**
 * The receiving side of the sliding window: which packet sequence numbers of one session have
 * arrived. A packet is processed only the first time it arrives (that is the whole of duplicate
 * suppression: frames travel in exactly one packet and retransmissions resend the same packet).
 * State is a cumulative point plus the out-of-order arrivals above it, which the sender's window
 * keeps small; packets too far ahead are refused so garbage cannot grow the set.
 * @module
 */

/** Outcome of {@link ReceiveWindow.accept}. */
export type AcceptResult = "new" | "duplicate" | "too-far";

/** Sequence numbers seen in one session; sequence numbers start at 1. */
export class ReceiveWindow {
  /** Every seq ≤ cum has arrived. */
  cum = 0;
  readonly #above = new Set<number>();
  readonly #maxAhead: number;

  /** @param maxAhead how far above `cum` a seq may be and still be accepted. */
  constructor(maxAhead: number) {
    this.#maxAhead = maxAhead;
  }

  /** Number of packets held above the cumulative point. */
  get outOfOrder(): number {
    return this.#above.size;
  }

  /** Checks `seq` without recording it. */
  check(seq: number): AcceptResult {
    if (seq <= this.cum || this.#above.has(seq)) return "duplicate";
    return seq - this.cum > this.#maxAhead ? "too-far" : "new";
  }

  /** Records a seq that {@link ReceiveWindow.check} called new. */
  record(seq: number): void {
    if (seq === this.cum + 1) {
      let c = seq;
      const above = this.#above;
      while (above.size > 0 && above.delete(c + 1)) c++;
      this.cum = c;
    } else {
      this.#above.add(seq);
    }
  }

  /** Selective-ack ranges above `cum` as flat inclusive pairs, lowest first, at most `max` pairs. */
  ranges(max: number): number[] {
    const out: number[] = [];
    if (this.#above.size === 0) return out;
    const seqs = [...this.#above].sort((a, b) => a - b);
    let first = seqs[0];
    let last = first;
    for (let i = 1; i < seqs.length; i++) {
      const s = seqs[i];
      if (s === last + 1) {
        last = s;
        continue;
      }
      out.push(first, last);
      if (out.length >= 2 * max) return out;
      first = last = s;
    }
    out.push(first, last);
    return out;
  }
}
