/**
 * Reassembly of fragmented messages for one sender session: each fragment is kept as it arrives
 * (copied, unless its packet is ours to keep) and the message is put together and handed up only
 * when every byte has arrived — atomic delivery.
 *
 * Memory follows what arrived, not what a fragment claims: a first fragment of a "64 MiB message"
 * costs its own bytes, not 64 MiB (the whole buffer is allocated once, when the last fragment
 * lands). The bytes held are bounded per sender (`maxBytes`) and across every sender of a manager
 * (a shared {@link ReassemblyBudget}), and only the `maxPartials` oldest unfinished messages of the
 * session may be under reassembly.
 *
 * Why "oldest": the sender numbers fragmented messages in the order it starts packing them, so a
 * window over message numbers always admits the oldest unfinished message and reassembly cannot
 * deadlock. (A plain cap on the number of partial messages can: newer messages whose fragments
 * overtook the others fill the cap, and the packet that would complete an older one — which also
 * opens the next — is refused forever.) The per-sender byte bound therefore spares the oldest
 * unfinished message; the overall bound spares nothing, so a full budget stalls senders until
 * their messages complete or their sessions end (which releases what they held).
 * @module
 */

import type { DataFrame } from "./codec.ts";
import { ReceiveWindow } from "./window.ts";

/** Bytes under reassembly across all senders of one manager, and their bound. */
export class ReassemblyBudget {
  /** Bytes held now. */
  bytes = 0;
  /** Most bytes held at once. */
  readonly max: number;
  /** @param max most bytes held at once. */
  constructor(max: number) {
    this.max = max;
  }
}

interface Piece {
  offset: number;
  bytes: Uint8Array;
}

interface Partial {
  channel: number;
  total: number;
  received: number;
  pieces: Piece[];
}

/** Messages of one session under reassembly, keyed by message number (≥ 1). */
export class Reassembly {
  readonly #partials = new Map<number, Partial>();
  /** Completed message numbers: the oldest unfinished one is `cum + 1`. */
  readonly #done: ReceiveWindow;
  readonly #max: number;
  readonly #maxBytes: number;
  readonly #budget: ReassemblyBudget;
  #bytes = 0;

  /**
   * @param maxPartials how many of the oldest unfinished messages may be under reassembly.
   * @param maxBytes most bytes held for this sender's unfinished messages; the oldest unfinished
   * message is admitted even beyond it, so the bound is `maxBytes + maxMessageBytes`.
   * @param budget the manager's overall bound, shared by every sender. @default {unbounded}
   */
  constructor(maxPartials: number, maxBytes: number, budget = new ReassemblyBudget(Infinity)) {
    this.#max = maxPartials;
    this.#maxBytes = maxBytes;
    this.#budget = budget;
    this.#done = new ReceiveWindow(maxPartials);
  }

  /** Bytes held for messages under reassembly. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Messages under reassembly. */
  get size(): number {
    return this.#partials.size;
  }

  /**
   * Whether all fragment frames of one packet can be taken: they agree with what arrived before
   * (same channel and size), belong to unfinished messages, every message they open lies in the
   * window of the oldest unfinished ones, and their bytes fit the budgets (the per-sender one is
   * waived for the oldest unfinished message). Completions earlier in the same packet count, since
   * a packet may finish one message and start the next. Checked before any state changes, so a
   * refused packet leaves no trace and its retransmission can succeed later.
   */
  admits(frames: readonly DataFrame[]): boolean {
    const done = this.#done;
    let cum = done.cum;
    let bytes = this.#bytes;
    let added = 0;
    for (const f of frames) {
      if (f.whole) continue;
      const id = f.msgId;
      if (done.check(id) === "duplicate") return false; // finished already: not from an honest sender
      const partial = this.#partials.get(id);
      let completes: boolean;
      if (partial === undefined) {
        if (id - cum > this.#max) return false;
        completes = f.bytes.length === f.total;
      } else {
        if (partial.channel !== f.channel || partial.total !== f.total) return false;
        completes = partial.received + f.bytes.length >= f.total;
      }
      if (completes) {
        bytes -= partial?.received ?? 0;
        added -= partial?.received ?? 0;
      } else {
        if (id !== cum + 1 && bytes + f.bytes.length > this.#maxBytes) return false;
        bytes += f.bytes.length;
        added += f.bytes.length;
      }
      if (completes && id === cum + 1) {
        cum = id;
        while (done.check(cum + 1) === "duplicate") cum++;
      }
    }
    return added <= 0 || this.#budget.bytes + added <= this.#budget.max;
  }

  /**
   * Adds one fragment frame of a packet that {@link Reassembly.admits} accepted; returns the message
   * once whole. With `keep` the frame's bytes are held as a view (its packet is ours to keep), else
   * copied.
   */
  add(frame: DataFrame, keep = false): Uint8Array | undefined {
    let partial = this.#partials.get(frame.msgId);
    if (partial === undefined) {
      if (frame.bytes.length === frame.total) {
        this.#done.record(frame.msgId);
        return keep ? frame.bytes : frame.bytes.slice();
      }
      partial = { channel: frame.channel, total: frame.total, received: 0, pieces: [] };
      this.#partials.set(frame.msgId, partial);
    }
    // Fragments never overlap: each travels in exactly one packet and packets are deduplicated.
    if (partial.received + frame.bytes.length < partial.total) {
      partial.pieces.push({ offset: frame.offset, bytes: keep ? frame.bytes : frame.bytes.slice() });
      partial.received += frame.bytes.length;
      this.#hold(frame.bytes.length);
      return undefined;
    }
    const message = new Uint8Array(partial.total);
    for (const piece of partial.pieces) message.set(piece.bytes, piece.offset);
    message.set(frame.bytes, frame.offset);
    this.#partials.delete(frame.msgId);
    this.#hold(-partial.received);
    this.#done.record(frame.msgId);
    return message;
  }

  /** Gives every held byte back to the shared budget (the session ended); the object is then empty. */
  release(): void {
    this.#hold(-this.#bytes);
    this.#partials.clear();
  }

  #hold(delta: number): void {
    this.#bytes += delta;
    this.#budget.bytes += delta;
  }
}
