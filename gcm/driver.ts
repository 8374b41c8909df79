/**
 * Drives the pure {@link RingCore} (raft's Ready/Advance shape): it feeds the core its events — messages
 * from the layer below (decoded, 911s rate-limited), delivery outcomes, timers — and carries out the
 * actions the core returns: tokens and 911s go to the layer, timer actions become Clock timers, and the
 * actions meant for the application (deliveries, views, critical sections, …) go to the manager.
 * Outcomes come back as callbacks of the layer's own events, never as promise continuations, so a
 * simulated run does not depend on how many `await`s a chain has.
 * @module
 */
import type { Clock, TimerId } from "../base/clock.ts";
import { DecodeError } from "../base/errors.ts";
import type { Logger } from "../base/log.ts";
import {
  decode,
  encode911,
  encodeToken,
  encodeWake,
  KIND_911,
  KIND_FORWARD,
  KIND_TOKEN,
  KIND_WAKE,
} from "./codec.ts";
import type { MessageLayer } from "./layer.ts";
import type { Message911 } from "./message911.ts";
import { TokenTiming } from "./metrics.ts";
import { PerSourceRateLimit } from "./rate_limit.ts";
import type { RingAction, RingCore } from "./ring.ts";

/** The core's actions that concern the application, in stream order. */
export type ApplicationAction = Exclude<
  RingAction,
  { type: "sendToken" | "send911" | "sendWake" | "timer" | "joinTimer" | "addresses" }
>;

/** Settings of a {@link RingDriver}. */
export interface DriverSettings {
  /** The layer below. */
  layer: MessageLayer;
  /** Time source. */
  clock: Clock;
  /** Channel of this GCM on the layer. */
  channel: number;
  /** 911 messages accepted per second from one sender. */
  max911PerSecond: number;
  /** Largest multicast payload (open-group messages above it are dropped). */
  maxMessageBytes: number;
  /** Where failures of the layer below are reported (debug). */
  log: Logger;
  /** A timer fired so late that this node must start over (see `#stalled`). @default {none} */
  stalled?: (lateMs: number) => void;
}

/** What a driver has sent (diagnostics; the scaling benchmark counts messages per event with it). */
export interface RingStats {
  /** Tokens handed to the layer. */
  tokensSent: number;
  /** Bytes of those tokens. */
  tokenBytes: number;
  /** 911 messages (regeneration requests, hand-shakes, refusals) handed to the layer. */
  messages911Sent: number;
  /** Bytes of those 911 messages. */
  bytes911: number;
  /** Wake-ups handed to the layer, sent or carried on (see RingCore.wake). */
  wakesSent: number;
}

/** Carries out one core's actions on a layer and a clock. */
export class RingDriver {
  /** The core being driven (replaced when the node rejoins after a health-check leave). */
  core: RingCore;
  readonly #s: DriverSettings;
  readonly #toApplication: (a: ApplicationAction) => void;
  readonly #afterFlush: () => void;
  readonly #limit: PerSourceRateLimit;
  /** Wake-ups get their own budget: a member's wake-ups must not use up its 911s' (or the reverse). */
  readonly #wakeLimit: PerSourceRateLimit;
  /** 911s handed to the layer and not yet acknowledged or failed (see "send911"). */
  readonly #pending911 = new Set<string>();
  #timer: TimerId | undefined;
  #joinTimer: TimerId | undefined;
  #flushing = false;
  #closed = false;
  /** Messages that failed to decode (diagnostics). */
  decodeErrors = 0;
  /** What this driver has sent. */
  readonly stats: RingStats = { tokensSent: 0, tokenBytes: 0, messages911Sent: 0, bytes911: 0, wakesSent: 0 };
  /** When the token came and went (metrics). */
  readonly timing: TokenTiming = new TokenTiming();

  /**
   * @param toApplication receives the application's actions, in order.
   * @param afterFlush runs after each batch of actions (the manager settles backpressure waiters).
   */
  constructor(
    settings: DriverSettings,
    core: RingCore,
    toApplication: (a: ApplicationAction) => void,
    afterFlush: () => void,
  ) {
    this.#s = settings;
    this.core = core;
    this.#toApplication = toApplication;
    this.#afterFlush = afterFlush;
    this.#limit = new PerSourceRateLimit(settings.max911PerSecond);
    this.#wakeLimit = new PerSourceRateLimit(settings.max911PerSecond);
    const layer = settings.layer;
    layer.onMessage(settings.channel, (from, msg) => this.#onMessage(from, msg));
    layer.onAddressesChanged?.(() => this.step((c) => c.setOwnAddresses(layer.addresses ?? [])));
  }

  /** 911 messages dropped by the per-sender rate limit. */
  get rateLimited911(): number {
    return this.#limit.refused;
  }

  /** Runs a core event, then carries out the actions it produced (nothing after {@link close}). */
  step(event: (core: RingCore) => void): void {
    if (this.#closed) return;
    event(this.core);
    this.flush();
  }

  /** Carries out the core's actions until there are none (an action may cause more core events). */
  flush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      for (;;) {
        const actions = this.core.ready();
        if (actions.length === 0) break;
        // The token goes out first (after the addresses it taught us: it may go to a member we just
        // learned of): this node's deliveries (application callbacks, much of the work of a visit)
        // then run while the next member already processes the token. The other actions keep their
        // order, deliveries among them.
        for (const a of actions) if (a.type === "token") this.timing.receipt(this.#s.clock.now());
        for (const a of actions) if (a.type === "addresses") this.#do(a);
        for (const a of actions) if (a.type === "sendToken") this.#do(a);
        for (const a of actions) if (a.type !== "sendToken" && a.type !== "addresses") this.#do(a);
      }
    } finally {
      this.#flushing = false;
    }
    this.#afterFlush();
  }

  /** Drives `core` from now on (a rejoin after a health-check leave); the old core's timers stop. */
  replace(core: RingCore): void {
    if (this.#timer !== undefined) this.#s.clock.clearTimer(this.#timer);
    if (this.#joinTimer !== undefined) this.#s.clock.clearTimer(this.#joinTimer);
    this.#timer = this.#joinTimer = undefined;
    this.core = core;
  }

  /** Stops for good: timers cleared, messages and outcomes ignored. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#s.clock.clearTimer(this.#timer);
    if (this.#joinTimer !== undefined) this.#s.clock.clearTimer(this.#joinTimer);
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
    const core = this.core;
    if (msg.kind === KIND_TOKEN) core.receiveToken(from, msg.token);
    else if (msg.kind === KIND_911) {
      if (!this.#limit.allow(from, this.#s.clock.now())) return;
      core.receive911(from, msg.msg);
    } else if (msg.kind === KIND_WAKE) {
      if (!this.#wakeLimit.allow(from, this.#s.clock.now())) return;
      core.wake(from, msg.ringId);
    } else if (msg.kind === KIND_FORWARD) {
      if (core.left || core.leaving || msg.fwd.data.length > this.#s.maxMessageBytes + 1 /* stream byte */) {
        return;
      }
      // The claimed sender must be the node the message came from (with secureTransport, an
      // authenticated ID): otherwise any node could make members multicast in another's name.
      if (msg.fwd.from !== from) return;
      const framed = msg.fwd.data;
      if (framed.length === 0) return;
      core.send(framed.subarray(1), msg.fwd.safe, msg.fwd.from, undefined, framed[0]);
    }
    this.flush();
  }

  /**
   * A timer fired `lateMs` late: twice the core's stall bound (its Hungry timeout), and at least 5 s,
   * means this process was paused (a frozen or debugged tab, a stopped process) for so long that the
   * others have removed it. Reported (the manager starts over as a new incarnation) instead of run on
   * the stale core. A loaded machine's event-loop lag stays far below that.
   */
  #stalled(lateMs: number): boolean {
    const stall = this.core.stallMs;
    if (this.#s.stalled === undefined || stall === undefined || !(lateMs > Math.max(2 * stall, 5000))) {
      return false;
    }
    this.#s.stalled(lateMs);
    return true;
  }

  #do(a: RingAction): void {
    if (this.#closed) return;
    const { layer, channel, clock } = this.#s;
    switch (a.type) {
      case "sendToken": {
        this.timing.sent(clock.now());
        const seq = a.token.seq;
        const to = a.to;
        const core = this.core;
        const bytes = encodeToken(a.token);
        this.stats.tokensSent++;
        this.stats.tokenBytes += bytes.length;
        layer.post(to, channel, bytes, (error) => {
          if (core !== this.core) return; // an outcome for the core a rejoin replaced
          if (error === undefined) this.step((c) => c.tokenDelivered(to, seq));
          else {
            this.#s.log({
              level: "debug",
              namespace: "gcm",
              message: `token ${seq} to ${to} failed: ${to} is suspected`,
              fields: { error: error.message },
            });
            this.step((c) => c.tokenFailed(to, seq));
          }
        });
        break;
      }
      case "send911": {
        const to = a.to;
        const m: Message911 = a.msg;
        // A 911 equal to one still in the layer's hands for that node is not queued again: a
        // Starving node resends every starvingMs, and towards a dead node the copies piled up until
        // its failure was detected, then all failed at once and went round the ring as a burst
        // (fail-over benchmark: the bursts delayed acks and inflated the next timeouts).
        const orig = m.nodelist[m.orig];
        const key = `${to}|${m.ringId}|${m.seq}|${m.status}|${m.flags}|${orig?.id}#${orig?.inc}|${m.dest}`;
        if (this.#pending911.has(key)) break;
        this.#pending911.add(key);
        const snapshot = { ...m, nodelist: m.nodelist.slice() };
        const core = this.core;
        const bytes = encode911(m);
        this.stats.messages911Sent++;
        this.stats.bytes911 += bytes.length;
        layer.post(to, channel, bytes, (error) => {
          this.#pending911.delete(key);
          if (error !== undefined && core === this.core) this.step((c) => c.failed911(to, snapshot));
        });
        break;
      }
      case "sendWake": {
        // Best effort: an unanswered wake-up only leaves the token to its idle hold, and a ring-mate
        // that cannot be reached is the token's business (its pass fails and the ring changes).
        const to = a.to;
        layer.post(to, channel, encodeWake(a.ringId), (error) => {
          if (error === undefined) return;
          this.#s.log({
            level: "debug",
            namespace: "gcm",
            message: `wake-up to ${to} failed`,
            fields: { error: error.message },
          });
        });
        this.stats.wakesSent++;
        break;
      }
      case "timer":
        if (this.#timer !== undefined) clock.clearTimer(this.#timer);
        this.#timer = undefined;
        if (a.delayMs >= 0) {
          const gen = a.gen;
          const due = clock.now() + a.delayMs;
          this.#timer = clock.setTimer(a.delayMs, () => {
            this.#timer = undefined;
            if (!this.#stalled(clock.now() - due)) this.step((c) => c.timer(gen));
          });
        }
        break;
      case "addresses":
        layer.declareAddresses?.(a.id, a.addresses);
        break;
      case "joinTimer":
        if (this.#joinTimer !== undefined) clock.clearTimer(this.#joinTimer);
        this.#joinTimer = undefined;
        if (a.delayMs >= 0) {
          const gen = a.gen;
          const due = clock.now() + a.delayMs;
          this.#joinTimer = clock.setTimer(a.delayMs, () => {
            this.#joinTimer = undefined;
            if (!this.#stalled(clock.now() - due)) this.step((c) => c.joinTimer(gen));
          });
        }
        break;
      default:
        this.#toApplication(a);
    }
  }
}
