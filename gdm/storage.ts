/**
 * Persistence of the GDM (optional): a storage adapter keeps this node's replica so that a restart
 * of the whole cluster keeps the data. On restart the node loads its items and brings them into
 * the group's merge round, where the highest stamp wins. Adapters: {@link MemoryStorage} (tests),
 * `FileStorage` (Node/Deno, `gdm/storage_file.ts`), `IndexedDbStorage` (browsers,
 * `gdm/storage_idb.ts`).
 * @module
 */
import type { Item } from "./state.ts";

/** What an adapter persists and loads: items (tombstones included) and the Lamport counter. */
export interface StoredState {
  /** Items by key. */
  items: Array<readonly [string, Item]>;
  /** Highest Lamport counter. */
  clock: number;
}

/** A batch of changes to persist. */
export interface StorageBatch {
  /** Items written since the last batch (tombstones included). */
  items: Array<readonly [string, Item]>;
  /** Highest Lamport counter. */
  clock: number;
  /** When true, `items` is the whole state and replaces what is stored (after a state transfer). */
  replace?: boolean;
}

/** A storage adapter. Calls never overlap: the GDM awaits each before the next. */
export interface StorageAdapter {
  /** Loads the stored state (empty when nothing is stored). */
  load(): Promise<StoredState>;
  /** Persists a batch. */
  write(batch: StorageBatch): Promise<void>;
  /** Releases files or handles. */
  close(): Promise<void>;
}

/** Keeps the state in memory (tests; survives a GDM restart within one process). */
export class MemoryStorage implements StorageAdapter {
  /** The stored items. */
  readonly items: Map<string, Item> = new Map<string, Item>();
  /** The stored counter. */
  clock = 0;
  /** Number of `write` calls (diagnostics). */
  writes = 0;

  load(): Promise<StoredState> {
    return Promise.resolve({ items: [...this.items], clock: this.clock });
  }

  write(batch: StorageBatch): Promise<void> {
    this.writes++;
    if (batch.replace) this.items.clear();
    for (const [k, it] of batch.items) this.items.set(k, it);
    this.clock = Math.max(this.clock, batch.clock);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
