/**
 * The adaptive retransmission timeout of the Transport Manager: Jacobson/Karels smoothing of
 * measured round trips (RFC 6298) with a floor, a ceiling and exponential back-off. Callers feed
 * only unambiguous samples (Karn's rule: never from a retransmitted packet).
 * @module
 */

/**
 * The Transport Manager's timing defaults, in one place: `TransportManager`, `createNode`, the
 * command line and the demo all take them from here.
 *
 * A peer that stops answering is failed after 5 sends (`retries` 4), the timeout doubling from the
 * current one up to `rtoMaxMs` ({@link addressFailureMs}). On loopback and a LAN the measured
 * timeout sits at the floor, so `rtoMinMs` 12 makes that 12 + 24 + 48 + 96 + 192 = 372 ms: the
 * bulk of a SIGKILL fail-over (README "Fail-over", target ≤ 500 ms). It is also the longest a live
 * peer may stay silent (a GC pause, a descheduled process) before it is suspected; on a loaded
 * machine or a slower link the measured round trips raise the timeout above the floor and the
 * failure time with it. `rtoMaxMs` stays large so that high-latency links keep their back-off; at
 * first contact the timeout starts at `rtoInitialMs`: 200 + 400 + 800 + 1,000 + 1,000 = 3,400 ms.
 */
export const TRANSPORT_TIMING_DEFAULTS: {
  readonly rtoInitialMs: number;
  readonly rtoMinMs: number;
  readonly rtoMaxMs: number;
  readonly retries: number;
} = Object.freeze({ rtoInitialMs: 200, rtoMinMs: 12, rtoMaxMs: 1000, retries: 4 });

/**
 * How long one address takes to count as failed when nothing answers: the first timeout `rtoMs`,
 * then `retries` resends, the timeout doubling each time up to `rtoMaxMs`.
 */
export function addressFailureMs(rtoMs: number, rtoMaxMs: number, retries: number): number {
  let total = 0;
  let r = Math.min(rtoMs, rtoMaxMs);
  for (let i = 0; i <= retries; i++) {
    total += Math.min(r, rtoMaxMs);
    r *= 2;
  }
  return total;
}

/** Settings of an {@link RtoEstimator}. */
export interface RtoOptions {
  /** Timeout before any round trip was measured, in ms. */
  initialMs: number;
  /** Floor of the timeout, in ms. */
  minMs: number;
  /** Ceiling of the timeout, also after back-off, in ms. */
  maxMs: number;
}

/** Smoothed round-trip time and the retransmission timeout derived from it. */
export class RtoEstimator {
  #srtt = 0;
  #rttvar = 0;
  /** Fastest and smoothed round trip of {@link RtoEstimator.samplePath} (one sample per ack). */
  #minRtt = Infinity;
  #pathRtt = 0;
  #measured = false;
  #rto: number;
  #backoff = 1;
  readonly #opts: RtoOptions;

  /** Starts with `initialMs` as the timeout. */
  constructor(opts: RtoOptions) {
    this.#opts = opts;
    this.#rto = clamp(opts.initialMs, opts.minMs, opts.maxMs);
  }

  /** Smoothed round trip in ms (0 before the first sample). */
  get srtt(): number {
    return this.#srtt;
  }

  /**
   * How long a packet may reasonably stay unacknowledged: srtt + 4 × rttvar, without floor or
   * back-off (0 before the first sample). Beyond it a packet that later ones overtook is taken as
   * lost; a plain "overtaken by three" rule would resend nearly every packet on a jittery path.
   */
  get lossDelay(): number {
    return this.#measured ? this.#srtt + Math.max(1, 4 * this.#rttvar) : 0;
  }

  /**
   * Whether packets wait in a queue on the path: the round trip of {@link RtoEstimator.samplePath}
   * exceeds the fastest one by more than the variation explains (4 × rttvar, and at least a quarter
   * of the fastest). A loss then is taken as congestion; on a path without a queue it is taken as
   * noise (a lossy radio link, say), which slowing down would not cure.
   */
  get queueing(): boolean {
    return this.#pathRtt - this.#minRtt > Math.max(4 * this.#rttvar, this.#minRtt / 4);
  }

  /** The current timeout in ms, back-off included. */
  get rto(): number {
    return Math.min(this.#rto * this.#backoff, this.#opts.maxMs);
  }

  /** Feeds one measured round trip (ms) and ends any back-off. */
  sample(rttMs: number): void {
    const r = Math.max(0, rttMs);
    if (!this.#measured) {
      this.#srtt = r;
      this.#rttvar = r / 2;
      this.#measured = true;
    } else {
      // RFC 6298: beta = 1/4 for the variance, alpha = 1/8 for the mean; variance first.
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - r);
      this.#srtt = 0.875 * this.#srtt + 0.125 * r;
    }
    // The 1 ms term stands in for the clock granularity G of RFC 6298.
    this.#rto = clamp(this.#srtt + Math.max(1, 4 * this.#rttvar), this.#opts.minMs, this.#opts.maxMs);
    this.#backoff = 1;
  }

  /**
   * Feeds the round trip of the packet that most likely triggered an ack (the latest sent that it
   * covers), for {@link RtoEstimator.queueing}: packets covered only because an earlier ack was lost
   * would count the wait for the next ack as queueing.
   */
  samplePath(rttMs: number): void {
    const r = Math.max(0, rttMs);
    if (r < this.#minRtt) this.#minRtt = this.#pathRtt = r;
    this.#pathRtt += (r - this.#pathRtt) / 8;
  }

  /** Doubles the timeout after a timeout expired without progress (up to the ceiling). */
  backOff(): void {
    if (this.#rto * this.#backoff < this.#opts.maxMs) this.#backoff *= 2;
  }

  /** Ends back-off without a sample (e.g. when switching to another address). */
  resetBackoff(): void {
    this.#backoff = 1;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}
