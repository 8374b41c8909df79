/**
 * Streams share the group's one total order: the application's messages (stream 0, the `deliver`
 * events) and those of layers above the GCM (the GDM uses 1), each delivered to its own handler. A
 * message carries its stream number on the token (one byte, none for stream 0); an open-group message
 * carries it as the first byte of its payload.
 * @module
 */
import type { Emitter } from "../base/emitter.ts";
import type { DeliverEvent, GcmEvents } from "./events.ts";

/** The application's stream: its messages are the `deliver` events. */
export const APP_STREAM = 0;

/** Checks a stream number (0..255) and returns it. */
export function checkStream(stream: number): number {
  if (!Number.isInteger(stream) || stream < 0 || stream > 255) {
    throw new RangeError(`'stream' must be an integer in 0..255, got ${stream}`);
  }
  return stream;
}

/** Prefixes a payload with its stream byte (open-group messages). */
export function frame(stream: number, data: Uint8Array): Uint8Array {
  checkStream(stream);
  const out = new Uint8Array(data.length + 1);
  out[0] = stream;
  out.set(data, 1);
  return out;
}

/** The handlers of the streams above 0, and the delivery of a framed message to its stream. */
export class Streams {
  readonly #handlers = new Map<number, (message: DeliverEvent) => void>();

  /** Takes stream `stream` (1..255) for `fn`; returns a function that releases it. */
  take(stream: number, fn: (message: DeliverEvent) => void): () => void {
    if (!Number.isInteger(stream) || stream <= APP_STREAM || stream > 255) {
      throw new RangeError(`'stream' must be an integer in 1..255 (0 is the application's), got ${stream}`);
    }
    if (this.#handlers.has(stream)) throw new RangeError(`stream ${stream} is already taken`);
    this.#handlers.set(stream, fn);
    return () => {
      if (this.#handlers.get(stream) === fn) this.#handlers.delete(stream);
    };
  }

  /**
   * Hands a delivered message to its stream: stream 0 as a `deliver` event, others to their handler.
   * A handler that throws is reported like a listener; nothing else changes.
   */
  deliver(d: DeliverEvent, events: Emitter<GcmEvents>): void {
    const stream = d.stream;
    if (stream === APP_STREAM) {
      events.emit("deliver", d);
      return;
    }
    const handler = this.#handlers.get(stream);
    if (handler === undefined) return;
    try {
      handler(d);
    } catch (error) {
      events.failed(`stream ${stream}`, error);
    }
  }
}
