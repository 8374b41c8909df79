/**
 * The messages of one regular view that a member keeps until it knows every member holds them:
 * indexed by their number in the view's total order, with holes where a message has not (or never)
 * reached this member. During a membership change these are what the member retransmits to the
 * members moving on with it (extended virtual synchrony, `multicast.ts`).
 * @module
 */
import type { Entry } from "./token.ts";

/** Messages of one view by number; numbers up to `base` are gone (delivered and stable). */
export class RetainedLog {
  #slots: (Entry | undefined)[] = [];
  #head = 0;
  /** Every number up to `base` was dropped. */
  #base = 0;
  /** Highest number stored. */
  high = 0;

  /** The message with number `gseq`, if held. */
  get(gseq: number): Entry | undefined {
    if (gseq <= this.#base) return undefined;
    return this.#slots[this.#head + gseq - this.#base - 1];
  }

  /** Stores a message (a number already held or dropped is ignored). Returns whether it was new. */
  put(e: Entry): boolean {
    const g = e.gseq;
    if (g <= this.#base) return false;
    const i = this.#head + g - this.#base - 1;
    const slots = this.#slots;
    if (i < slots.length) {
      if (slots[i] !== undefined) return false;
      slots[i] = e;
    } else {
      while (slots.length < i) slots.push(undefined);
      slots.push(e);
    }
    if (g > this.high) this.high = g;
    return true;
  }

  /** Drops every number up to `gseq` (those messages are delivered here and held everywhere). */
  dropTo(gseq: number): void {
    if (gseq <= this.#base) return;
    const slots = this.#slots;
    const n = Math.min(gseq - this.#base, slots.length - this.#head);
    for (let k = 0; k < n; k++) slots[this.#head + k] = undefined;
    this.#head += n;
    this.#base = gseq;
    if (this.#head === slots.length) {
      this.#slots = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > slots.length) {
      this.#slots = slots.slice(this.#head);
      this.#head = 0;
    }
  }

  /** The held messages numbered above `gseq`, in order. */
  *above(gseq: number): Generator<Entry> {
    const from = Math.max(gseq, this.#base) + 1;
    for (let g = from; g <= this.high; g++) {
      const e = this.get(g);
      if (e !== undefined) yield e;
    }
  }

  /** Whether a message of this origin process and per-sender number is held (tests, diagnostics). */
  holds(originId: string, originInc: number, seq: number): boolean {
    for (let i = this.#head; i < this.#slots.length; i++) {
      const e = this.#slots[i];
      if (e !== undefined && e.originId === originId && e.originInc === originInc && e.seq === seq) {
        return true;
      }
    }
    return false;
  }
}
