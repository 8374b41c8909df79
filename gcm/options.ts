/**
 * The options of a Group Communication Manager, their defaults, and the checks that turn them into
 * the settings of the ring core (one place for each default).
 * @module
 */
import type { Clock } from "../base/clock.ts";
import type { Logger } from "../base/log.ts";
import type { MessageLayer } from "./layer.ts";
import type { RingOptions } from "./ring.ts";
import { type GcmTimingOptions, resolveGcmTiming } from "./timing.ts";
import type { DeliveryLevel, ViewMode } from "./types.ts";

/** Options of {@link GroupCommunicationManager}. */
export interface GcmOptions {
  /** The layer below (a TransportManager). */
  layer: MessageLayer;
  /** Time source. @default {new SystemClock()} */
  clock?: Clock;
  /**
   * Incarnation of this process; must change when the node restarts (use the Transport Manager's).
   * @default {a random 32-bit number}
   */
  incarnation?: number;
  /** Transport Manager channel of this GCM (several GCMs can share one TM). @default {16} */
  channel?: number;
  /** View mode (3.7.1). @default {"three-phase"} */
  mode?: ViewMode;
  /** Node IDs to ask for membership (the join 911 of 3.5). @default {[]} */
  peers?: readonly string[];
  /**
   * Whether this node starts expecting to be let into a group although `peers` is empty (it learns
   * them later: `addPeer`; createNode's `join` sets this): its first multicasts wait for a view with
   * another member, up to `timing.joinWaitMs`, as with `peers`. @default {peers.length > 0}
   */
  expectPeers?: boolean;
  /**
   * Timing of the ring (idle hold, Hungry / Starving timeouts, hand-shake period, join wait, critical
   * section bound); see `GcmTimingOptions` for each setting and its default. The rules between them and
   * the layer below are checked against the failure times the layer reports (a TransportManager does).
   * @default {{} (every setting derived or default)}
   */
  timing?: GcmTimingOptions;
  /** Most messages one node appends to the token per visit. @default {512} */
  maxBatchMessages?: number;
  /** Most payload bytes one node appends per visit (one bigger message still goes alone). @default {262144} */
  maxBatchBytes?: number;
  /** No appends while the token already carries this many payload bytes. @default {4194304} */
  maxTokenBytes?: number;
  /** Largest multicast payload. @default {1048576} */
  maxMessageBytes?: number;
  /**
   * Most payload bytes of own messages waiting for the token (backpressure): beyond it `multicast`
   * throws `MulticastBackpressureError`; `whenWritable()` waits for room. @default {67108864}
   */
  maxPendingBytes?: number;
  /**
   * Most 911 messages (joins, hand-shakes, token-loss reports) accepted per second from one sender;
   * the rest are dropped and counted in `rateLimited911` (a flooding node cannot keep the ring
   * busy). @default {500}
   */
  max911PerSecondPerSource?: number;
  /**
   * Eligible membership (3.7.3): the node IDs allowed in the group. A node outside it is never
   * admitted, whatever it sends; eligible nodes also get hand-shakes (discovery). Change it at run
   * time with `GroupCommunicationManager.addEligible` / `removeEligible`; removing a current
   * member takes it off the ring at this node's next token visit (configure every member alike).
   * @default {undefined (anyone may join)}
   */
  eligible?: readonly string[];
  /**
   * Expected group size N for the quorum policy: a view of N/2 members or fewer is not in quorum.
   * @default {undefined (no quorum policy)}
   */
  expectedSize?: number;
  /**
   * With `expectedSize`: while the view is not in quorum, this node delivers no multicast messages
   * (they are dropped here, not delayed) and reports `inQuorum: false`. Off, as in the thesis: every
   * partition goes on on its own. @default {false}
   */
  quorum?: boolean;
  /**
   * Where the GCM says what it does (views, leaves, health, failed token sends at `debug`).
   * @default {console output for the namespaces in the RAINCORE_DEBUG environment variable (e.g. `gcm,tm`)}
   */
  logger?: Logger;
}

/** Options of one multicast. */
export interface MulticastOptions {
  /** `agreed`: delivered on first sight in token order; `safe`: only once every member holds it. @default {"agreed"} */
  level?: DeliveryLevel;
  /**
   * Stream of the message, 0..255. Stream 0 (`APP_STREAM`) is the application's (`deliver` events);
   * layers above the GCM take their own (the GDM uses 1) and receive them through
   * `GroupCommunicationManager.onStream`, so their messages never show up as `deliver` events.
   * All streams share one total order. @default {0}
   */
  stream?: number;
  /**
   * A view ID: order the message only in that view. If the view has ended before the message could
   * be ordered (a membership change, or the node is still waiting to join), it is dropped and never
   * delivered — for messages that only make sense in one view (the GDM's view hand-shake).
   * @default {undefined (ordered in whatever view is current when the token comes)}
   */
  view?: string;
}

/** Options of the manager's operations that wait. */
export interface WaitOptions {
  /** Stops waiting: the promise rejects with the signal's reason and the request is withdrawn. */
  signal?: AbortSignal;
}

/** The settings a manager runs with, every option resolved and checked. */
export interface GcmSettings {
  /** Settings of the ring core. */
  ring: RingOptions;
  /** Transport Manager channel. */
  channel: number;
  /** Largest multicast payload. */
  maxMessageBytes: number;
  /** Backpressure bound of own pending payload bytes. */
  maxPendingBytes: number;
  /** 911 rate per sender per second. */
  max911PerSecond: number;
  /** Bound of a critical section. */
  criticalTimeoutMs: number;
  /** Quorum policy: expected group size, or undefined. */
  expectedSize: number | undefined;
  /** Quorum policy on. */
  quorum: boolean;
}

/**
 * Resolves every option to its value (defaults as documented on {@link GcmOptions}) and checks it;
 * `now` is the clock the core measures round times on.
 * @throws {RangeError} naming the option, for a value outside its range.
 * @throws {TimingError} when the timing breaks a rule against the layer below.
 */
export function resolveGcmOptions(opts: GcmOptions, now: () => number): GcmSettings {
  const layer = opts.layer;
  const timing = resolveGcmTiming(opts.timing, layer);
  const positive = {
    max911PerSecondPerSource: opts.max911PerSecondPerSource,
    maxPendingBytes: opts.maxPendingBytes,
    maxMessageBytes: opts.maxMessageBytes,
    maxBatchMessages: opts.maxBatchMessages,
    maxBatchBytes: opts.maxBatchBytes,
    maxTokenBytes: opts.maxTokenBytes,
  };
  for (const [k, v] of Object.entries(positive)) {
    if (v !== undefined && !(v > 0)) throw new RangeError(`'${k}' must be positive, got ${v}`);
  }
  if (opts.expectedSize !== undefined && !(opts.expectedSize >= 1)) {
    throw new RangeError(`'expectedSize' must be at least 1, got ${opts.expectedSize}`);
  }
  const id = opts.layer.nodeId;
  return {
    ring: {
      id,
      incarnation: opts.incarnation ?? randomIncarnation(),
      mode: opts.mode ?? "three-phase",
      timing,
      now,
      addresses: layer.addresses ?? [],
      failureTimeOf: layer.failureTimeOf === undefined ? undefined : (n) => layer.failureTimeOf!(n),
      peers: (opts.peers ?? []).filter((p) => p !== id),
      expectPeers: opts.expectPeers ?? (opts.peers ?? []).some((p) => p !== id),
      maxBatchMessages: opts.maxBatchMessages ?? 512,
      maxBatchBytes: opts.maxBatchBytes ?? 262_144,
      maxTokenBytes: opts.maxTokenBytes ?? 4_194_304,
      eligible: opts.eligible,
    },
    channel: opts.channel ?? 16,
    maxMessageBytes: opts.maxMessageBytes ?? 1_048_576,
    maxPendingBytes: opts.maxPendingBytes ?? 67_108_864,
    max911PerSecond: opts.max911PerSecondPerSource ?? 500,
    criticalTimeoutMs: timing.criticalTimeoutMs,
    expectedSize: opts.expectedSize,
    quorum: opts.quorum ?? false,
  };
}

function randomIncarnation(): number {
  const a = new Uint32Array(1);
  globalThis.crypto.getRandomValues(a);
  return a[0];
}
