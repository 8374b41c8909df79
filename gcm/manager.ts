/**
 * The Group Communication Manager (3.3–3.9): the driver that wires the pure {@link RingCore} to a
 * {@link MessageLayer} (the Transport Manager, or anything with the same three methods) and a
 * {@link Clock}. It encodes and decodes messages, turns the core's timer actions into clock timers
 * and the layer's delivery outcomes into core events, and offers the application API: views,
 * multicast, open-group send, `withToken` and `leave`.
 * @module
 */
import { type Clock, SystemClock, type TimerId } from "../base/clock.ts";
import { ClosedError, DecodeError } from "../base/errors.ts";
import {
  decode,
  encode911,
  encodeForward,
  encodeToken,
  KIND_911,
  KIND_FORWARD,
  KIND_TOKEN,
} from "./codec.ts";
import {
  LeftGroupError,
  MulticastBackpressureError,
  MulticastTooLargeError,
  NotMemberError,
  TimeoutError,
} from "./errors.ts";
import type { Message911 } from "./message911.ts";
import { RingCore } from "./ring.ts";
import { type DeliveryLevel, type Member, TokenState, type ViewMode, ViewState } from "./types.ts";

/**
 * What the GCM needs from the layer below; the Transport Manager satisfies it. `post` reports
 * success once the whole message is acknowledged, and an error when every resend on every address
 * failed — that failure is the GCM's failure detector (3.2, 3.5).
 */
export interface MessageLayer {
  /** This node's ID. */
  readonly nodeId: string;
  /**
   * Sends one message reliably and atomically; no ordering between messages is needed. `outcome` is
   * called exactly once, from the layer's own event that decides it (never from a promise
   * continuation, so a simulated run does not depend on how many `await`s a chain has).
   */
  post(nodeId: string, channel: number, msg: Uint8Array, outcome: (error?: Error) => void): void;
  /**
   * Registers the handler of one channel. Each message comes in a buffer of its own that the layer
   * never touches again (the Transport Manager's do): decoded payloads are views into it.
   */
  onMessage(channel: number, fn: (from: string, msg: Uint8Array) => void): void;
}

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
   * How long an idle node keeps the token before passing it on. With traffic the token moves on at
   * once; `eatingMs` only paces an idle ring (lower = faster failure detection and lower multicast
   * latency from idle, higher = fewer packets when nothing happens). @default {20}
   */
  eatingMs?: number;
  /**
   * Hungry timeout: how long a node waits for the token before suspecting it lost; the effective
   * value is `hungryMs + ring size × eatingMs`. Must exceed the Transport Manager's time to declare
   * a delivery failure, or regenerations race reroutes. @default {1000}
   */
  hungryMs?: number;
  /** Starving timeout: period of 911 resends while the token is missing. @default {300} */
  starvingMs?: number;
  /** Period of join attempts while this node is a group of one. @default {starvingMs} */
  joinRetryMs?: number;
  /**
   * With `peers`: how long a starting node keeps the messages it multicasts back, waiting to be in a
   * view with another member. They go out in the first such view; if no peer takes the node in within
   * this time, in its own view of one (where only it delivers them). 0 sends them at once.
   * @default {1000}
   */
  joinWaitMs?: number;
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
   * throws {@link MulticastBackpressureError}; `whenWritable()` waits for room. @default {67108864}
   */
  maxPendingBytes?: number;
  /**
   * Most 911 messages (joins, hand-shakes, token-loss reports) accepted per second from one sender;
   * the rest are dropped and counted in `rateLimited911` (a flooding node cannot keep the ring
   * busy). @default {500}
   */
  max911PerSecondPerSource?: number;
  /**
   * Bound of a `withToken` critical section; after it the token moves on and the promise rejects
   * with {@link TimeoutError}. Keep it below `hungryMs`, or other nodes regenerate the token.
   * @default {500}
   */
  criticalTimeoutMs?: number;
  /**
   * Eligible membership (3.7.3): the node IDs allowed in the group. A node outside it is never
   * admitted, whatever it sends; eligible nodes also get hand-shakes (discovery). Change it at run
   * time with {@link GroupCommunicationManager.addEligible} / `removeEligible`; removing a current
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
}

/** Options of {@link GroupCommunicationManager.addHealthCheck}. */
export interface HealthCheckOptions {
  /** How often the check runs (time from the injected Clock). @default {1000} */
  intervalMs?: number;
}

/**
 * Two groups merged (3.7.3): this node's view gained members that were not in its previous view. A
 * merge normally brings the other group's whole ring in one view; a member that was busy (in a critical
 * section) comes in a view later, with an event of its own. A plain join is a merge with a lone node.
 */
export interface MergeEvent {
  /** This node's view before the merge. */
  previous: ViewEvent;
  /** The other side: the members of `view` that were not in `previous` (index 0: not known here). */
  other: ViewEvent;
  /** The new committed view. */
  view: ViewEvent;
}

/** This node left the group. */
export interface LeaveEvent {
  /** Always true: a leave hands the token on (a crash or `close()` is no leave). */
  graceful: boolean;
  /** `requested`: the application called `leave()`; `health`: a health check failed (3.7.3). */
  reason: "requested" | "health";
  /** Whether this node will rejoin by itself (a health-check leave, once every check passes again). */
  rejoins: boolean;
}

/** A committed view. */
export interface ViewEvent {
  /** Identifier: the same at every member that installs this view, different for every other view. */
  id: string;
  /** Index in the globalView vector (each member's views have rising indices). */
  index: number;
  /** Identifier of the view this node installed before ("" for its first). */
  previous: string;
  /** Member node IDs in ring order. */
  members: string[];
  /** Members with their incarnations. */
  detail: Member[];
  /** View mode that committed it. */
  mode: ViewMode;
  /** Quorum policy: whether the view has more than `expectedSize / 2` members (always true without it). */
  inQuorum: boolean;
}

/** A delivered multicast message. */
export interface DeliverEvent {
  /** Node ID of the sender (the member that multicast it). */
  from: string;
  /** Incarnation of the sender. */
  fromIncarnation: number;
  /** Per-sender sequence number. */
  seq: number;
  /** Delivery level. */
  level: DeliveryLevel;
  /** Payload (do not modify). */
  data: Uint8Array;
  /** Open-group send: the non-member that handed the message to `from`. */
  forwardedFor?: string;
  /**
   * ID of the configuration this node delivered the message in: a regular view ({@link ViewEvent.id})
   * or a transitional configuration ({@link TransitionalEvent.id}).
   */
  view: string;
  /** Whether it was delivered in a transitional configuration. */
  transitional: boolean;
}

/**
 * The transitional configuration between two regular views (extended virtual synchrony): the members
 * that move together from `previous` to `next`. It comes after the last message this node delivers in
 * `previous` and before the `view` event of `next`; the messages of `previous` that could not be
 * delivered there (a `safe` one not every member was known to hold, anything after a message that no
 * surviving member had) are delivered in it.
 */
export interface TransitionalEvent {
  /** Identifier, the same at every member that moves from `previous` to `next`. */
  id: string;
  /** The regular view left. */
  previous: string;
  /** The regular view installed next ("" when this node leaves the group). */
  next: string;
  /** Member node IDs, in `next`'s ring order. */
  members: string[];
  /** Members with their incarnations. */
  detail: Member[];
}

/** An exception (or rejected promise) of an application listener; the protocol went on unharmed. */
export interface ListenerErrorEvent {
  /** The event whose listener failed. */
  event: string;
  /** What it threw. */
  error: unknown;
}

/** Events of {@link GroupCommunicationManager}. */
export interface GcmEvents {
  /** A view was committed. */
  view: ViewEvent;
  /** A multicast message was delivered. */
  deliver: DeliverEvent;
  /** The transitional configuration before the next view (extended virtual synchrony). */
  transitional: TransitionalEvent;
  /** An application listener threw or rejected; the protocol state is unchanged by it. */
  error: ListenerErrorEvent;
  /** The token arrived at this node. */
  token: { seq: number };
  /** This node left the group. */
  leave: LeaveEvent;
  /** `close()` was called: the manager is stopped for good (no `leave` follows). */
  close: Record<string, never>;
  /** Groups merged: this view brought in members that were not in the previous one (3.7.3). */
  merge: MergeEvent;
  /** A health check changed state (critical resources): the node leaves while any is unhealthy. */
  health: { name: string; healthy: boolean };
}

/** Options of one multicast. */
export interface MulticastOptions {
  /** `agreed`: delivered on first sight in token order; `safe`: only once every member holds it. @default {"agreed"} */
  level?: DeliveryLevel;
  /**
   * Stream of the message, 0..255. Stream {@link APP_STREAM} is the application's (`deliver` events);
   * layers above the GCM take their own (the GDM uses 1) and receive them through
   * {@link GroupCommunicationManager.onStream}, so their messages never show up as `deliver` events.
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

/** The application's stream: its messages are the `deliver` events. */
export const APP_STREAM = 0;

/**
 * Prefixes a payload with its stream byte (one copy per multicast: the token carries the stream
 * inside the payload, so the wire format stays as it is).
 */
function frame(stream: number, data: Uint8Array): Uint8Array {
  if (!Number.isInteger(stream) || stream < 0 || stream > 255) {
    throw new RangeError(`'stream' must be an integer in 0..255, got ${stream}`);
  }
  const out = new Uint8Array(data.length + 1);
  out[0] = stream;
  out.set(data, 1);
  return out;
}

/** Snapshot of the core state (diagnostics and tests). */
export interface GcmState {
  viewState: "agreement" | "chaos" | "reserve";
  tokenState: "eating" | "hungry" | "starving";
  globalViewNumber: number;
  localView: string[];
  lone: boolean;
  left: boolean;
}

interface CriticalRequest {
  fn: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timeoutMs: number;
}

type Listener<T> = (ev: T) => void;

const VIEW_STATES = ["agreement", "chaos", "reserve"] as const;
const TOKEN_STATES = ["eating", "hungry", "starving"] as const;

/** The Group Communication Manager of one node. Call {@link start} to join. */
export class GroupCommunicationManager {
  /** The pure core (exposed for tests and diagnostics; do not drive it directly). */
  core: RingCore;
  readonly #layer: MessageLayer;
  readonly #clock: Clock;
  readonly #channel: number;
  readonly #maxMessageBytes: number;
  readonly #maxPendingBytes: number;
  #writableWaiters: { bytes: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  readonly #criticalTimeoutMs: number;
  readonly #modeName: ViewMode;
  readonly #streams = new Map<number, (message: DeliverEvent) => void>();
  readonly #listeners: { [K in keyof GcmEvents]: Listener<GcmEvents[K]>[] } = {
    view: [],
    deliver: [],
    transitional: [],
    error: [],
    token: [],
    leave: [],
    close: [],
    merge: [],
    health: [],
  };
  #ringOptions: ConstructorParameters<typeof RingCore>[0];
  readonly #expectedSize: number | undefined;
  readonly #quorum: boolean;
  #lastView: ViewEvent | undefined;
  readonly #health = new Map<string, { healthy: boolean; timer: TimerId | undefined; running: boolean }>();
  #rejoinPending = false;
  /** 911s handed to the Transport Manager and not yet acknowledged or failed (see "send911"). */
  readonly #pending911 = new Set<string>();
  /** The application called `leave()`: no health check brings this node back. */
  #leftForGood = false;
  #timer: TimerId | undefined;
  #joinTimer: TimerId | undefined;
  #flushing = false;
  #closed = false;
  #critical: CriticalRequest[] = [];
  #leaveWaiters: Array<() => void> = [];
  /** Messages that failed to decode (diagnostics). */
  decodeErrors = 0;
  /** 911 messages dropped by `max911PerSecondPerSource`. */
  rateLimited911 = 0;
  readonly #max911PerSecond: number;
  /** Token buckets per sender (bounded: at most 1,024 senders tracked). */
  readonly #buckets911 = new Map<string, { tokens: number; at: number }>();

  constructor(opts: GcmOptions) {
    this.#layer = opts.layer;
    this.#clock = opts.clock ?? new SystemClock();
    this.#channel = opts.channel ?? 16;
    this.#maxMessageBytes = opts.maxMessageBytes ?? 1_048_576;
    this.#maxPendingBytes = opts.maxPendingBytes ?? 67_108_864;
    this.#max911PerSecond = opts.max911PerSecondPerSource ?? 500;
    if (!(this.#max911PerSecond > 0)) {
      throw new RangeError(
        `'max911PerSecondPerSource' must be positive, got ${opts.max911PerSecondPerSource}`,
      );
    }
    if (!(this.#maxPendingBytes > 0)) {
      throw new RangeError(`'maxPendingBytes' must be positive, got ${opts.maxPendingBytes}`);
    }
    this.#criticalTimeoutMs = opts.criticalTimeoutMs ?? 500;
    const starvingMs = opts.starvingMs ?? 300;
    const incarnation = opts.incarnation ?? randomIncarnation();
    this.#modeName = opts.mode ?? "three-phase";
    for (const [k, v] of Object.entries({ eatingMs: opts.eatingMs, hungryMs: opts.hungryMs, starvingMs })) {
      if (v !== undefined && !(v >= 0)) throw new RangeError(`'${k}' must be a non-negative number`);
    }
    this.#expectedSize = opts.expectedSize;
    this.#quorum = opts.quorum ?? false;
    if (opts.expectedSize !== undefined && !(opts.expectedSize >= 1)) {
      throw new RangeError(`'expectedSize' must be at least 1, got ${opts.expectedSize}`);
    }
    this.#ringOptions = {
      id: opts.layer.nodeId,
      incarnation,
      mode: this.#modeName,
      eatingMs: opts.eatingMs ?? 20,
      hungryMs: opts.hungryMs ?? 1000,
      starvingMs,
      joinRetryMs: opts.joinRetryMs ?? starvingMs,
      joinWaitRounds: Math.ceil((opts.joinWaitMs ?? 1000) / Math.max(1, opts.joinRetryMs ?? starvingMs)),
      peers: (opts.peers ?? []).filter((p) => p !== opts.layer.nodeId),
      maxBatchMessages: opts.maxBatchMessages ?? 512,
      maxBatchBytes: opts.maxBatchBytes ?? 262_144,
      maxTokenBytes: opts.maxTokenBytes ?? 4_194_304,
      eligible: opts.eligible,
    };
    this.core = new RingCore(this.#ringOptions);
    this.#layer.onMessage(this.#channel, (from, msg) => this.#onMessage(from, msg));
  }

  /** This node's ID. */
  get id(): string {
    return this.core.me.id;
  }

  /** This process's incarnation. */
  get incarnation(): number {
    return this.core.me.inc;
  }

  /** The last committed view (before {@link start}: an empty view with index 0). */
  get view(): ViewEvent {
    const v = this.core.lastGlobalView;
    return {
      id: v.id,
      index: v.index,
      previous: this.#lastView?.previous ?? "",
      members: v.members.map((m) => m.id),
      detail: v.members.slice(),
      mode: this.mode,
      inQuorum: this.#inQuorum(v.members.length),
    };
  }

  /**
   * Quorum policy: whether the last committed view has more than `expectedSize / 2` members.
   * Always true without `expectedSize`.
   */
  get inQuorum(): boolean {
    return this.#inQuorum(this.core.lastGlobalView.members.length);
  }

  #inQuorum(size: number): boolean {
    return this.#expectedSize === undefined || size > this.#expectedSize / 2;
  }

  /** The eligible node IDs (3.7.3), sorted; `undefined` = anyone may join. */
  get eligible(): string[] | undefined {
    return this.core.eligible;
  }

  /** Makes nodes eligible (and hand-shake targets). With no eligible set yet, starts one with them and the current members. */
  addEligible(...ids: string[]): void {
    const cur = this.core.eligible ?? this.core.lastGlobalView.members.map((m) => m.id);
    this.#setEligible([...new Set([...cur, ...ids, this.id])]);
  }

  /**
   * Makes nodes ineligible: never admitted again, and current members among them are taken off the
   * ring at this node's next token visit. Removing this node itself makes it leave the group.
   */
  removeEligible(...ids: string[]): void {
    const cur = this.core.eligible ?? this.core.lastGlobalView.members.map((m) => m.id);
    this.#setEligible(cur.filter((x) => !ids.includes(x)));
    if (ids.includes(this.id)) void this.leave();
  }

  /** Replaces the eligible set (`undefined` = anyone). */
  setEligible(ids: readonly string[] | undefined): void {
    this.#setEligible(ids === undefined ? undefined : [...ids]);
  }

  #setEligible(ids: string[] | undefined): void {
    this.#assertOpen();
    this.#ringOptions = { ...this.#ringOptions, eligible: ids };
    this.core.setEligible(ids);
    this.#flush();
  }

  /**
   * Critical resources (3.7.3): registers a health check run every `intervalMs` on the injected
   * Clock. While any check is unhealthy (returns false, rejects or throws) this node leaves the
   * group; once all are healthy again it rejoins as a new incarnation. Returns a function that
   * removes the check.
   */
  addHealthCheck(
    name: string,
    fn: () => boolean | Promise<boolean>,
    options: HealthCheckOptions = {},
  ): () => void {
    this.#assertOpen();
    const intervalMs = options.intervalMs ?? 1000;
    if (!(intervalMs > 0)) throw new RangeError(`'intervalMs' must be positive, got ${options.intervalMs}`);
    if (this.#health.has(name)) throw new RangeError(`health check '${name}' already exists`);
    const h = { healthy: true, timer: undefined as TimerId | undefined, running: false };
    this.#health.set(name, h);
    const set = (healthy: boolean): void => {
      if (this.#closed || this.#health.get(name) !== h || h.healthy === healthy) return;
      h.healthy = healthy;
      this.#emit("health", { name, healthy });
      if (!healthy) {
        if (this.#leftForGood) return;
        this.#rejoinPending = true;
        if (!this.core.left) {
          this.core.leave();
          this.#flush();
        }
      } else this.#maybeRejoin();
    };
    const run = (): void => {
      h.timer = this.#clock.setTimer(intervalMs, run);
      if (h.running) return;
      h.running = true;
      let r: boolean | Promise<boolean>;
      try {
        r = fn();
      } catch {
        h.running = false;
        set(false);
        return;
      }
      Promise.resolve(r).then(
        (ok) => {
          h.running = false;
          set(ok === true);
        },
        () => {
          h.running = false;
          set(false);
        },
      );
    };
    h.timer = this.#clock.setTimer(0, run);
    return () => {
      if (h.timer !== undefined) this.#clock.clearTimer(h.timer);
      this.#health.delete(name);
      this.#maybeRejoin();
    };
  }

  /** Whether every health check is healthy. */
  get healthy(): boolean {
    for (const h of this.#health.values()) if (!h.healthy) return false;
    return true;
  }

  /** After a health-check leave: rejoin (a new incarnation, views go on from ours) once all are healthy. */
  #maybeRejoin(): void {
    if (!this.#rejoinPending || this.#leftForGood || this.#closed || !this.healthy || !this.core.left) return;
    this.#rejoinPending = false;
    const old = this.core;
    this.#ringOptions = {
      ...this.#ringOptions,
      // Not truncated to 32 bits: createNode passes the Transport Manager's time-based incarnation
      // (above 2^32), and a rejoin must come out greater than the process it replaces.
      incarnation: old.me.inc + 1,
      baseViewNumber: old.globalViewNumber,
      peers: [...new Set([...this.#ringOptions.peers, ...old.lastGlobalView.members.map((m) => m.id)])]
        .filter((p) => p !== this.id),
    };
    this.core = new RingCore(this.#ringOptions);
    this.core.start();
    this.#flush();
  }

  /** The view mode. */
  get mode(): ViewMode {
    return this.#modeName;
  }

  /** Snapshot of the protocol state. */
  get state(): GcmState {
    const c = this.core;
    return {
      viewState: VIEW_STATES[c.viewState],
      tokenState: TOKEN_STATES[c.tokenState],
      globalViewNumber: c.globalViewNumber,
      localView: c.localView.map((m) => m.id),
      lone: c.lone,
      left: c.left,
    };
  }

  /** Whether this node holds the token right now. */
  get holdsToken(): boolean {
    return this.core.tokenState === TokenState.Eating && this.core.token !== undefined;
  }

  /** Whether the last view is in agreement (Agreement view state). */
  get agreed(): boolean {
    return this.core.viewState === ViewState.Agreement;
  }

  /**
   * Takes the messages of one stream (1..255) for a layer above the GCM; they are not `deliver`
   * events. One handler per stream; returns a function that releases the stream.
   */
  onStream(stream: number, fn: (message: DeliverEvent) => void): () => void {
    if (!Number.isInteger(stream) || stream <= APP_STREAM || stream > 255) {
      throw new RangeError(`'stream' must be an integer in 1..255 (0 is the application's), got ${stream}`);
    }
    if (this.#streams.has(stream)) throw new RangeError(`stream ${stream} is already taken`);
    this.#streams.set(stream, fn);
    return () => {
      if (this.#streams.get(stream) === fn) this.#streams.delete(stream);
    };
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof GcmEvents>(event: K, fn: Listener<GcmEvents[K]>): () => void {
    const list = this.#listeners[event] as Listener<GcmEvents[K]>[];
    list.push(fn);
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /** Starts the protocol: commits the view {self} and asks the peers to be added. */
  start(): void {
    this.#assertOpen();
    this.core.start();
    this.#flush();
  }

  /**
   * Multicasts `data` to the group (3.8). Returns the per-sender sequence number. The message rides
   * on the token; it is delivered to every member, this node included, in one total order.
   * @throws {LeftGroupError} after `leave()` or `close()`.
   * @throws {MulticastTooLargeError} above `maxMessageBytes`.
   * @throws {MulticastBackpressureError} when own messages waiting for the token would exceed
   *   `maxPendingBytes`; `await whenWritable(data.length)` and retry.
   */
  multicast(data: Uint8Array, options: MulticastOptions = {}): number {
    this.#assertMember();
    if (data.length > this.#maxMessageBytes) {
      throw new MulticastTooLargeError(data.length, this.#maxMessageBytes);
    }
    const pending = this.core.multicast.pendingBytes;
    if (pending > 0 && pending + data.length > this.#maxPendingBytes) {
      throw new MulticastBackpressureError(pending, data.length, this.#maxPendingBytes);
    }
    const seq = this.core.send(
      frame(options.stream ?? APP_STREAM, data),
      options.level === "safe",
      "",
      options.view,
    );
    this.#flush();
    return seq;
  }

  /**
   * Resolves when a multicast of `bytes` would not exceed `maxPendingBytes` (backpressure).
   * @throws {LeftGroupError} (rejects) when the manager is closed first.
   */
  whenWritable(bytes = 0): Promise<void> {
    const pending = this.core.multicast.pendingBytes;
    if (pending === 0 || pending + bytes <= this.#maxPendingBytes) return Promise.resolve();
    if (this.#closed) return Promise.reject(new LeftGroupError());
    return new Promise((resolve, reject) => this.#writableWaiters.push({ bytes, resolve, reject }));
  }

  /**
   * Open-group send (3.8): hands `data` to `member`, which multicasts it on our behalf (delivered
   * with `from = member`, `forwardedFor = this node`). Resolves when the member has it.
   * @throws {DeliveryFailedError} when the member cannot be reached; try another member.
   */
  async sendToGroup(member: string, data: Uint8Array, options: MulticastOptions = {}): Promise<void> {
    this.#assertOpen();
    if (data.length > this.#maxMessageBytes) {
      throw new MulticastTooLargeError(data.length, this.#maxMessageBytes);
    }
    const bytes = encodeForward({
      from: this.id,
      safe: options.level === "safe",
      data: frame(options.stream ?? APP_STREAM, data),
    });
    await new Promise<void>((resolve, reject) =>
      this.#layer.post(member, this.#channel, bytes, (e) => e === undefined ? resolve() : reject(e))
    );
  }

  /**
   * Mutual exclusion (3.9): runs `fn` while this node holds the token; the token moves on only after
   * `fn` returns or its promise settles — or after `timeoutMs`, when the promise rejects with
   * {@link TimeoutError} (and exclusion is no longer guaranteed for the rest of `fn`).
   */
  withToken<T>(fn: () => T | Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
    try {
      this.#assertMember();
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<T>((resolve, reject) => {
      this.#critical.push({
        fn,
        resolve: resolve as (v: unknown) => void,
        reject,
        timeoutMs: options.timeoutMs ?? this.#criticalTimeoutMs,
      });
      this.core.requestCritical();
      this.#flush();
    });
  }

  /**
   * Leaves the group gracefully: at the next token visit this node takes itself off the ring, so
   * the others change view within one round. Resolves once the token has been handed on.
   */
  leave(): Promise<void> {
    this.#leftForGood = true; // also when a health check took the node out already: it stays out
    this.#rejoinPending = false;
    if (this.core.left || this.#closed || !this.#started()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#leaveWaiters.push(resolve);
      this.core.leave();
      this.#flush();
    });
  }

  /** Stops at once (no graceful leave): timers cleared, messages ignored. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    if (this.#joinTimer !== undefined) this.#clock.clearTimer(this.#joinTimer);
    for (const h of this.#health.values()) if (h.timer !== undefined) this.#clock.clearTimer(h.timer);
    const pending = this.#critical;
    this.#critical = [];
    for (const r of pending) r.reject(new LeftGroupError("the GCM was closed before the token came"));
    for (const w of this.#leaveWaiters.splice(0)) w();
    for (const w of this.#writableWaiters.splice(0)) {
      w.reject(new LeftGroupError("the GCM was closed while waiting for room to multicast"));
    }
    this.#emit("close", {});
  }

  /** Token bucket of `from`: `max911PerSecondPerSource` per second, bursts up to one second's worth. */
  #allow911(from: string): boolean {
    const now = this.#clock.now();
    const rate = this.#max911PerSecond;
    let b = this.#buckets911.get(from);
    if (b === undefined) {
      if (this.#buckets911.size >= 1024) this.#buckets911.delete(this.#buckets911.keys().next().value!);
      b = { tokens: rate, at: now };
      this.#buckets911.set(from, b);
    }
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) * rate) / 1000);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError("this GroupCommunicationManager is closed; create a new one");
  }

  #assertMember(): void {
    this.#assertOpen();
    if (this.core.left || this.core.leaving) throw new LeftGroupError();
    if (!this.#started()) throw new NotMemberError("call start() before multicast() or withToken()");
  }

  #started(): boolean {
    return this.core.lastGlobalView.index > 0 || this.core.token !== undefined ||
      this.core.lastToken !== undefined;
  }

  /**
   * Calls every listener of `event`. A listener that throws (or returns a promise that rejects) never
   * changes protocol state or skips a delivery: the others still run, and the failure is reported as
   * an `error` event — or, with no `error` listener, on the console.
   */
  #emit<K extends keyof GcmEvents>(event: K, value: GcmEvents[K]): void {
    for (const fn of this.#listeners[event] as Listener<GcmEvents[K]>[]) {
      try {
        const r = fn(value) as unknown;
        if (isThenable(r)) r.then(undefined, (error: unknown) => this.#listenerFailed(event, error));
      } catch (error) {
        this.#listenerFailed(event, error);
      }
    }
  }

  #listenerFailed(event: string, error: unknown): void {
    if (event !== "error" && this.#listeners.error.length > 0) {
      this.#emit("error", { event, error });
      return;
    }
    reportListenerError(event, error);
  }

  #onMessage(from: string, raw: Uint8Array): void {
    if (this.#closed) return;
    // No copy: the buffer is ours (see MessageLayer.onMessage); a token is up to megabytes.
    let msg;
    try {
      msg = decode(raw);
    } catch (err) {
      if (err instanceof DecodeError) {
        this.decodeErrors++;
        return;
      }
      throw err;
    }
    if (msg.kind === KIND_TOKEN) this.core.receiveToken(from, msg.token);
    else if (msg.kind === KIND_911) {
      if (!this.#allow911(from)) {
        this.rateLimited911++;
        return;
      }
      this.core.receive911(from, msg.msg);
    } else if (msg.kind === KIND_FORWARD) {
      if (
        this.core.left || this.core.leaving ||
        msg.fwd.data.length > this.#maxMessageBytes + 1 /* stream byte */
      ) return;
      // The claimed sender must be the node the message came from (with secureTransport, an
      // authenticated ID): otherwise any node could make members multicast in another's name.
      if (msg.fwd.from !== from) return;
      this.core.send(msg.fwd.data, msg.fwd.safe, msg.fwd.from);
    }
    this.#flush();
  }

  /** Executes the core's actions until there are none (actions may cause more core events). */
  #flush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      for (;;) {
        const actions = this.core.ready();
        if (actions.length === 0) break;
        // The token goes out first: this node's deliveries (application callbacks, much of the
        // work of a visit) then run while the next member already processes the token. The
        // other actions keep their order, deliveries among them.
        for (const a of actions) if (a.type === "sendToken") this.#do(a);
        for (const a of actions) if (a.type !== "sendToken") this.#do(a);
      }
    } finally {
      this.#flushing = false;
    }
    if (this.#writableWaiters.length > 0) {
      const pending = this.core.multicast.pendingBytes;
      this.#writableWaiters = this.#writableWaiters.filter((w) => {
        if (pending !== 0 && pending + w.bytes > this.#maxPendingBytes) return true;
        w.resolve();
        return false;
      });
    }
  }

  #do(a: ReturnType<RingCore["ready"]>[number]): void {
    if (this.#closed) return;
    switch (a.type) {
      case "sendToken": {
        const seq = a.token.seq;
        const to = a.to;
        this.#layer.post(to, this.#channel, encodeToken(a.token), (error) => {
          if (error === undefined) this.#later(() => this.core.tokenDelivered(to, seq));
          else this.#later(() => this.core.tokenFailed(to, seq));
        });
        break;
      }
      case "send911": {
        const to = a.to;
        const m: Message911 = a.msg;
        // A 911 equal to one still in the Transport Manager's hands for that node is not queued
        // again: a Starving node resends every starvingMs, and towards a dead node the copies piled
        // up until its failure was detected, then all failed at once and went round the ring as a
        // burst (fail-over benchmark: the bursts delayed acks and inflated the next timeouts).
        const orig = m.nodelist[m.orig];
        const key = `${to}|${m.ringId}|${m.seq}|${m.status}|${m.flags}|${orig?.id}#${orig?.inc}|${m.dest}`;
        if (this.#pending911.has(key)) break;
        this.#pending911.add(key);
        const bytes = encode911(m);
        const snapshot = { ...m, nodelist: m.nodelist.slice() };
        this.#layer.post(to, this.#channel, bytes, (error) => {
          this.#pending911.delete(key);
          if (error !== undefined) this.#later(() => this.core.failed911(to, snapshot));
        });
        break;
      }
      case "timer":
        if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
        this.#timer = undefined;
        if (a.delayMs >= 0) {
          const gen = a.gen;
          this.#timer = this.#clock.setTimer(a.delayMs, () => {
            this.#timer = undefined;
            this.#later(() => this.core.timer(gen));
          });
        }
        break;
      case "joinTimer":
        if (this.#joinTimer !== undefined) this.#clock.clearTimer(this.#joinTimer);
        this.#joinTimer = undefined;
        if (a.delayMs >= 0) {
          const gen = a.gen;
          this.#joinTimer = this.#clock.setTimer(a.delayMs, () => {
            this.#joinTimer = undefined;
            this.#later(() => this.core.joinTimer(gen));
          });
        }
        break;
      case "deliver": {
        // The core's Delivery has exactly the shape of DeliverEvent: hand it over as is (hot path),
        // without the stream byte.
        const d = a.delivery;
        if (this.#quorum && !this.inQuorum) break; // quorum policy: no delivery out of quorum
        const stream = d.data[0];
        d.data = d.data.subarray(1);
        if (stream === APP_STREAM) this.#emit("deliver", d);
        else {
          const handler = this.#streams.get(stream);
          try {
            handler?.(d);
          } catch (error) {
            this.#listenerFailed(`stream ${stream}`, error);
          }
        }
        break;
      }
      case "transitional": {
        const t = a.transitional;
        this.#emit("transitional", {
          id: t.id,
          previous: t.previous,
          next: t.next,
          members: t.members.map((m) => m.id),
          detail: t.members.slice(),
        });
        break;
      }
      case "view": {
        const view: ViewEvent = {
          id: a.view.id,
          index: a.view.index,
          previous: a.previous,
          members: a.view.members.map((m) => m.id),
          detail: a.view.members.slice(),
          mode: a.mode,
          inQuorum: this.#inQuorum(a.view.members.length),
        };
        const previous = this.#lastView;
        this.#lastView = view;
        this.#emit("view", view);
        if (previous !== undefined) {
          const had = new Set(previous.detail.map((m) => `${m.id}#${m.inc}`));
          const added = view.detail.filter((m) => !had.has(`${m.id}#${m.inc}`));
          if (added.length > 0) {
            this.#emit("merge", {
              previous,
              other: {
                id: "",
                index: 0,
                previous: "",
                members: added.map((m) => m.id),
                detail: added,
                mode: a.mode,
                inQuorum: this.#inQuorum(added.length),
              },
              view,
            });
          }
        }
        break;
      }
      case "token":
        this.#emit("token", { seq: a.seq });
        break;
      case "critical":
        this.#runCritical();
        break;
      case "left":
        this.#emit("leave", {
          graceful: true,
          reason: this.#leftForGood ? "requested" : "health",
          rejoins: this.#rejoinPending && !this.#leftForGood,
        });
        if (this.#rejoinPending) this.#maybeRejoin();
        for (const w of this.#leaveWaiters.splice(0)) w();
        for (const r of this.#critical.splice(0)) r.reject(new LeftGroupError());
        break;
    }
  }

  /** Runs a core event from a callback (timer, promise), then executes its actions. */
  #later(fn: () => void): void {
    if (this.#closed) return;
    fn();
    this.#flush();
  }

  /**
   * Runs the critical sections that were waiting when the token came, one after another, then
   * releases the token. Synchronous functions run without leaving the current event.
   */
  #runCritical(): void {
    const batch = this.#critical;
    this.#critical = [];
    let i = 0;
    const next = (): void => {
      while (i < batch.length) {
        const r = batch[i++];
        let result: unknown;
        try {
          result = r.fn();
        } catch (err) {
          r.reject(err);
          continue;
        }
        if (isThenable(result)) {
          let done = false;
          const timer = this.#clock.setTimer(r.timeoutMs, () => {
            if (done) return;
            done = true;
            r.reject(new TimeoutError(r.timeoutMs, "withToken callback did not settle; the token moved on"));
            next();
          });
          result.then(
            (v) => {
              if (done) return;
              done = true;
              this.#clock.clearTimer(timer);
              r.resolve(v);
              next();
            },
            (err) => {
              if (done) return;
              done = true;
              this.#clock.clearTimer(timer);
              r.reject(err);
              next();
            },
          );
          return;
        }
        r.resolve(result);
      }
      this.core.releaseCritical();
      if (this.#critical.length > 0) this.core.requestCritical();
      this.#flush(); // no-op when called from inside #flush: the outer loop drains the actions
    };
    next();
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}

function randomIncarnation(): number {
  const a = new Uint32Array(1);
  globalThis.crypto.getRandomValues(a);
  return a[0];
}

/**
 * Reports a listener failure that no `error` listener takes. On the console, not through the
 * runtime's `reportError`: Deno ends the process on an unhandled one, and a member must go on.
 */
function reportListenerError(event: string, error: unknown): void {
  console.error(`raincore: a '${event}' listener threw (add an 'error' listener to handle these):`, error);
}
