/**
 * Backpressure on multicast: callers that wait for room among this node's pending messages (bounded
 * by `maxPendingBytes`).
 * @module
 */

interface Waiter {
  bytes: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Callers waiting until a multicast of their size fits below the bound. */
export class WritableWaiters {
  #waiters: Waiter[] = [];

  constructor(readonly maxPendingBytes: number) {}

  /** Whether `bytes` more fit with `pending` bytes already waiting. */
  fits(pending: number, bytes: number): boolean {
    return pending === 0 || pending + bytes <= this.maxPendingBytes;
  }

  /**
   * Resolves when `bytes` fit (checked by {@link settle} as the pending amount falls); `withdraw()`
   * stops waiting.
   */
  wait(pending: number, bytes: number): { done: Promise<void>; withdraw: () => void } {
    if (this.fits(pending, bytes)) return { done: Promise.resolve(), withdraw: () => {} };
    let waiter: Waiter | undefined;
    const done = new Promise<void>((resolve, reject) => {
      waiter = { bytes, resolve, reject };
      this.#waiters.push(waiter);
    });
    return { done, withdraw: () => (this.#waiters = this.#waiters.filter((w) => w !== waiter)) };
  }

  /** Resolves the waiters whose size fits now. */
  settle(pending: number): void {
    if (this.#waiters.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => {
      if (!this.fits(pending, w.bytes)) return true;
      w.resolve();
      return false;
    });
  }

  /** Rejects every waiter with `error`. */
  fail(error: unknown): void {
    for (const w of this.#waiters.splice(0)) w.reject(error);
  }
}
