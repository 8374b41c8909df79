/**
 * IndexedDB storage for the GDM in browsers: one database per node, object store `items` holding
 * items under `i:` + key, locks under `l:` + name (in the wire's form) and the Lamport counter under
 * the reserved key `""` (the replica's place in the history under `a`). A commit is one IndexedDB transaction; with `sync` it asks for `strict`
 * durability (the browser flushes before `complete`). An entry that does not read back is reported,
 * the others loaded. Uses only `open`, `createObjectStore`, `transaction`, `put`, `clear`, `getAll`
 * and `getAllKeys`.
 * @module
 */
import { DecodeError } from "../base/errors.ts";
import { itemR, itemW, lockR, lockW } from "./codec.ts";
import type { Item, LockState } from "./model.ts";
import type { StorageAdapter, StorageBatch, StoredState } from "./storage.ts";

// The slice of the IndexedDB API this adapter uses, declared here so the module type-checks on
// runtimes whose type library has no IndexedDB (Deno) while taking the real factory in browsers.
type Handler = ((event: never) => unknown) | null;
interface IdbRequest<T> {
  readonly result: T;
  readonly error: unknown;
  onsuccess: Handler;
  onerror: Handler;
}
interface IdbStore {
  put(value: unknown, key: string): unknown;
  clear(): unknown;
  getAll(): IdbRequest<unknown[]>;
  getAllKeys(): IdbRequest<unknown[]>;
}
interface IdbTransaction {
  readonly error: unknown;
  objectStore(name: string): IdbStore;
  oncomplete: Handler;
  onerror: Handler;
  onabort: Handler;
}
interface IdbDatabase {
  readonly objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string): unknown;
  transaction(
    store: string,
    mode: "readonly" | "readwrite",
    options?: { durability?: string },
  ): IdbTransaction;
  close(): void;
}
/** The part of `IDBFactory` that {@link IndexedDbStorage} needs. */
/** What is used of an IndexedDB request to open a database. */
type IdbOpenRequest = IdbRequest<IdbDatabase> & { onupgradeneeded: Handler };

/** The part of `IDBFactory` used here: `globalThis.indexedDB` in browsers, or a stand-in in tests. */
export interface IdbFactoryLike {
  /** `indexedDB.open(name, version)`: an `IDBOpenDBRequest`. */
  open(name: string, version: number): unknown;
}

const STORE = "items";
const CLOCK_KEY = "";
const APPLIED_KEY = "a";

function done<T>(req: IdbRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function committed(tx: IdbTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

/** Keeps a node's items in IndexedDB (browsers). */
export class IndexedDbStorage implements StorageAdapter {
  #db: Promise<IdbDatabase> | undefined;
  /** The database name. */
  readonly name: string;
  /** The IndexedDB factory in use. */
  readonly factory: IdbFactoryLike;
  /**
   * Storage in the IndexedDB database `name`.
   * @param name database name (one per node and cluster, e.g. `raincore-gdm-<nodeId>`).
   * @param factory the IndexedDB factory. @default {globalThis.indexedDB}
   */
  constructor(
    name: string,
    factory: IdbFactoryLike = (globalThis as { indexedDB?: IdbFactoryLike }).indexedDB!,
  ) {
    this.name = name;
    this.factory = factory;
  }

  #open(): Promise<IdbDatabase> {
    return this.#db ??= new Promise((resolve, reject) => {
      const req = this.factory.open(this.name, 1) as IdbOpenRequest;
      req.onupgradeneeded = () => {
        if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }

  /** Loads every item, lock and the counter; entries that do not read back are reported. */
  async load(): Promise<StoredState> {
    const db = await this.#open();
    const tx = db.transaction(STORE, "readonly");
    const store = tx.objectStore(STORE);
    const [keys, values] = await Promise.all([done(store.getAllKeys()), done(store.getAll())]);
    const items: Array<readonly [string, Item]> = [];
    const locks: Array<readonly [string, LockState]> = [];
    const problems: string[] = [];
    let clock = 0;
    let applied = 0;
    keys.forEach((k, i) => {
      const key = String(k);
      try {
        if (key === CLOCK_KEY) clock = typeof values[i] === "number" ? values[i] as number : 0;
        else if (key === APPLIED_KEY) applied = typeof values[i] === "number" ? values[i] as number : 0;
        else if (key.startsWith("i:")) items.push([key.slice(2), itemR(values[i])]);
        else if (key.startsWith("l:")) locks.push([key.slice(2), lockR(values[i])]);
        else throw new DecodeError("unknown entry");
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        problems.push(
          `IndexedDB ${this.name}: entry ${JSON.stringify(key)} does not read back (${err.message}); skipped`,
        );
      }
    });
    return { items, locks, clock, applied, problems };
  }

  /** Writes a commit in one IndexedDB transaction (cleared first with `replace`). */
  async write(batch: StorageBatch): Promise<void> {
    const db = await this.#open();
    const tx = db.transaction(STORE, "readwrite", { durability: batch.sync ? "strict" : "relaxed" });
    const store = tx.objectStore(STORE);
    if (batch.replace) store.clear();
    for (const [k, it] of batch.items) store.put(itemW(it), `i:${k}`);
    for (const [n, l] of batch.locks) store.put(lockW(l), `l:${n}`);
    store.put(batch.clock, CLOCK_KEY);
    store.put(batch.applied, APPLIED_KEY);
    await committed(tx);
  }

  /** Closes the database. */
  async close(): Promise<void> {
    if (this.#db !== undefined) (await this.#db).close();
    this.#db = undefined;
  }
}
