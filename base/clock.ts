/**
 * Time for protocol cores. Cores never call `setTimeout` or `Date.now()`; they get a {@link Clock}.
 * {@link SystemClock} is the real one; {@link VirtualClock} runs a whole simulated cluster in one
 * process, deterministically, as fast as the CPU allows.
 * @module
 */

/** Opaque handle of a scheduled timer. */
export type TimerId = number;

/** The only source of time a protocol core may use. */
export interface Clock {
  /** Milliseconds on a monotonic scale (fractional allowed); only differences are meaningful. */
  now(): number;
  /** Calls `fn` once after `delayMs` milliseconds (0 = as soon as possible, after the current event). */
  setTimer(delayMs: number, fn: () => void): TimerId;
  /** Cancels a timer; unknown or already fired ids are ignored. */
  clearTimer(id: TimerId): void;
}

const hasImmediate = typeof (globalThis as { setImmediate?: unknown }).setImmediate === "function";

/**
 * Zero-delay tasks on a MessageChannel, where the runtime has no `setImmediate` (browsers): a
 * message task is neither clamped to 4 ms when nested nor throttled to one wake-up a second in a
 * hidden tab, as `setTimeout(fn, 0)` is — a hidden tab's ring member must pass the token on at once.
 */
class ChannelTasks {
  readonly #queue: Array<{ fn: () => void; cancelled: boolean }> = [];
  readonly #port: MessagePort;

  constructor() {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      const task = this.#queue.shift();
      if (task !== undefined && !task.cancelled) task.fn();
    };
    this.#port = channel.port2;
  }

  /** Runs `fn` as a task of its own, after the current one; returns what {@link cancel} takes. */
  schedule(fn: () => void): { fn: () => void; cancelled: boolean } {
    const task = { fn, cancelled: false };
    this.#queue.push(task);
    this.#port.postMessage(null);
    return task;
  }

  /** Cancels a task that has not run. */
  cancel(task: { cancelled: boolean }): void {
    task.cancelled = true;
  }
}

let channelTasks: ChannelTasks | undefined;
const hasChannel = !hasImmediate &&
  typeof (globalThis as { MessageChannel?: unknown }).MessageChannel === "function";

/**
 * Wall-clock time: `performance.now()` and `setTimeout`, available on Node, Deno and browsers.
 *
 * A zero-delay timer runs on `setImmediate` where the runtime has one (Node, Deno): right after
 * the I/O callbacks of the current event-loop turn, so everything that arrived in one turn is
 * batched and nothing waits longer. `setTimeout(fn, 0)` waits at least 1 ms on Node (4 ms in
 * nested browser timers), and the Transport Manager's send flush and ack and the GCM's pass-on are
 * zero-delay timers: each token hop paid that millisecond on the critical path. In browsers a
 * zero-delay timer is a MessageChannel task, which a hidden tab does not throttle ({@link ChannelTasks}).
 */
export class SystemClock implements Clock {
  readonly #timers = new Map<TimerId, { kind: "immediate" | "channel" | "timeout"; handle: unknown }>();
  #nextId = 1;

  now(): number {
    return performance.now();
  }

  setTimer(delayMs: number, fn: () => void): TimerId {
    const id = this.#nextId++;
    const run = (): void => {
      this.#timers.delete(id);
      fn();
    };
    if (delayMs <= 0 && hasImmediate) this.#timers.set(id, { kind: "immediate", handle: setImmediate(run) });
    else if (delayMs <= 0 && hasChannel) {
      this.#timers.set(id, { kind: "channel", handle: (channelTasks ??= new ChannelTasks()).schedule(run) });
    } else this.#timers.set(id, { kind: "timeout", handle: setTimeout(run, Math.max(0, delayMs)) });
    return id;
  }

  clearTimer(id: TimerId): void {
    const t = this.#timers.get(id);
    if (t === undefined) return;
    if (t.kind === "immediate") clearImmediate(t.handle as ReturnType<typeof setImmediate>);
    else if (t.kind === "channel") channelTasks!.cancel(t.handle as { cancelled: boolean });
    else clearTimeout(t.handle as ReturnType<typeof setTimeout>);
    this.#timers.delete(id);
  }

  /** Number of timers still pending (for leak checks in tests). */
  get pendingTimers(): number {
    return this.#timers.size;
  }
}

interface VirtualTimer {
  at: number;
  seq: number;
  id: TimerId;
  fn: () => void;
}

/**
 * Simulated time. Nothing happens until the simulation calls {@link VirtualClock.step},
 * {@link VirtualClock.advance} or {@link VirtualClock.runUntil}; timers due at the same instant fire
 * in the order they were set, so a run is a pure function of its inputs.
 */
export class VirtualClock implements Clock {
  #now = 0;
  #seq = 0;
  #nextId = 1;
  readonly #heap: VirtualTimer[] = [];
  readonly #live = new Set<TimerId>();

  now(): number {
    return this.#now;
  }

  setTimer(delayMs: number, fn: () => void): TimerId {
    const id = this.#nextId++;
    this.#push({ at: this.#now + Math.max(0, delayMs), seq: this.#seq++, id, fn });
    this.#live.add(id);
    return id;
  }

  clearTimer(id: TimerId): void {
    this.#live.delete(id);
  }

  /** Number of timers still pending. */
  get pendingTimers(): number {
    return this.#live.size;
  }

  /** Time of the next pending timer, or `undefined` when none is pending. */
  nextTimerAt(): number | undefined {
    this.#dropCancelled();
    return this.#heap[0]?.at;
  }

  /** Fires the earliest pending timer, moving time to it. Returns false when none is pending. */
  step(): boolean {
    this.#dropCancelled();
    const timer = this.#pop();
    if (timer === undefined) return false;
    this.#live.delete(timer.id);
    this.#now = timer.at;
    timer.fn();
    return true;
  }

  /** Fires every timer due within the next `ms` milliseconds, then sets the time to now + ms. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (let at = this.nextTimerAt(); at !== undefined && at <= end; at = this.nextTimerAt()) this.step();
    this.#now = end;
  }

  /**
   * Steps until `done()` holds or `limitMs` of simulated time has passed.
   * Returns whether `done()` held.
   */
  runUntil(done: () => boolean, limitMs: number): boolean {
    const end = this.#now + limitMs;
    while (!done()) {
      const at = this.nextTimerAt();
      if (at === undefined || at > end) {
        this.#now = Math.max(this.#now, end);
        return done();
      }
      this.step();
    }
    return true;
  }

  #dropCancelled(): void {
    while (this.#heap.length > 0 && !this.#live.has(this.#heap[0].id)) this.#pop();
  }

  #before(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(timer: VirtualTimer): void {
    const heap = this.#heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  #pop(): VirtualTimer | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.#before(heap[l], heap[m])) m = l;
        if (r < heap.length && this.#before(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }
}
