/**
 * IndexedDB storage for the GDM in browsers: one database per node, object store `items` (key →
 * item, out-of-line keys) and the Lamport counter under the reserved key `""`. Uses only `open`,
 * `createObjectStore`, `transaction`, `put`, `clear`, `getAll` and `getAllKeys`.
 * @module
 */
import type { Item } from "./state.ts";
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
  transaction(store: string, mode: "readonly" | "readwrite"): IdbTransaction;
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

  /** Loads every item and the counter. */
  async load(): Promise<StoredState> {
    const db = await this.#open();
    const tx = db.transaction(STORE, "readonly");
    const store = tx.objectStore(STORE);
    const [keys, values] = await Promise.all([done(store.getAllKeys()), done(store.getAll())]);
    const items: Array<readonly [string, Item]> = [];
    let clock = 0;
    keys.forEach((k, i) => {
      if (k === CLOCK_KEY) clock = values[i] as number;
      else items.push([k as string, values[i] as Item]);
    });
    return { items, clock };
  }

  /** Writes a batch in one IndexedDB transaction (cleared first with `replace`). */
  async write(batch: StorageBatch): Promise<void> {
    const db = await this.#open();
    const tx = db.transaction(STORE, "readwrite");
    const store = tx.objectStore(STORE);
    if (batch.replace) store.clear();
    for (const [k, it] of batch.items) store.put(it, k);
    store.put(batch.clock, CLOCK_KEY);
    await committed(tx);
  }

  /** Closes the database. */
  async close(): Promise<void> {
    if (this.#db !== undefined) (await this.#db).close();
    this.#db = undefined;
  }
}
