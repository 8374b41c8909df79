/**
 * State transfer (3.10): a snapshot of the kept replica, taken where a round completed, cut into
 * chunks of about `chunkBytes` and sent directly (Transport Manager) to a puller, one chunk at a time:
 * the next goes when the last is acknowledged, so a 100 MB state never blocks the token. Items are
 * sorted by key, so every member of the kept class cuts the same snapshot into the same chunks and a
 * puller can resume from any of them ({@link Snapshot}); {@link SnapshotReceiver} assembles them.
 * @module
 */
import type { Chunk } from "./codec.ts";
import type { Item } from "./model.ts";
import { copyReplica, type Replica } from "./replica.ts";

/** Rough size of an item on the wire. */
export function itemBytes(key: string, it: Item): number {
  return key.length + (it.value?.length ?? 0) + 40;
}

/** A snapshot of a replica, ready to be sent in chunks. */
export class Snapshot {
  /** The view whose round it belongs to. */
  readonly view: string;
  readonly #replica: Replica;
  readonly #items: Array<readonly [string, Item]>;
  /** Index of the first item of each chunk. */
  readonly #starts: number[] = [];
  readonly #totalBytes: number;

  /** Takes a snapshot of `replica` (later operations do not change it). */
  constructor(view: string, replica: Replica, chunkBytes: number) {
    this.view = view;
    this.#replica = copyReplica(replica);
    this.#items = [...this.#replica.items].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    let bytes = 0;
    let total = 0;
    this.#starts.push(0);
    this.#items.forEach(([k, it], i) => {
      const b = itemBytes(k, it);
      if (bytes > 0 && bytes + b > chunkBytes) {
        this.#starts.push(i);
        bytes = 0;
      }
      bytes += b;
      total += b;
    });
    this.#totalBytes = total;
  }

  /** Number of chunks. */
  get chunks(): number {
    return this.#starts.length;
  }

  /** Chunk `n` (0 ≤ n < {@link chunks}). */
  chunk(n: number): Chunk {
    const from = this.#starts[n];
    const to = n + 1 < this.#starts.length ? this.#starts[n + 1] : this.#items.length;
    const r = this.#replica;
    return {
      view: this.view,
      n,
      last: n === this.#starts.length - 1,
      totalItems: this.#items.length,
      totalBytes: this.#totalBytes,
      items: this.#items.slice(from, to),
      ...(n === 0
        ? { head: { locks: [...r.locks], sessions: [...r.sessions], clock: r.clock, applied: r.applied } }
        : {}),
    };
  }
}

/** Progress of a transfer: what has arrived of what is coming. */
export interface TransferProgress {
  /** Chunks received. */
  readonly chunks: number;
  /** Items received. */
  readonly items: number;
  /** Bytes of items received (about). */
  readonly bytes: number;
  /** Items of the whole snapshot (0 until the first chunk). */
  readonly totalItems: number;
  /** Bytes of items of the whole snapshot (0 until the first chunk). */
  readonly totalBytes: number;
}

/** Collects the chunks of one snapshot. */
export class SnapshotReceiver {
  /** The view whose round the snapshot belongs to. */
  readonly view: string;
  readonly #chunks = new Map<number, Chunk>();
  #last = -1;
  #items = 0;
  #bytes = 0;
  #totalItems = 0;
  #totalBytes = 0;

  /** A receiver for the snapshot of `view`'s round. */
  constructor(view: string) {
    this.view = view;
  }

  /** Adds a chunk; false when it is a duplicate or of another snapshot. */
  add(c: Chunk): boolean {
    if (c.view !== this.view || this.#chunks.has(c.n) || (c.n === 0 && c.head === undefined)) return false;
    this.#chunks.set(c.n, c);
    if (c.last) this.#last = c.n;
    this.#items += c.items.length;
    for (const [k, it] of c.items) this.#bytes += itemBytes(k, it);
    this.#totalItems = c.totalItems;
    this.#totalBytes = c.totalBytes;
    return true;
  }

  /** The first chunk not received yet. */
  get next(): number {
    let n = 0;
    while (this.#chunks.has(n)) n++;
    return n;
  }

  /** Whether every chunk has arrived. */
  get complete(): boolean {
    return this.#last >= 0 && this.#chunks.size === this.#last + 1;
  }

  /** What has arrived. */
  get progress(): TransferProgress {
    return {
      chunks: this.#chunks.size,
      items: this.#items,
      bytes: this.#bytes,
      totalItems: this.#totalItems,
      totalBytes: this.#totalBytes,
    };
  }

  /** The assembled replica (call when {@link complete}). */
  replica(): Replica {
    const head = this.#chunks.get(0)!.head!;
    const items = new Map<string, Item>();
    for (let n = 0; n <= this.#last; n++) for (const [k, it] of this.#chunks.get(n)!.items) items.set(k, it);
    return {
      items,
      locks: new Map(head.locks),
      clock: head.clock,
      applied: head.applied,
      sessions: new Map(head.sessions),
    };
  }
}
