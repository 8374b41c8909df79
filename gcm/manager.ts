/**
 * The Group Communication Manager (3.3–3.9): the application's face of one node's token ring. It
 * owns the pure {@link RingCore} through a {@link RingDriver} (which talks to the layer below and the
 * Clock) and offers views, multicast in one total order with extended virtual synchrony, open-group
 * send, `withToken`, health checks, eligible membership and the quorum policy. Each job lives in a
 * file of its own; this class wires them together.
 * @module
 */
import { abortable } from "../base/abort.ts";
import { type Clock, SystemClock } from "../base/clock.ts";
import { Emitter, type Listener } from "../base/emitter.ts";
import { type Logger, resolveLogger } from "../base/log.ts";
import { ClosedError } from "../base/errors.ts";
import { WritableWaiters } from "./backpressure.ts";
import { encodeForward } from "./codec.ts";
import { CriticalSections } from "./critical.ts";
import { type ApplicationAction, RingDriver } from "./driver.ts";
import {
  LeftGroupError,
  MulticastBackpressureError,
  MulticastTooLargeError,
  NotMemberError,
} from "./errors.ts";
import {
  type DeliverEvent,
  type GcmEvents,
  type GcmState,
  mergeOf,
  transitionalEvent,
  type ViewEvent,
  viewEvent,
} from "./events.ts";
import { type HealthCheckOptions, HealthChecks } from "./health.ts";
import { sendVia } from "./layer.ts";
import type { GcmMetrics } from "./metrics.ts";
import {
  type GcmOptions,
  type GcmSettings,
  type MulticastOptions,
  resolveGcmOptions,
  type WaitOptions,
} from "./options.ts";
import { SlabCopier } from "../base/slab.ts";
import { RingCore, type RingOptions } from "./ring.ts";
import { APP_STREAM, checkStream, frame, Streams } from "./streams.ts";
import { TokenState, type ViewMode, ViewState } from "./types.ts";

const VIEW_STATES = ["agreement", "chaos", "reserve"] as const;
const TOKEN_STATES = ["eating", "hungry", "starving"] as const;

/** The Group Communication Manager of one node. Call {@link start} to join. */
export class GroupCommunicationManager {
  readonly #s: GcmSettings;
  readonly #layer: GcmOptions["layer"];
  readonly #driver: RingDriver;
  readonly #events = new Emitter<GcmEvents>();
  readonly #streams = new Streams();
  /** Where multicast payloads are copied to (small ones share slabs). */
  readonly #copies = new SlabCopier();
  readonly #critical: CriticalSections;
  readonly #health: HealthChecks;
  readonly #writable: WritableWaiters;
  #ringOptions: RingOptions;
  #lastView: ViewEvent | undefined;
  #rejoinPending = false;
  /** `suspend()` took the node out until `resume()`. */
  #suspended = false;
  /** The application called `leave()`: no health check brings this node back. */
  #leftForGood = false;
  #closed = false;
  #leaveWaiters: Array<() => void> = [];
  #readyWaiters: Array<{ resolve: (v: ViewEvent) => void; reject: (e: unknown) => void }> = [];
  readonly #log: Logger;
  #sent = 0;
  #delivered = 0;
  #installed = 0;
  #transitions = 0;

  /**
   * A manager on `opts.layer`; call {@link start} to join.
   * @throws {RangeError} naming the option, for a value outside its range.
   * @throws {TimingError} when `timing` breaks a rule against the layer's failure times.
   */
  constructor(opts: GcmOptions) {
    const clock = opts.clock ?? new SystemClock();
    this.clock = clock;
    this.#s = resolveGcmOptions(opts, () => clock.now());
    this.#layer = opts.layer;
    this.#ringOptions = this.#s.ring;
    this.#log = resolveLogger(opts.logger);
    this.#critical = new CriticalSections(clock, (more) => {
      this.core.releaseCritical();
      if (more) this.core.requestCritical();
      this.#driver.flush(); // a no-op inside the driver's flush: its loop takes the actions
    });
    this.#health = new HealthChecks(clock, (name, healthy) => this.#healthChanged(name, healthy));
    this.#writable = new WritableWaiters(this.#s.maxPendingBytes);
    this.#driver = new RingDriver(
      {
        layer: opts.layer,
        clock,
        channel: this.#s.channel,
        max911PerSecond: this.#s.max911PerSecond,
        maxMessageBytes: this.#s.maxMessageBytes,
        log: this.#log,
        stalled: (lateMs) => this.#stalled(lateMs),
      },
      new RingCore(this.#ringOptions),
      (a) => this.#toApplication(a),
      () => this.#afterFlush(),
    );
  }

  /** The pure core (exposed for tests and diagnostics; do not drive it directly). */
  get core(): RingCore {
    return this.#driver.core;
  }

  /** The time source this manager runs on (layers above it default to the same one). */
  readonly clock: Clock;

  /** This node's ID. */
  get id(): string {
    return this.core.me.id;
  }

  /** This process's incarnation. */
  get incarnation(): number {
    return this.core.me.inc;
  }

  /** The view mode. */
  get mode(): ViewMode {
    return this.#ringOptions.mode;
  }

  /** The last committed view (before {@link start}: an empty view with id "" and index 0). */
  get view(): ViewEvent {
    const v = this.core.lastGlobalView;
    return viewEvent(v, this.#lastView?.previous ?? "", this.mode, this.#inQuorum(v.members.length));
  }

  /**
   * Quorum policy: whether the last committed view has more than `expectedSize / 2` members.
   * Always true without `expectedSize`.
   */
  get inQuorum(): boolean {
    return this.#inQuorum(this.core.lastGlobalView.members.length);
  }

  /**
   * The quorum policy in force: `expectedSize` (undefined: none) and whether deliveries are dropped
   * while out of quorum (the `quorum` option). Layers above read it (the GDM refuses dropped deliveries).
   */
  get quorumPolicy(): { expectedSize: number | undefined; dropsOutOfQuorum: boolean } {
    return { expectedSize: this.#s.expectedSize, dropsOutOfQuorum: this.#s.quorum };
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

  /** Messages that failed to decode (diagnostics). */
  get decodeErrors(): number {
    return this.#driver.decodeErrors;
  }

  /** 911 messages dropped by `max911PerSecondPerSource`. */
  get rateLimited911(): number {
    return this.#driver.rateLimited911;
  }

  /** Whether every health check is healthy. */
  get healthy(): boolean {
    return this.#health.healthy;
  }

  /** The eligible node IDs (3.7.3), sorted; `undefined` = anyone may join. */
  get eligible(): string[] | undefined {
    return this.core.eligible;
  }

  /** Subscribes to an event; returns a function that unsubscribes. Listener exceptions become `error` events. */
  on<K extends keyof GcmEvents>(event: K, fn: Listener<GcmEvents[K]>): () => void {
    return this.#events.on(event, fn);
  }

  /**
   * Takes the messages of one stream (1..255) for a layer above the GCM; they are not `deliver`
   * events. One handler per stream; returns a function that releases the stream.
   */
  onStream(stream: number, fn: (message: DeliverEvent) => void): () => void {
    return this.#streams.take(stream, fn);
  }

  /** Starts the protocol: commits the view {self} and asks the peers to be added. */
  start(): void {
    this.#assertOpen();
    this.#driver.step((c) => c.start());
  }

  /**
   * Multicasts `data` to the group (3.8). Returns the per-sender sequence number. The message rides
   * on the token; it is delivered to every member, this node included, in one total order. `data` is
   * copied: the caller may change or reuse it at once.
   * @throws {LeftGroupError} after `leave()` or `close()`.
   * @throws {MulticastTooLargeError} above `maxMessageBytes`.
   * @throws {MulticastBackpressureError} when own messages waiting for the token would exceed
   *   `maxPendingBytes`; `await whenWritable(data.length)` and retry.
   */
  multicast(data: Uint8Array, options: MulticastOptions = {}): number {
    this.#assertMember();
    if (data.length > this.#s.maxMessageBytes) {
      throw new MulticastTooLargeError(data.length, this.#s.maxMessageBytes);
    }
    const pending = this.core.multicast.pendingBytes;
    if (!this.#writable.fits(pending, data.length)) {
      throw new MulticastBackpressureError(pending, data.length, this.#s.maxPendingBytes);
    }
    const stream = checkStream(options.stream ?? APP_STREAM);
    let seq = 0;
    this.#sent++;
    // One copy: the caller may reuse its buffer at once (the token keeps these bytes for a round).
    const own = this.#copies.copy(data);
    this.#driver.step((c) => seq = c.send(own, options.level === "safe", "", options.view, stream));
    return seq;
  }

  /**
   * Resolves when a multicast of `bytes` would not exceed `maxPendingBytes` (backpressure).
   * @throws {LeftGroupError} (rejects) when the manager is closed first.
   */
  whenWritable(bytes = 0, options: WaitOptions = {}): Promise<void> {
    const pending = this.core.multicast.pendingBytes;
    if (this.#writable.fits(pending, bytes)) return Promise.resolve();
    if (this.#closed) return Promise.reject(new LeftGroupError());
    const { done, withdraw } = this.#writable.wait(pending, bytes);
    return abortable(done, options.signal, withdraw);
  }

  /**
   * Resolves with the view once this node has joined: it is in a view with another member, or —
   * with `peers` that never answered — `timing.joinWaitMs` has passed and it goes on alone. Messages
   * multicast before that are kept back and go out in that view (see `joinWaitMs`), never lost.
   * @throws {LeftGroupError} (rejects) when the manager leaves or is closed first.
   */
  ready(options: WaitOptions = {}): Promise<ViewEvent> {
    if (this.#joined()) return Promise.resolve(this.view);
    if (this.#closed || this.core.left) return Promise.reject(new LeftGroupError());
    let waiter: { resolve: (v: ViewEvent) => void; reject: (e: unknown) => void } | undefined;
    const done = new Promise<ViewEvent>((resolve, reject) => {
      waiter = { resolve, reject };
      this.#readyWaiters.push(waiter);
    });
    return abortable(
      done,
      options.signal,
      () => (this.#readyWaiters = this.#readyWaiters.filter((w) => w !== waiter)),
    );
  }

  /** A snapshot of this node's counters (see {@link GcmMetrics}). */
  metrics(): GcmMetrics {
    const c = this.core;
    const timing = this.#driver.timing;
    return {
      view: { id: c.lastGlobalView.id, members: c.lastGlobalView.members.length, installed: this.#installed },
      token: {
        received: timing.received,
        roundMs: timing.roundMs,
        roundsPerSecond: timing.roundMs > 0 ? 1000 / timing.roundMs : 0,
        holdMsMean: timing.holdMsMean,
        regenerations: c.regenerations,
        duplicatesDropped: c.duplicateTokens,
        sent: this.#driver.stats.tokensSent,
        sentBytes: this.#driver.stats.tokenBytes,
        wakesSent: this.#driver.stats.wakesSent,
      },
      messages911: { sent: this.#driver.stats.messages911Sent, sentBytes: this.#driver.stats.bytes911 },
      multicast: {
        sent: this.#sent,
        delivered: this.#delivered,
        pendingMessages: c.multicast.pending,
        pendingBytes: c.multicast.pendingBytes,
        droppedBound: c.multicast.droppedBound,
      },
      transitions: this.#transitions,
    };
  }

  #joined(): boolean {
    return !this.#closed && !this.core.left && this.#lastView !== undefined && !this.core.holding;
  }

  #afterFlush(): void {
    this.#writable.settle(this.core.multicast.pendingBytes);
    if (this.#readyWaiters.length > 0 && this.#joined()) {
      const view = this.view;
      for (const w of this.#readyWaiters.splice(0)) w.resolve(view);
    }
  }

  /**
   * Open-group send (3.8): hands `data` to `member`, which multicasts it on our behalf (delivered
   * with `from = member`, `forwardedFor = this node`). Resolves when the member has it.
   * @throws {DeliveryFailedError} when the member cannot be reached; try another member.
   */
  async sendToGroup(
    member: string,
    data: Uint8Array,
    options: MulticastOptions & WaitOptions = {},
  ): Promise<void> {
    this.#assertOpen();
    if (data.length > this.#s.maxMessageBytes) {
      throw new MulticastTooLargeError(data.length, this.#s.maxMessageBytes);
    }
    const bytes = encodeForward({
      from: this.id,
      safe: options.level === "safe",
      data: frame(options.stream ?? APP_STREAM, data),
    });
    await abortable(sendVia(this.#layer, member, this.#s.channel, bytes), options.signal);
  }

  /**
   * Mutual exclusion (3.9): runs `fn` while this node holds the token; the token moves on only after
   * `fn` returns or its promise settles — or after `timeoutMs`, when the promise rejects with
   * `TimeoutError` (and exclusion is no longer guaranteed for the rest of `fn`).
   */
  withToken<T>(fn: () => T | Promise<T>, options: { timeoutMs?: number } & WaitOptions = {}): Promise<T> {
    try {
      this.#assertMember();
    } catch (err) {
      return Promise.reject(err);
    }
    const { done, withdraw } = this.#critical.add(fn, options.timeoutMs ?? this.#s.criticalTimeoutMs);
    this.#driver.step((c) => c.requestCritical());
    return abortable(done, options.signal, withdraw);
  }

  /**
   * Leaves the group gracefully: at the next token visit this node takes itself off the ring, so
   * the others change view within one round. Resolves once the token has been handed on.
   */
  leave(options: WaitOptions = {}): Promise<void> {
    this.#leftForGood = true; // also when a health check took the node out already: it stays out
    this.#rejoinPending = false;
    if (this.core.left || this.#closed || !this.#started()) return Promise.resolve();
    // An abort stops the waiting only: the node still leaves at its next token visit.
    return abortable(
      new Promise<void>((resolve) => {
        this.#leaveWaiters.push(resolve);
        this.#driver.step((c) => c.leave());
      }),
      options.signal,
    );
  }

  /**
   * Leaves the group for now — gracefully, like `leave()` — and rejoins as a new incarnation on
   * {@link resume}: for a member that is about to sleep, such as a browser tab being frozen or hidden
   * for long (`watchPageLifecycle` calls both). Resolves once the token has been handed on.
   */
  suspend(): Promise<void> {
    if (this.#leftForGood || this.#closed) return Promise.resolve();
    this.#suspended = true;
    this.#rejoinPending = true;
    if (this.core.left || !this.#started()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#leaveWaiters.push(resolve);
      this.#driver.step((c) => c.leave());
    });
  }

  /**
   * Ends a {@link suspend}: the node rejoins as a new incarnation (at once if the leave never
   * finished — the others have removed it by now or will).
   */
  resume(): void {
    if (!this.#suspended || this.#closed) return;
    this.#suspended = false;
    if (this.core.left) this.#maybeRejoin();
    else if (this.core.leaving) this.#startOver();
  }

  /**
   * Whether this node runs where timers are throttled (a hidden browser tab): while on, it passes the
   * token on at once instead of holding it idle, so that the ring never waits on its timers.
   */
  setBackground(on: boolean): void {
    this.#driver.step((c) => c.setBackground(on));
  }

  /** Stops at once (no graceful leave): timers cleared, messages ignored. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#driver.close();
    this.#health.stop();
    this.#critical.fail(new LeftGroupError("the GCM was closed before the token came"));
    for (const w of this.#leaveWaiters.splice(0)) w();
    this.#writable.fail(new LeftGroupError("the GCM was closed while waiting for room to multicast"));
    for (const w of this.#readyWaiters.splice(0)) {
      w.reject(new LeftGroupError("the GCM was closed before it joined"));
    }
    this.#log({ level: "info", namespace: "gcm", message: "closed", fields: { id: this.id } });
    this.#events.emit("close", {});
  }

  /**
   * Adds a member to ask for admission (a hand-shake target; the layer below must know its address):
   * what `peers` does at start, for a node learned later — `createNode({ join })` adds the node it
   * finds behind each address this way.
   */
  addPeer(id: string): void {
    this.#assertOpen();
    if (id !== this.id && !this.#ringOptions.peers.includes(id)) {
      this.#ringOptions = { ...this.#ringOptions, peers: [...this.#ringOptions.peers, id] };
    }
    this.#driver.step((c) => c.learnPeer(id));
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
    const remove = this.#health.add(name, fn, options);
    return () => {
      remove();
      this.#maybeRejoin();
    };
  }

  #setEligible(ids: string[] | undefined): void {
    this.#assertOpen();
    this.#ringOptions = { ...this.#ringOptions, eligible: ids };
    this.#driver.step((c) => c.setEligible(ids));
  }

  #healthChanged(name: string, healthy: boolean): void {
    if (this.#closed) return;
    this.#log({
      level: healthy ? "info" : "warn",
      namespace: "gcm",
      message: `health check '${name}' is ${healthy ? "healthy" : "unhealthy"}`,
    });
    this.#events.emit("health", { name, healthy });
    if (healthy) {
      this.#maybeRejoin();
      return;
    }
    if (this.#leftForGood) return;
    this.#rejoinPending = true;
    if (!this.core.left) this.#driver.step((c) => c.leave());
  }

  /** After a health-check leave or a suspend: rejoin once every check passes and nothing holds it out. */
  #maybeRejoin(): void {
    if (
      !this.#rejoinPending || this.#leftForGood || this.#closed || !this.healthy || this.#suspended ||
      !this.core.left
    ) {
      return;
    }
    this.#startOver();
  }

  /** A timer came far too late (this process was paused): the others removed us; start over. */
  #stalled(lateMs: number): void {
    if (this.#closed || this.#leftForGood) return;
    this.#log({
      level: "warn",
      namespace: "gcm",
      message: `a timer fired ${Math.round(lateMs)} ms late: starting over as a new incarnation`,
    });
    this.#events.emit("leave", { graceful: false, reason: "stalled", rejoins: true });
    this.#critical.fail(new LeftGroupError("this node was paused too long and started over"));
    this.#startOver();
  }

  /** Rejoins as a new incarnation whose views go on from ours (the old core's timers stop). */
  #startOver(): void {
    this.#rejoinPending = false;
    const old = this.core;
    this.#ringOptions = {
      ...this.#ringOptions,
      // Not truncated to 32 bits: createNode passes the Transport Manager's time-based incarnation
      // (above 2^32), and a rejoin must come out greater than the process it replaces.
      incarnation: old.me.inc + 1,
      addresses: this.#layer.addresses ?? [],
      baseViewNumber: old.globalViewNumber,
      peers: [...new Set([...this.#ringOptions.peers, ...old.lastGlobalView.members.map((m) => m.id)])]
        .filter((p) => p !== this.id),
    };
    this.#lastView = undefined; // the new incarnation is a new process: its first view has no previous
    this.#driver.replace(new RingCore(this.#ringOptions));
    this.#driver.step((c) => c.start());
  }

  #inQuorum(size: number): boolean {
    return this.#s.expectedSize === undefined || size > this.#s.expectedSize / 2;
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

  /** The core's actions for the application, in stream order. */
  #toApplication(a: ApplicationAction): void {
    switch (a.type) {
      case "deliver": {
        // The core's Delivery has exactly the shape of DeliverEvent: handed over as is (hot path).
        if (this.#s.quorum && !this.inQuorum) break; // quorum policy: no delivery out of quorum
        this.#delivered++;
        this.#streams.deliver(a.delivery, this.#events);
        break;
      }
      case "transitional":
        this.#transitions++;
        this.#events.emit("transitional", transitionalEvent(a.transitional));
        break;
      case "view": {
        const view = viewEvent(a.view, a.previous, a.mode, this.#inQuorum(a.view.members.length));
        const previous = this.#lastView;
        this.#lastView = view;
        this.#installed++;
        this.#log({
          level: "info",
          namespace: "gcm",
          message: `view ${view.id}: ${view.members.join(" ")}`,
          fields: { id: this.id, previous: view.previous },
        });
        this.#events.emit("view", view);
        const merge = previous === undefined ? undefined : mergeOf(previous, view, (n) => this.#inQuorum(n));
        if (merge !== undefined) this.#events.emit("merge", merge);
        break;
      }
      case "token":
        if (this.#events.has("token")) this.#events.emit("token", { seq: a.seq });
        break;
      case "critical":
        this.#critical.run();
        break;
      case "left":
        this.#log({ level: "info", namespace: "gcm", message: "left the group", fields: { id: this.id } });
        for (const w of this.#readyWaiters.splice(0)) w.reject(new LeftGroupError("left before joining"));
        this.#events.emit("leave", {
          graceful: true,
          reason: this.#leftForGood ? "requested" : this.#suspended ? "suspended" : "health",
          rejoins: this.#rejoinPending && !this.#leftForGood,
        });
        if (this.#rejoinPending) this.#maybeRejoin();
        for (const w of this.#leaveWaiters.splice(0)) w();
        this.#critical.fail(new LeftGroupError());
        break;
    }
  }
}
