/**
 * Drives the pure {@link GdmCore}: it feeds the core its events — the GCM's views, transitional
 * configurations and deliveries on the GDM stream, direct messages from the layer below, the outcomes
 * of sends and of storage writes, timers — and carries out the actions the core returns: multicasts
 * (in order; when the GCM pushes back, they wait for room), direct sends, Clock timers, notifications
 * for the application, settlements of requests, and group commits (one storage write at a time).
 * @module
 */
import type { Clock, TimerId } from "../base/clock.ts";
import { MulticastBackpressureError, MulticastTooLargeError } from "../gcm/errors.ts";
import type { MessageLayer } from "../gcm/layer.ts";
import type { GroupCommunicationManager } from "../gcm/manager.ts";
import type { DeliveryLevel } from "../gcm/types.ts";
import type { CoreAction, Notification, TimerName } from "./actions.ts";
import { GDM_STREAM } from "./codec.ts";
import type { GdmCore } from "./core.ts";
import type { StorageAdapter } from "./storage.ts";

/** What a {@link GdmDriver} acts on. */
export interface DriverParts {
  gcm: GroupCommunicationManager;
  layer: MessageLayer;
  clock: Clock;
  /** Transport Manager channel of direct messages. */
  channel: number;
  storage: StorageAdapter | undefined;
}

/** A multicast waiting for room in the GCM. */
interface Waiting {
  data: Uint8Array;
  level: DeliveryLevel;
  view?: string;
  tag: number;
}

/** Carries out one core's actions. */
export class GdmDriver {
  readonly core: GdmCore;
  readonly #p: DriverParts;
  readonly #notify: (n: Notification) => void;
  readonly #settle: (request: number, value: unknown, error: Error | undefined) => void;
  readonly #timers = new Map<TimerName, TimerId>();
  /** Multicasts refused for backpressure, and those behind them (order is kept), from `#head` on. */
  #backlog: Waiting[] = [];
  #head = 0;
  /** The backlog is being handed over, or waits for room: new multicasts queue behind. */
  #busy = false;
  #flushing = false;
  #closed = false;
  /** The storage write under way. */
  #storing: Promise<void> = Promise.resolve();

  /**
   * @param notify receives the notifications for the application, in order.
   * @param settle settles request promises.
   */
  constructor(
    parts: DriverParts,
    core: GdmCore,
    notify: (n: Notification) => void,
    settle: (request: number, value: unknown, error: Error | undefined) => void,
  ) {
    this.#p = parts;
    this.core = core;
    this.#notify = notify;
    this.#settle = settle;
    parts.layer.onMessage(parts.channel, (from, msg) => this.step((c) => c.direct(from, msg)));
  }

  /** Runs a core event, then carries out the actions it produced. */
  step<T>(event: (core: GdmCore) => T): T {
    const r = event(this.core);
    this.flush();
    return r;
  }

  /** Carries out the core's actions until there are none. */
  flush(): void {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      for (;;) {
        const actions = this.core.ready();
        if (actions.length === 0) break;
        for (const a of actions) this.#do(a);
      }
    } finally {
      this.#flushing = false;
    }
  }

  /** Stops the timers; the storage pipeline finishes what it has. Resolves when storage is idle. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const id of this.#timers.values()) this.#p.clock.clearTimer(id);
    this.#timers.clear();
    this.#backlog = [];
    this.#head = 0;
    // Commits the core still issues (its last changes) are written before the adapter closes.
    while (this.core.committing) await this.#storing;
  }

  #do(a: CoreAction): void {
    switch (a.type) {
      case "multicast":
        if (this.#closed) return;
        this.#backlog.push({ data: a.data, level: a.level, view: a.view, tag: a.tag });
        if (!this.#busy) this.#drain();
        return;
      case "send": {
        if (this.#closed) return;
        const tag = a.tag;
        this.#p.layer.post(a.to, this.#p.channel, a.data, (error) => {
          if (tag !== undefined && !this.#closed) this.step((c) => c.sent(tag, error === undefined));
        });
        return;
      }
      case "timer": {
        const clock = this.#p.clock;
        const old = this.#timers.get(a.name);
        if (old !== undefined) clock.clearTimer(old);
        this.#timers.delete(a.name);
        if (a.delayMs >= 0 && !this.#closed) {
          const name = a.name;
          this.#timers.set(
            name,
            clock.setTimer(a.delayMs, () => {
              this.#timers.delete(name);
              this.step((c) => c.timer(name));
            }),
          );
        }
        return;
      }
      case "notify":
        this.#notify(a.notification);
        return;
      case "settle":
        this.#settle(a.request, a.value, a.error);
        return;
      case "persist": {
        const storage = this.#p.storage!;
        const id = a.id;
        this.#storing = storage.write(a.batch).then(
          (r) => this.step((c) => c.stored(id, r)),
          (e) => this.step((c) => c.storeFailed(id, e)),
        );
        return;
      }
    }
  }

  /** Hands the backlog to the GCM in order; on backpressure, waits for room and goes on. */
  #drain(): void {
    const gcm = this.#p.gcm;
    this.#busy = true;
    while (this.#head < this.#backlog.length && !this.#closed) {
      const m = this.#backlog[this.#head];
      try {
        gcm.multicast(m.data, { level: m.level, stream: GDM_STREAM, view: m.view });
      } catch (err) {
        if (err instanceof MulticastBackpressureError) {
          gcm.whenWritable(m.data.length).then(() => this.#drain(), () => this.#failAll(err));
          return; // still busy: what comes meanwhile queues behind
        }
        this.#head++;
        this.step((c) => c.multicastFailed(m.tag, err as Error, err instanceof MulticastTooLargeError));
        continue;
      }
      this.#head++;
    }
    this.#backlog = [];
    this.#head = 0;
    this.#busy = false;
  }

  /** The GCM closed while multicasts waited for room: they are refused. */
  #failAll(err: unknown): void {
    const waiting = this.#backlog.slice(this.#head);
    this.#backlog = [];
    this.#head = 0;
    this.#busy = false;
    for (const m of waiting) this.step((c) => c.multicastFailed(m.tag, err as Error, false));
  }
}
