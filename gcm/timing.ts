/**
 * The timing of a node, in one place: one name per setting across the Transport Manager and the
 * Group Communication Manager, the defaults derived from one another, and the cross-layer rules
 * checked with an error that says which setting to change. `createNode`, the command line, the demo
 * and the benchmarks all resolve their timing here.
 *
 * The rules:
 * - The Hungry timeout (how long a member waits for the token before it asks for a regeneration) must
 *   exceed the Transport Manager's failure time: otherwise members regenerate the token while the
 *   member before a crashed one is still trying to hand it over, and the ring splits.
 * - A critical section (`withToken`) must end before the Hungry timeout: the token does not move while
 *   it runs.
 *
 * Unless `hungryMs` is set, the Hungry timeout is derived at run time: the Transport Manager's current
 * failure time towards this member's successor (from the measured round trips) plus an allowance for
 * the ring's measured round time (`ring.ts`, `HungryTimer`). Set `hungryMs` only to hold it higher.
 * @module
 */
import { addressFailureMs, TRANSPORT_TIMING_DEFAULTS } from "../transport/rtt.ts";
import { TimingError } from "./errors.ts";

/** Timing of the Group Communication Manager. */
export interface GcmTimingOptions {
  /**
   * Most time an idle member keeps the token before passing it on. With traffic or a membership change
   * the token moves on at once; this only paces an idle ring (lower = faster failure detection and lower
   * latency from idle, higher = fewer packets when nothing happens). @default {20}
   */
  eatingMs?: number;
  /**
   * With traffic, how long a member keeps the token to gather more messages before passing it on; 0
   * passes at once. A hold means fewer token visits and less CPU and fewer packets per message, at up to
   * `batchMs` more latency per hop (thesis 3.8's trade-off); a member whose backlog fills half a visit's
   * budget passes at once. Must be below the Hungry timeout. @default {0}
   */
  batchMs?: number;
  /**
   * Longest idle round: in a ring of N members an idle member keeps the token at most
   * `min(eatingMs, idleRoundMs / N)`, so large rings still notice a failure and carry a first message
   * quickly. @default {250}
   */
  idleRoundMs?: number;
  /**
   * Floor of the Hungry timeout (how long a member waits for the token before it suspects it lost).
   * Must exceed the Transport Manager's failure time. @default {undefined: derived at run time from the
   * Transport Manager's measured failure time towards the successor, plus the measured round time}
   */
  hungryMs?: number;
  /** Starving timeout: period of 911 resends while the token is missing. @default {300} */
  starvingMs?: number;
  /** Period of hand-shakes to known members outside the ring (joins, merges). @default {starvingMs} */
  joinRetryMs?: number;
  /**
   * With peers to join: how long a starting member keeps its multicasts back, waiting to be in a view
   * with another member (then they go out in its view of one). 0 sends them at once. @default {1000}
   */
  joinWaitMs?: number;
  /**
   * Bound of a `withToken` critical section; must be below the Hungry timeout.
   * @default {min(500, half the shortest Hungry timeout)}
   */
  criticalTimeoutMs?: number;
}

/** Timing of the Transport Manager (the names of `TransportManagerOptions`). */
export interface TransportTimingOptions {
  /** Retransmission timeout before a round trip was measured, ms. @default {200} */
  rtoInitialMs?: number;
  /** Floor of the adaptive retransmission timeout, ms (with 4 retries: a fast path fails in 372 ms). @default {12} */
  rtoMinMs?: number;
  /** Ceiling of the retransmission timeout, back-off included, ms. @default {1000} */
  rtoMaxMs?: number;
  /** Resends per address before the node counts as failed there. @default {4} */
  retries?: number;
}

/** The timing of a whole node: both layers, one name per setting. */
export interface TimingOptions extends GcmTimingOptions, TransportTimingOptions {}

/** The Group Communication Manager's timing, resolved. */
export interface GcmTiming {
  /** Most time an idle member keeps the token. */
  eatingMs: number;
  /** Most time a member with traffic keeps the token to batch (0: none). */
  batchMs: number;
  /** Longest idle round. */
  idleRoundMs: number;
  /** Floor of the Hungry timeout, or undefined (derived at run time). */
  hungryMs: number | undefined;
  /** 911 resend period. */
  starvingMs: number;
  /** Hand-shake period. */
  joinRetryMs: number;
  /** Join wait. */
  joinWaitMs: number;
  /** Bound of a critical section. */
  criticalTimeoutMs: number;
}

/** A node's timing, resolved: what goes to each layer, and the failure times the rules used. */
export interface Timing {
  /** The Group Communication Manager's part. */
  gcm: GcmTiming;
  /** The Transport Manager's part. */
  transport: Required<TransportTimingOptions>;
  /** The Transport Manager's failure time on one address at first contact (the initial timeout). */
  failureMs: number;
  /** Its failure time on one address with the timeout at its floor (a fast, measured path). */
  failureFloorMs: number;
}

/** What the layer below says about its failure times (a TransportManager says both). */
export interface FailureTimes {
  /** Failure time at first contact, ms. */
  failureTimeMs?: number;
  /** Failure time with the timeout at its floor, ms. */
  failureTimeFloorMs?: number;
}

/** The GCM's default timing (the rest is derived). */
export const GCM_TIMING_DEFAULTS: {
  readonly eatingMs: number;
  readonly batchMs: number;
  readonly idleRoundMs: number;
  readonly starvingMs: number;
  readonly joinWaitMs: number;
  readonly criticalTimeoutMs: number;
  readonly unknownLayerHungryMs: number;
} = Object.freeze({
  eatingMs: 20,
  batchMs: 0,
  idleRoundMs: 250,
  starvingMs: 300,
  joinWaitMs: 1000,
  criticalTimeoutMs: 500,
  /** Hungry base over a layer that reports no failure time (not a TransportManager). */
  unknownLayerHungryMs: 1000,
});

/**
 * Resolves the GCM's timing (defaults as documented on {@link GcmTimingOptions}) and checks it against
 * the failure times of the layer below, when it reports them.
 * @throws {RangeError} naming the setting, for a value outside its range.
 * @throws {TimingError} when a cross-layer rule is broken.
 */
export function resolveGcmTiming(t: GcmTimingOptions = {}, layer: FailureTimes = {}): GcmTiming {
  const d = GCM_TIMING_DEFAULTS;
  const starvingMs = t.starvingMs ?? d.starvingMs;
  const values = {
    eatingMs: t.eatingMs ?? d.eatingMs,
    batchMs: t.batchMs ?? d.batchMs,
    idleRoundMs: t.idleRoundMs ?? d.idleRoundMs,
    hungryMs: t.hungryMs,
    starvingMs,
    joinRetryMs: t.joinRetryMs ?? starvingMs,
    joinWaitMs: t.joinWaitMs ?? d.joinWaitMs,
    criticalTimeoutMs: t.criticalTimeoutMs,
  };
  for (const [k, v] of Object.entries(values)) {
    if (v !== undefined && !(v >= 0 && Number.isFinite(v))) {
      throw new RangeError(`'${k}' must be a non-negative finite number, got ${v}`);
    }
  }
  for (const k of ["starvingMs", "joinRetryMs", "idleRoundMs"] as const) {
    if (!(values[k] > 0)) throw new RangeError(`'${k}' must be positive, got ${values[k]}`);
  }
  const failure = layer.failureTimeMs;
  if (t.hungryMs !== undefined && failure !== undefined && !(t.hungryMs > failure)) {
    throw new TimingError(
      "hungryMs",
      `'hungryMs' (${t.hungryMs} ms) must exceed the Transport Manager's failure time (${failure} ms: the ` +
        `initial retransmission timeout, then every resend with back-off); raise hungryMs, lower ` +
        `rtoInitialMs, rtoMaxMs or retries, or leave hungryMs unset to derive it`,
    );
  }
  // The shortest the Hungry timeout can be: its floor, else the layer's failure time on a fast path.
  const hungryFloor = t.hungryMs ?? layer.failureTimeFloorMs ?? d.unknownLayerHungryMs;
  const criticalTimeoutMs = t.criticalTimeoutMs ??
    Math.min(d.criticalTimeoutMs, Math.max(1, Math.floor(hungryFloor / 2)));
  if (!(values.batchMs < hungryFloor)) {
    throw new TimingError(
      "batchMs",
      `'batchMs' (${values.batchMs} ms) must be below the Hungry timeout (at least ${hungryFloor} ms): ` +
        `the others wait for the token while a member holds it; lower batchMs or raise hungryMs`,
    );
  }
  if (!(criticalTimeoutMs < hungryFloor)) {
    throw new TimingError(
      "criticalTimeoutMs",
      `'criticalTimeoutMs' (${criticalTimeoutMs} ms) must be below the Hungry timeout (at least ` +
        `${hungryFloor} ms${
          t.hungryMs === undefined ? ", the Transport Manager's failure time on a fast path" : ""
        }): ` +
        `the token stands still during a critical section; lower criticalTimeoutMs or raise hungryMs`,
    );
  }
  return { ...values, hungryMs: t.hungryMs, criticalTimeoutMs };
}

/**
 * Resolves a whole node's timing: the Transport Manager's settings (defaults from
 * `TRANSPORT_TIMING_DEFAULTS`), its failure times, and the GCM's settings checked against them.
 * @throws {RangeError} naming the setting, for a value outside its range.
 * @throws {TimingError} when a cross-layer rule is broken.
 */
export function resolveTiming(t: TimingOptions = {}): Timing {
  const d = TRANSPORT_TIMING_DEFAULTS;
  const transport = {
    rtoInitialMs: t.rtoInitialMs ?? d.rtoInitialMs,
    rtoMinMs: t.rtoMinMs ?? d.rtoMinMs,
    rtoMaxMs: t.rtoMaxMs ?? d.rtoMaxMs,
    retries: t.retries ?? d.retries,
  };
  for (const k of ["rtoInitialMs", "rtoMinMs", "rtoMaxMs"] as const) {
    if (!(transport[k] > 0 && Number.isFinite(transport[k]))) {
      throw new RangeError(`'${k}' must be a positive finite number, got ${transport[k]}`);
    }
  }
  if (!(transport.rtoMinMs <= transport.rtoMaxMs)) {
    throw new TimingError(
      "rtoMinMs",
      `'rtoMinMs' (${transport.rtoMinMs} ms) must not exceed 'rtoMaxMs' (${transport.rtoMaxMs} ms)`,
    );
  }
  if (!(Number.isInteger(transport.retries) && transport.retries >= 0 && transport.retries <= 1000)) {
    throw new RangeError(`'retries' must be an integer in 0..1000, got ${transport.retries}`);
  }
  const failureMs = addressFailureMs(
    Math.max(transport.rtoInitialMs, transport.rtoMinMs),
    transport.rtoMaxMs,
    transport.retries,
  );
  const failureFloorMs = addressFailureMs(transport.rtoMinMs, transport.rtoMaxMs, transport.retries);
  const gcm = resolveGcmTiming(t, { failureTimeMs: failureMs, failureTimeFloorMs: failureFloorMs });
  return { gcm, transport, failureMs, failureFloorMs };
}
