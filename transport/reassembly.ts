/**
 * Reassembly of fragmented messages for one sender session: fragments are copied into a buffer of
 * the message's size and the message is handed up only when every byte has arrived — atomic
 * delivery. Memory is bounded: a buffer is never larger than the decoder's `maxMessageBytes`, and
 * only the `maxPartials` oldest unfinished messages of the session may be under reassembly.
 *
 * Why "oldest": the sender numbers fragmented messages in the order it starts packing them, so a
 * window over message numbers always admits the oldest unfinished message and reassembly cannot
 * deadlock. (A plain cap on the number of partial messages can: newer messages whose fragments
 * overtook the others fill the cap, and the packet that would complete an older one — which also
 * opens the next — is refused forever.)
 * @module
 */

import type { DataFrame } from "./codec.ts";
import { ReceiveWindow } from "./window.ts";

interface Partial {
  channel: number;
  buffer: Uint8Array;
  received: number;
}

/** Messages of one session under reassembly, keyed by message number (≥ 1). */
export class Reassembly {
  readonly #partials = new Map<number, Partial>();
  /** Completed message numbers: the oldest unfinished one is `cum + 1`. */
  readonly #done: ReceiveWindow;
  readonly #max: number;
  readonly #maxBytes: number;
  #bytes = 0;

  /**
   * @param maxPartials how many of the oldest unfinished messages may be under reassembly.
   * @param maxBytes most bytes of buffers for messages under reassembly; the oldest unfinished
   * message is admitted even beyond it, so the bound is `maxBytes + maxMessageBytes`.
   */
  constructor(maxPartials: number, maxBytes: number) {
    this.#max = maxPartials;
    this.#maxBytes = maxBytes;
    this.#done = new ReceiveWindow(maxPartials);
  }

  /** Bytes allocated for messages under reassembly. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Messages under reassembly. */
  get size(): number {
    return this.#partials.size;
  }

  /**
   * Whether all fragment frames of one packet can be taken: they agree with what arrived before
   * (same channel and size), belong to unfinished messages, and every message they open lies in
   * the window of the oldest unfinished ones (and in the byte budget unless it is the oldest).
   * Completions earlier in the same packet count, since a packet may finish one message and start
   * the next. Checked before any state changes, so a refused packet leaves no trace and its
   * retransmission can succeed later.
   */
  admits(frames: readonly DataFrame[]): boolean {
    const done = this.#done;
    let cum = done.cum;
    let bytes = this.#bytes;
    for (const f of frames) {
      if (f.whole) continue;
      const id = f.msgId;
      if (done.check(id) === "duplicate") return false; // finished already: not from an honest sender
      const partial = this.#partials.get(id);
      let completes: boolean;
      if (partial === undefined) {
        if (id - cum > this.#max) return false;
        completes = f.bytes.length === f.total;
        if (!completes) {
          if (id !== cum + 1 && bytes + f.total > this.#maxBytes) return false;
          bytes += f.total;
        }
      } else {
        if (partial.channel !== f.channel || partial.buffer.length !== f.total) return false;
        completes = partial.received + f.bytes.length >= f.total;
        if (completes) bytes -= f.total;
      }
      if (completes && id === cum + 1) {
        cum = id;
        while (done.check(cum + 1) === "duplicate") cum++;
      }
    }
    return true;
  }

  /** Adds one fragment frame of a packet that {@link Reassembly.admits} accepted; returns the message once whole. */
  add(frame: DataFrame): Uint8Array | undefined {
    let partial = this.#partials.get(frame.msgId);
    if (partial === undefined) {
      if (frame.bytes.length === frame.total) {
        this.#done.record(frame.msgId);
        return frame.bytes.slice();
      }
      partial = { channel: frame.channel, buffer: new Uint8Array(frame.total), received: 0 };
      this.#partials.set(frame.msgId, partial);
      this.#bytes += frame.total;
    }
    partial.buffer.set(frame.bytes, frame.offset);
    // Fragments never overlap: each travels in exactly one packet and packets are deduplicated.
    partial.received += frame.bytes.length;
    if (partial.received < partial.buffer.length) return undefined;
    this.#partials.delete(frame.msgId);
    this.#bytes -= partial.buffer.length;
    this.#done.record(frame.msgId);
    return partial.buffer;
  }
}
