/**
 * A diagnostic {@link Clock} for the transport benchmark: like SystemClock, but a zero-delay timer
 * runs on `setImmediate` instead of `setTimeout(fn, 0)`, which Node clamps to 1 ms. Comparing the
 * two shows what the 1 ms clamp on the Transport Manager's zero-delay flush and ack timers costs.
 * @module
 */
import type { Clock, TimerId } from "../transport/clock.ts";

/** SystemClock with `setImmediate` for zero delays (Node and Deno). */
export class ImmediateClock implements Clock {
  readonly #timers = new Map<TimerId, { immediate: boolean; handle: unknown }>();
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
    const immediate = delayMs <= 0;
    const handle = immediate ? setImmediate(run) : setTimeout(run, delayMs);
    this.#timers.set(id, { immediate, handle });
    return id;
  }

  clearTimer(id: TimerId): void {
    const t = this.#timers.get(id);
    if (t === undefined) return;
    if (t.immediate) clearImmediate(t.handle as ReturnType<typeof setImmediate>);
    else clearTimeout(t.handle as ReturnType<typeof setTimeout>);
    this.#timers.delete(id);
  }
}
