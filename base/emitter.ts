/**
 * Typed events with isolated listeners: an exception thrown by a listener (or a promise it returns
 * that rejects) never reaches the code that emitted the event — a protocol never skips a step or a
 * delivery because application code failed. The failure becomes an `error` event; with no `error`
 * listener it is printed on the console (not passed to the runtime's `reportError`, which ends a Deno
 * process when nobody handles it).
 * @module
 */

/** An exception (or rejected promise) of an application listener; the emitter went on unharmed. */
export interface ListenerErrorEvent {
  /** The event whose listener failed. */
  event: string;
  /** What it threw, or why its promise rejected. */
  error: unknown;
}

/** A listener of one event. It may return a promise; a rejection is reported like a throw. */
export type Listener<T> = (value: T) => unknown;

/** Event map of an {@link Emitter}: every emitter has an `error` event. */
export type EventMap = { error: ListenerErrorEvent };

/** Typed event emitter whose listeners cannot break the emitter (see the module comment). */
export class Emitter<E extends EventMap> {
  readonly #listeners = new Map<keyof E, Listener<never>[]>();

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    let list = this.#listeners.get(event);
    if (list === undefined) this.#listeners.set(event, list = []);
    list.push(fn as Listener<never>);
    return () => {
      const i = list.indexOf(fn as Listener<never>);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /** Whether `event` has listeners (to skip building an event nobody reads). */
  has(event: keyof E): boolean {
    return (this.#listeners.get(event)?.length ?? 0) > 0;
  }

  /** Calls every listener of `event`, each isolated from the others and from the caller. */
  emit<K extends keyof E>(event: K, value: E[K]): void {
    const list = this.#listeners.get(event);
    if (list === undefined) return;
    for (const fn of list.slice()) {
      try {
        const r = (fn as Listener<E[K]>)(value);
        if (isThenable(r)) r.then(undefined, (error: unknown) => this.failed(String(event), error));
      } catch (error) {
        this.failed(String(event), error);
      }
    }
  }

  /** Reports a failure of application code run on behalf of `event` (a listener, a stream handler). */
  failed(event: string, error: unknown): void {
    if (event !== "error" && this.has("error")) {
      this.emit("error", { event, error } as E["error"]);
      return;
    }
    console.error(`raincore: a '${event}' listener threw (add an 'error' listener to handle these):`, error);
  }
}

/** Whether `v` looks like a promise. */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";
}
