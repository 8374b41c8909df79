/**
 * Group commit: the changes of a replica go to storage in batches, one write at a time; everything
 * that changed while a write was under way goes in the next, so the number of writes (and fsyncs) per
 * second is bounded by the disk, not by the rate of operations. A request that asked for durability
 * waits for the first batch issued after it was applied — that batch holds its change, or a newer
 * version of the same key. A failed batch puts its changes back, so the next one writes them.
 * @module
 */
import type { Item, LockState } from "./model.ts";
import type { Request } from "./requests.ts";
import type { StorageBatch } from "./storage.ts";

/** The batches of one replica. */
export class GroupCommits {
  #items = new Map<string, Item>();
  #locks = new Map<string, LockState>();
  #replace = false;
  #waiting: Request[] = [];
  #inFlight: {
    id: number;
    items: Map<string, Item>;
    locks: Map<string, LockState>;
    replace: boolean;
    waiting: Request[];
  } | undefined;
  #lastId = 0;

  /** An item changed (the version to store). */
  item(key: string, item: Item): void {
    this.#items.set(key, item);
  }

  /** A lock changed. */
  lock(name: string, state: LockState): void {
    this.#locks.set(name, state);
  }

  /** The next batch must replace everything stored (after a state transfer, or to compact). */
  replaceAll(): void {
    this.#replace = true;
  }

  /** `r` waits for the next batch. */
  wait(r: Request): void {
    this.#waiting.push(r);
  }

  /** Whether a batch is being written. */
  get busy(): boolean {
    return this.#inFlight !== undefined;
  }

  /**
   * The next batch, if one is due (or `due` says so: others wait for it) and none is being written.
   * `whole` gives the replica's full content for a `replace` batch.
   */
  next(
    clock: number,
    applied: number,
    whole: () => { items: Map<string, Item>; locks: Map<string, LockState> },
    due = false,
  ): { id: number; batch: StorageBatch } | undefined {
    if (this.#inFlight !== undefined) return undefined;
    if (
      !due && this.#items.size === 0 && this.#locks.size === 0 && !this.#replace && this.#waiting.length === 0
    ) return undefined;
    const replace = this.#replace;
    const content = replace ? whole() : { items: this.#items, locks: this.#locks };
    const waiting = this.#waiting;
    const id = ++this.#lastId;
    this.#inFlight = { id, items: this.#items, locks: this.#locks, replace, waiting };
    this.#items = new Map();
    this.#locks = new Map();
    this.#replace = false;
    this.#waiting = [];
    return {
      id,
      batch: {
        items: [...content.items],
        locks: [...content.locks],
        clock,
        applied,
        replace,
        sync: due || waiting.some((r) => r.durability === "fsync"),
      },
    };
  }

  /** Batch `id` is stored: the requests that waited for it. */
  done(id: number): Request[] {
    const f = this.#inFlight;
    if (f === undefined || f.id !== id) return [];
    this.#inFlight = undefined;
    return f.waiting;
  }

  /** Batch `id` failed: its changes go in the next batch; the requests that waited for it. */
  failed(id: number): Request[] {
    const f = this.#inFlight;
    if (f === undefined || f.id !== id) return [];
    this.#inFlight = undefined;
    for (const [k, it] of f.items) if (!this.#items.has(k)) this.#items.set(k, it);
    for (const [n, l] of f.locks) if (!this.#locks.has(n)) this.#locks.set(n, l);
    this.#replace ||= f.replace;
    return f.waiting;
  }
}
