/**
 * State transfer (3.10): a snapshot of all items, taken at one point of the total order, streamed
 * to one joiner as Transport Manager direct messages in chunks of about `chunkBytes`. The sender
 * awaits each chunk's acknowledgement before sending the next (the TM's flow control paces it),
 * and yields between chunks, so a 100 MB state never blocks the token or the event loop.
 * @module
 */
import type { MessageLayer } from "../gcm/layer.ts";
import { type Chunk, encodeChunk } from "./ops.ts";
import type { DataState, Item } from "./state.ts";

/** Rough size of an item on the wire. */
function itemSize(key: string, it: Item): number {
  return key.length + (it.v?.length ?? 0) + 48;
}

/**
 * Streams `items` (a snapshot: an array taken at the snapshot point) to `to`. Resolves when the last
 * chunk is acknowledged; rejects with the layer's error (e.g. DeliveryFailedError) otherwise.
 */
export async function sendSnapshot(
  layer: MessageLayer,
  channel: number,
  to: string,
  rid: string,
  snapshot: { items: readonly (readonly [string, Item])[]; clock: number },
  chunkBytes: number,
  isCancelled: () => boolean = () => false,
): Promise<void> {
  const { items, clock } = snapshot;
  let n = 0;
  let i = 0;
  do {
    const batch: (readonly [string, Item])[] = [];
    let bytes = 0;
    while (
      i < items.length && (batch.length === 0 || bytes + itemSize(items[i][0], items[i][1]) <= chunkBytes)
    ) {
      bytes += itemSize(items[i][0], items[i][1]);
      batch.push(items[i++]);
    }
    if (isCancelled()) return;
    const chunk: Chunk = { rid, n: n++, last: i >= items.length, clock, items: batch };
    const encoded = encodeChunk(chunk);
    await new Promise<void>((resolve, reject) =>
      layer.post(to, channel, encoded, (e) => e === undefined ? resolve() : reject(e))
    );
  } while (i < items.length);
}

/** Collects the chunks of one transfer; {@link complete} says when all have come. */
export class SnapshotReceiver {
  readonly #chunks = new Map<number, Chunk>();
  #lastN = -1;
  readonly rid: string;
  constructor(rid: string) {
    this.rid = rid;
  }

  /** Adds a chunk (duplicates are ignored). */
  add(c: Chunk): void {
    if (c.rid !== this.rid || this.#chunks.has(c.n)) return;
    this.#chunks.set(c.n, c);
    if (c.last) this.#lastN = c.n;
  }

  /** Whether every chunk up to the last has arrived. */
  get complete(): boolean {
    return this.#lastN >= 0 && this.#chunks.size === this.#lastN + 1;
  }

  /** Number of chunks received. */
  get received(): number {
    return this.#chunks.size;
  }

  /** The assembled state (call when {@link complete}). */
  state(): DataState {
    const items = new Map<string, Item>();
    let clock = 0;
    for (let n = 0; n <= this.#lastN; n++) {
      const c = this.#chunks.get(n)!;
      clock = Math.max(clock, c.clock);
      for (const [k, it] of c.items) items.set(k, it);
    }
    return { items, clock };
  }
}
