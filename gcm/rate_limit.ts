/**
 * A token bucket per sender, for 911 messages: a flooding node cannot keep the ring busy. Time comes
 * from the caller (the manager's injected Clock).
 * @module
 */

/** Per-sender rate limiter: `rate` per second, bursts up to one second's worth. */
export class PerSourceRateLimit {
  readonly #rate: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  /** Messages refused. */
  refused = 0;

  /** @param rate messages per second per sender (positive). @param maxSources senders tracked (oldest forgotten). */
  constructor(rate: number, readonly maxSources = 1024) {
    this.#rate = rate;
  }

  /** Whether one more message from `from` at time `now` (ms) is within the rate; counts refusals. */
  allow(from: string, now: number): boolean {
    const rate = this.#rate;
    let b = this.#buckets.get(from);
    if (b === undefined) {
      if (this.#buckets.size >= this.maxSources) this.#buckets.delete(this.#buckets.keys().next().value!);
      b = { tokens: rate, at: now };
      this.#buckets.set(from, b);
    }
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) * rate) / 1000);
    b.at = now;
    if (b.tokens < 1) {
      this.refused++;
      return false;
    }
    b.tokens -= 1;
    return true;
  }
}
