/**
 * Reassembly of fragmented messages for one sender session: fragments are copied into a buffer of
 * the message's size and the message is handed up only when every byte has arrived — atomic
 * delivery. The number of messages under reassembly is bounded, and a buffer is never larger than
 * the decoder's `maxMessageBytes`, so a peer cannot make us allocate without limit.
 * @module
 */

import type { DataFrame } from "./codec.ts";

interface Partial {
  channel: number;
  buffer: Uint8Array;
  received: number;
}

/** Messages of one session under reassembly, keyed by message number. */
export class Reassembly {
  readonly #partials = new Map<number, Partial>();
  readonly #max: number;
  readonly #maxBytes: number;
  #bytes = 0;

  /**
   * @param maxPartials most messages under reassembly at once.
   * @param maxBytes most bytes of buffers for messages under reassembly (≥ the largest message).
   */
  constructor(maxPartials: number, maxBytes: number) {
    this.#max = maxPartials;
    this.#maxBytes = maxBytes;
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
   * (same channel and size) and, counting the messages the packet completes, do not exceed the
   * limits on open reassemblies and their bytes. Checked before any state changes so that a
   * refused packet leaves no trace and its retransmission can succeed later. Because completions
   * are counted, the oldest messages always make progress and the limits cannot deadlock a sender.
   */
  admits(frames: readonly DataFrame[]): boolean {
    let opened = 0;
    let bytes = 0;
    for (const f of frames) {
      if (f.whole) continue;
      const partial = this.#partials.get(f.msgId);
      if (partial === undefined) {
        if (f.bytes.length < f.total) {
          opened++;
          bytes += f.total;
        }
      } else if (partial.channel !== f.channel || partial.buffer.length !== f.total) {
        return false;
      } else if (partial.received + f.bytes.length >= f.total) {
        opened--;
        bytes -= f.total;
      }
    }
    if (opened <= 0 && bytes <= 0) return true;
    return this.#partials.size + opened <= this.#max && this.#bytes + bytes <= this.#maxBytes;
  }

  /** Adds one fragment frame; returns the whole message once its last byte arrived. */
  add(frame: DataFrame): Uint8Array | undefined {
    let partial = this.#partials.get(frame.msgId);
    if (partial === undefined) {
      if (frame.bytes.length === frame.total) return frame.bytes.slice();
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
    return partial.buffer;
  }

  /** Drops every partial message (the session ended). */
  clear(): void {
    this.#partials.clear();
    this.#bytes = 0;
  }
}
