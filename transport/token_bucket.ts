/**
 * A token bucket on the manager's clock: what the Transport Manager spends on strangers (answers to
 * probes and to misaddressed packets, probe rounds for node IDs it does not know) is bounded per
 * second whatever arrives, so a flood costs a fixed amount of work and traffic.
 * @module
 */

import type { Clock } from "../base/clock.ts";

/** `ratePerSecond` tokens per second, at most `burst` saved up. */
export class TokenBucket {
  readonly #clock: Clock;
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;

  /**
   * @param clock the time source.
   * @param ratePerSecond tokens added per second.
   * @param burst most tokens held (the bucket starts full).
   */
  constructor(clock: Clock, ratePerSecond: number, burst: number) {
    this.#clock = clock;
    this.#rate = ratePerSecond;
    this.#burst = burst;
    this.#tokens = burst;
    this.#at = clock.now();
  }

  /** Takes one token; false when none is left. */
  take(): boolean {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) * this.#rate) / 1000);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }
}
