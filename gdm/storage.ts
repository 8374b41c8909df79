/**
 * Persistence of the GDM: a storage adapter keeps this member's replica — items, locks with their
 * fencing tokens, the Lamport clock — so that a restart (of one member or of the whole cluster) keeps
 * what was acknowledged. The GDM writes *group commits*: everything that changed while the previous
 * write was under way goes in the next one, and a write waits for the commit that holds it (see the
 * `durability` option). On restart a member loads its replica and brings it into the group's round,
 * where every version the group lacks comes back. Adapters: {@link MemoryStorage} (tests),
 * `FileStorage` (Node/Deno, a journal in a file; `gdm/storage_file.ts`), `IndexedDbStorage` (browsers,
 * `gdm/storage_idb.ts`).
 * @module
 */
import type { Item, LockState } from "./model.ts";

/** What an adapter loads. */
export interface StoredState {
  /** Items by key (tombstones included). */
  items: Array<readonly [string, Item]>;
  /** Locks by name, with their fencing tokens. */
  locks: Array<readonly [string, LockState]>;
  /** Highest Lamport counter stored. */
  clock: number;
  /**
   * How many operations the stored replica had applied (its place in the group's history: after a
   * restart of everyone, the furthest replica is kept). 0 when unknown.
   */
  applied: number;
  /**
   * What could not be read back (a corrupt record, and where): reported by the GDM as `error` events;
   * everything else was loaded, and nothing was deleted.
   */
  problems: string[];
}

/** One group commit. */
export interface StorageBatch {
  /** Items changed since the last commit (tombstones included); with `replace`, all of them. */
  items: Array<readonly [string, Item]>;
  /** Locks changed since the last commit; with `replace`, all of them. */
  locks: Array<readonly [string, LockState]>;
  /** Highest Lamport counter. */
  clock: number;
  /** Operations the replica had applied (see {@link StoredState.applied}). */
  applied: number;
  /** The batch is the whole replica and replaces what is stored, atomically. */
  replace: boolean;
  /** Make it durable before resolving (fsync of the data and of the directory entry). */
  sync: boolean;
}

/** What a write reports besides success. */
export interface StorageWriteResult {
  /** The adapter would like the next commit to be a `replace` (its journal has grown). */
  compact?: boolean;
}

/** A storage adapter. Calls never overlap: the GDM waits for each before the next. */
export interface StorageAdapter {
  /** Loads the stored state (empty when nothing is stored). Throws only when nothing can be read. */
  load(): Promise<StoredState>;
  /** Persists a batch; rejects when it could not (the writes waiting for it are rejected too). */
  write(batch: StorageBatch): Promise<StorageWriteResult | void>;
  /** Releases files or handles. */
  close(): Promise<void>;
}

/** Keeps the state in memory (tests; survives a GDM restart within one process). */
export class MemoryStorage implements StorageAdapter {
  /** The stored items. */
  readonly items: Map<string, Item> = new Map<string, Item>();
  /** The stored locks. */
  readonly locks: Map<string, LockState> = new Map<string, LockState>();
  /** The stored counter. */
  clock = 0;
  /** The stored history position. */
  applied = 0;
  /** Number of `write` calls (diagnostics). */
  writes = 0;
  /** Number of `write` calls with `sync` (diagnostics). */
  syncs = 0;

  load(): Promise<StoredState> {
    return Promise.resolve({
      items: [...this.items],
      locks: [...this.locks],
      clock: this.clock,
      applied: this.applied,
      problems: [],
    });
  }

  write(batch: StorageBatch): Promise<void> {
    this.writes++;
    if (batch.sync) this.syncs++;
    if (batch.replace) {
      this.items.clear();
      this.locks.clear();
    }
    for (const [k, it] of batch.items) this.items.set(k, it);
    for (const [n, l] of batch.locks) this.locks.set(n, l);
    this.clock = Math.max(this.clock, batch.clock);
    this.applied = batch.applied;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
