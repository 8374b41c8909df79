/**
 * `AbortSignal` support for operations that wait: reject at once when the signal is (or becomes)
 * aborted, with the signal's reason (an `AbortError` DOMException unless the caller gave another),
 * and let the operation withdraw what it queued.
 * @module
 */

/**
 * Waits for `promise`, or rejects with `signal.reason` when `signal` aborts first; `withdraw` then
 * runs once (to take a queued request back). Without a signal it returns `promise` itself.
 */
export function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  withdraw?: () => void,
): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    withdraw?.();
    promise.catch(() => {}); // its outcome no longer matters to anyone
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      withdraw?.();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
