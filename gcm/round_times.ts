/**
 * The ring's time scale, measured instead of guessed: how long an idle member keeps the token, and
 * how long it waits for the token before it suspects it lost (the Hungry timeout).
 *
 * A fixed Hungry timeout starves a large ring for ever once an idle round outgrows it (128 members at
 * 20 ms each take 2.6 s a round), and a fixed idle hold makes a large ring slow to notice a failure.
 * So: an idle member keeps the token `min(eatingMs, idleRoundMs / ring size)`; and after passing the
 * token it waits the Transport Manager's current failure time towards its successor (the time the
 * successor's predecessor may need to route around a crashed member, from the measured round trips)
 * plus 1.5 × the measured round time (at least ring size × idle hold). Waiting too little costs only
 * 911s that a member with a newer token vetoes; waiting too long delays the recovery of a lost token. `hungryMs`, when set, is a
 * floor under the first part. Rounds are measured at this member between two receipts of one lineage,
 * on the injected clock.
 * @module
 */

/** Settings of {@link RoundTimes}. */
export interface RoundTimesOptions {
  /** Most time an idle member keeps the token, ms. */
  eatingMs: number;
  /** Most time a member with traffic keeps the token, ms (0: none). */
  batchMs: number;
  /** Longest idle round, ms. */
  idleRoundMs: number;
  /** Floor of the Hungry timeout's failure part, or undefined (the layer's failure time alone). */
  hungryMs: number | undefined;
  /** Failure part when the layer reports none, ms. */
  unknownLayerHungryMs: number;
  /** The clock. */
  now: () => number;
  /** The layer's current failure time towards a node, ms, when it can tell. */
  failureTimeOf?: (nodeId: string) => number;
}

/** Round-time measurement and the idle hold and Hungry timeout derived from it. */
export class RoundTimes {
  readonly #o: RoundTimesOptions;
  #lastAt = -1;
  #lastRing = "";
  #roundMs = 0;

  /** Starts with no round measured. */
  constructor(o: RoundTimesOptions) {
    this.#o = o;
  }

  /** The measured round time (a smoothed value that follows increases at once), ms; 0 before a sample. */
  get roundMs(): number {
    return this.#roundMs;
  }

  /** How long an idle member of a ring of `size` keeps the token, ms. */
  eatingMs(size: number): number {
    return Math.min(this.#o.eatingMs, this.#o.idleRoundMs / Math.max(1, size));
  }

  /** How long a member with traffic keeps the token to batch, ms (0: it passes at once). */
  get batchMs(): number {
    return this.#o.batchMs;
  }

  /** The token of lineage `ringId` arrived here: the time since its previous arrival is a round. */
  receipt(ringId: string): void {
    const now = this.#o.now();
    if (ringId === this.#lastRing && this.#lastAt >= 0) {
      const sample = now - this.#lastAt;
      // Up at once (a slower ring must not starve), down slowly (one quick round proves little).
      this.#roundMs = sample >= this.#roundMs ? sample : this.#roundMs + (sample - this.#roundMs) / 8;
    }
    this.#lastAt = now;
    this.#lastRing = ringId;
  }

  /** How long to wait for the token after passing it to `successor` in a ring of `size`, ms. */
  hungryMs(successor: string, size: number): number {
    const o = this.#o;
    const failure = o.failureTimeOf?.(successor);
    const base = failure === undefined
      ? (o.hungryMs ?? o.unknownLayerHungryMs)
      : Math.max(o.hungryMs ?? 0, failure);
    return base + Math.max(size * Math.max(this.eatingMs(size), this.#o.batchMs), 1.5 * this.#roundMs);
  }
}
