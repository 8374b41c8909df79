/**
 * Mutual exclusion (3.9) on the application's side: the `withToken` requests waiting for the token,
 * and running them one after another while the node holds it, each bounded by its time-out.
 * @module
 */
import type { Clock } from "../base/clock.ts";
import { isThenable } from "../base/emitter.ts";
import { TimeoutError } from "./errors.ts";

interface CriticalRequest {
  fn: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timeoutMs: number;
}

/** The critical sections of one manager. */
export class CriticalSections {
  #queue: CriticalRequest[] = [];

  /** @param done called when a batch has run: release the token, and ask again if more wait. */
  constructor(readonly clock: Clock, readonly done: (moreWaiting: boolean) => void) {}

  /** Whether requests wait for the token. */
  get waiting(): boolean {
    return this.#queue.length > 0;
  }

  /**
   * Queues `fn`; the promise settles with its outcome (or a TimeoutError after `timeoutMs`).
   * `withdraw()` takes it back if it has not started (then `fn` never runs).
   */
  add<T>(fn: () => T | Promise<T>, timeoutMs: number): { done: Promise<T>; withdraw: () => void } {
    let request: CriticalRequest | undefined;
    const done = new Promise<T>((resolve, reject) => {
      request = { fn, resolve: resolve as (v: unknown) => void, reject, timeoutMs };
      this.#queue.push(request);
    });
    const withdraw = () => {
      const i = this.#queue.indexOf(request!);
      if (i >= 0) this.#queue.splice(i, 1);
    };
    return { done, withdraw };
  }

  /**
   * Runs the requests that were waiting when the token came, one after another, then calls `done`.
   * Synchronous functions run without leaving the current event.
   */
  run(): void {
    const batch = this.#queue;
    this.#queue = [];
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
          this.#await(r, result, next);
          return;
        }
        r.resolve(result);
      }
      this.done(this.#queue.length > 0);
    };
    next();
  }

  /** Rejects every waiting request with `error`. */
  fail(error: unknown): void {
    for (const r of this.#queue.splice(0)) r.reject(error);
  }

  #await(r: CriticalRequest, result: PromiseLike<unknown>, next: () => void): void {
    let settled = false;
    const finish = (ok: boolean, value: unknown): void => {
      if (settled) return;
      settled = true;
      this.clock.clearTimer(timer);
      if (ok) r.resolve(value);
      else r.reject(value);
      next();
    };
    const timer = this.clock.setTimer(r.timeoutMs, () => {
      finish(false, new TimeoutError(r.timeoutMs, "withToken callback did not settle; the token moved on"));
    });
    result.then((v) => finish(true, v), (err) => finish(false, err));
  }
}
