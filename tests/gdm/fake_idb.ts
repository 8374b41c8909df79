/**
 * An in-memory fake of the IndexedDB subset IndexedDbStorage uses (open with upgrade,
 * createObjectStore, transaction, objectStore, put, clear, getAll, getAllKeys, oncomplete).
 * Callbacks fire asynchronously like the real thing; a transaction commits after its requests.
 */
type Store = Map<string, unknown>;

class Req<T> {
  result!: T;
  error: unknown = null;
  onsuccess: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onupgradeneeded: (() => void) | null = null;
}

class FakeTx {
  oncomplete: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  error: unknown = null;
  #pending = 0;
  constructor(readonly stores: Map<string, Store>) {
    queueMicrotask(() => this.#maybeCommit());
  }
  objectStore(name: string) {
    const store = this.stores.get(name)!;
    const req = <T>(fn: () => T): Req<T> => {
      const r = new Req<T>();
      this.#pending++;
      setTimeout(() => {
        r.result = fn();
        r.onsuccess?.();
        this.#pending--;
        this.#maybeCommit();
      }, 0);
      return r;
    };
    return {
      put: (v: unknown, k: string) => req(() => void store.set(k, structuredClone(v))),
      clear: () => req(() => store.clear()),
      getAll: () =>
        req(() => [
          ...[...store.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => structuredClone(v)),
        ]),
      getAllKeys: () => req(() => [...store.keys()].sort()),
    };
  }
  #maybeCommit(): void {
    if (this.#pending === 0) setTimeout(() => this.oncomplete?.(), 0);
  }
}

/** The fake factory. */
export class FakeIndexedDb {
  readonly dbs = new Map<string, Map<string, Store>>();
  open(name: string, _version: number) {
    const r = new Req<unknown>();
    setTimeout(() => {
      let stores = this.dbs.get(name);
      const fresh = stores === undefined;
      stores ??= new Map();
      this.dbs.set(name, stores);
      const s = stores;
      r.result = {
        objectStoreNames: { contains: (n: string) => s.has(n) },
        createObjectStore: (n: string) => s.set(n, new Map()),
        transaction: () => new FakeTx(s),
        close: () => {},
      };
      if (fresh) r.onupgradeneeded?.();
      r.onsuccess?.();
    }, 0);
    return r;
  }
}
