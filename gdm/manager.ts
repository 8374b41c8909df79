/**
 * The Group Data Manager (3.10): data items mirrored on every member of a GCM group. Every write is an
 * operation multicast through the GCM and applied by every replica in the same total order; Lamport
 * stamps decide between concurrent writes and between sides that were apart. Locks with fencing
 * tokens, transactions, state transfer, merges and durable storage live in the pure core
 * (`core.ts`); this class is its API: reads from the local replica, requests that become promises,
 * and the events of the application.
 * @module
 */
import type { Clock } from "../base/clock.ts";
import { Emitter, type Listener } from "../base/emitter.ts";
import type { GroupCommunicationManager } from "../gcm/manager.ts";
import type { DeliveryLevel } from "../gcm/types.ts";
import { GDM_STREAM } from "./codec.ts";
import type { ViewEvent } from "../gcm/events.ts";
import { type CoreStats, GdmCore, type RequestSpec, splitItems, type ViewInput } from "./core.ts";
import { GdmDriver } from "./driver.ts";
import { GdmClosedError, TransactionAbortedError, UnsupportedGcmError } from "./errors.ts";
import { eventOf, type GdmEvents } from "./events.ts";
import { issuerKey, type Item, memberKey, nodeOf, type ReadSpec, type WriteSpec } from "./model.ts";
import { type GdmOptions, type GdmSettings, resolveGdmOptions } from "./options.ts";
import type { Durability } from "./requests.ts";
import type { Stamp } from "./stamp.ts";
import type { StorageAdapter } from "./storage.ts";
import { applyPatch, decodeValue, encodeValue, type Patch } from "./value.ts";

/** Options of one write. */
export interface WriteOptions {
  /** Delivery level of this write. @default {the GDM's `level`} */
  level?: DeliveryLevel;
  /** When the promise resolves. @default {the GDM's `durability`} */
  durability?: Durability;
  /**
   * Gives up waiting: the promise rejects with the signal's reason. A write not multicast yet is
   * never sent; one already sent may still be applied.
   */
  signal?: AbortSignal;
}

/** Options of {@link GroupDataManager.lock}. */
export interface LockOptions {
  /** Give up after this long (the request is withdrawn). @default {the GDM's `lockTimeoutMs`} */
  timeoutMs?: number;
  /** Give up when aborted (the request is withdrawn, released if granted meanwhile). */
  signal?: AbortSignal;
  /** When the grant is reported: once durable on this member by default when storage is attached. */
  durability?: Durability;
}

/** A snapshot of all items, for {@link GroupDataManager.reconcile} and diagnostics. */
export interface Snapshot {
  /** Items by key, tombstones included. */
  items: Array<readonly [string, Item]>;
  /** Highest Lamport counter. */
  clock: number;
}

/** Reads and writes inside a transaction. Reads see the transaction's own writes. */
export interface Transaction {
  /** Reads an item (recorded for compare-on-commit). */
  get(key: string): unknown;
  /** Writes an item. */
  set(key: string, value: unknown): void;
  /** Deletes an item. */
  delete(key: string): void;
  /** Partial update of an item. */
  patch(key: string, patch: Patch): void;
  /** Abandons the transaction: it rejects with {@link TransactionAbortedError} (`aborted`). */
  abort(reason?: string): never;
}

/** Options of {@link GroupDataManager.transaction}. */
export interface TransactionOptions extends WriteOptions {
  /** Abort (with reason `conflict`) when an item the transaction read changed before it committed. @default {false} */
  compare?: boolean;
}

/** How many GDMs each GCM carried (so that every GDM is a distinct issuer of operations). */
const instances = new WeakMap<GroupCommunicationManager, number>();

class AbortedByFunction extends Error {}

/** The Group Data Manager of one node. */
export class GroupDataManager {
  readonly #gcm: GroupCommunicationManager;
  readonly #s: GdmSettings;
  readonly #storage: StorageAdapter | undefined;
  readonly #driver: GdmDriver;
  readonly #events = new Emitter<GdmEvents>();
  readonly #promises = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #unsubscribe: Array<() => void> = [];
  #closing: Promise<void> | undefined;

  /** Loads the storage adapter's state, then creates the GDM with it. Call before `gcm.start()`. */
  static async open(options: GdmOptions & { storage: StorageAdapter }): Promise<GroupDataManager> {
    const stored = await options.storage.load();
    return new GroupDataManager({ ...options, initial: stored });
  }

  /**
   * A GDM on `options.gcm` (create it before the GCM's first view, e.g. in `createNode`'s
   * `beforeStart`); `GroupDataManager.open()` loads persisted items first.
   * @throws {UnsupportedGcmError} for a GCM in `every-token` mode, or one that drops deliveries out of quorum.
   * @throws {RangeError} naming the option, for a value outside its range.
   */
  constructor(options: GdmOptions) {
    const gcm = options.gcm;
    if (gcm.mode === "every-token") {
      throw new UnsupportedGcmError(
        "a GroupDataManager needs a GCM in three-phase or two-phase mode: every-token commits views " +
          "without a round of agreement, so members that move on together may have delivered different messages",
      );
    }
    if (gcm.quorumPolicy.dropsOutOfQuorum) {
      throw new UnsupportedGcmError(
        "a GroupDataManager needs every delivery, and this GCM drops them out of quorum (its `quorum` " +
          "option): keep the GCM's `expectedSize`, leave its `quorum` off and give the GDM `quorum: true`",
      );
    }
    if (options.quorum === true && gcm.quorumPolicy.expectedSize === undefined) {
      throw new RangeError(
        "'quorum' needs the GCM's 'expectedSize' (a primary component is a majority of it)",
      );
    }
    this.#gcm = gcm;
    this.#s = resolveGdmOptions(options);
    this.#storage = options.storage;
    const clock: Clock = options.clock ?? gcm.clock;
    const instance = (instances.get(gcm) ?? 0) + 1;
    instances.set(gcm, instance);
    const core = new GdmCore({
      nodeId: gcm.id,
      incarnation: gcm.incarnation,
      issuer: issuerKey(gcm.id, gcm.incarnation, instance),
      level: this.#s.level,
      durability: this.#s.durability,
      quorum: this.#s.quorum,
      majority: this.#s.quorum ? Math.floor(gcm.quorumPolicy.expectedSize! / 2) + 1 : 0,
      chunkBytes: this.#s.chunkBytes,
      pullTimeoutMs: this.#s.pullTimeoutMs,
      maxOpBytes: this.#s.maxOpBytes,
      storage: options.storage !== undefined,
      initial: options.initial,
    });
    this.#driver = new GdmDriver(
      { gcm, layer: options.layer, clock, channel: this.#s.channel, storage: options.storage },
      core,
      (n) => {
        const [name, value] = eventOf(n);
        this.#events.emit(name, value as never);
      },
      (request, value, error) => {
        const p = this.#promises.get(request);
        if (p === undefined) return;
        this.#promises.delete(request);
        if (error === undefined) p.resolve(value);
        else p.reject(error);
      },
    );
    this.#unsubscribe.push(
      gcm.onStream(GDM_STREAM, (d) => this.#driver.step((c) => c.deliver(d.data, d.transitional))),
      gcm.on("view", (v) => this.#driver.step((c) => c.view(viewInput(v, gcm.incarnation)))),
      gcm.on(
        "transitional",
        (t) => this.#driver.step((c) => c.transitional(t.id, t.detail.map((m) => memberKey(m.id, m.inc)))),
      ),
      gcm.on("leave", (e) => this.#driver.step((c) => c.left(e.rejoins))),
      gcm.on("close", () => void this.close()),
    );
    // Created after the GCM's first view (after `gcm.start()`): that view is this GDM's first.
    const v = gcm.view;
    if (v.id !== "") this.#driver.step((c) => c.view(viewInput(v, gcm.incarnation)));
    this.#driver.flush(); // storage problems found at load
  }

  // ---- reads ---------------------------------------------------------------------------------------

  /** This node's ID. */
  get id(): string {
    return this.#gcm.id;
  }

  /** Whether this replica holds the group's data in the current view (its round done, no transfer pending). */
  get synced(): boolean {
    return this.#core.synced;
  }

  /** Alias of {@link synced}: the round of the current view has completed here and no transfer is pending. */
  get settled(): boolean {
    return this.#core.synced;
  }

  /** The state transfer under way here: source, chunks received, operations buffered (diagnostics). */
  get transfer(): { from: string; chunks: number; buffered: number } | undefined {
    return this.#core.transfer;
  }

  /** Requests not settled yet: kind, where each is, its operation number (diagnostics). */
  get pending(): Array<{ kind: string; state: string; n?: number; lock?: string; waitsFor?: string[] }> {
    return this.#core.pending;
  }

  /** Highest Lamport counter applied on this replica. */
  get lamport(): number {
    return this.#core.clock;
  }

  /** Diagnostics: operations applied, snapshots served and received, pulls, decode errors, divergences. */
  get stats(): Readonly<CoreStats> {
    return this.#core.stats;
  }

  get #core(): GdmCore {
    return this.#driver.core;
  }

  /** The value of `key` on this replica (undefined when absent or deleted). */
  get(key: string): unknown {
    const it = this.#core.item(key);
    return it?.value === undefined ? undefined : decodeValue(it.value);
  }

  /** The stored version of `key`: encoded value and stamp (undefined when never written). */
  item(key: string): Item | undefined {
    return this.#core.item(key);
  }

  /** Whether `key` holds a value. */
  has(key: string): boolean {
    return this.#core.item(key)?.value !== undefined;
  }

  /** Keys that start with `prefix`, sorted (deleted items left out). */
  keys(prefix = ""): string[] {
    const out: string[] = [];
    for (const k of this.#core.keys()) {
      if (k.startsWith(prefix) && this.#core.item(k)?.value !== undefined) out.push(k);
    }
    return out.sort();
  }

  /** Items whose key starts with `prefix`, sorted by key, as `[key, value]`. */
  list(prefix = ""): Array<[string, unknown]> {
    return this.keys(prefix).map((k) => [k, decodeValue(this.#core.item(k)!.value!)]);
  }

  /** Number of live items (deleted items left out). */
  get size(): number {
    let n = 0;
    for (const k of this.#core.keys()) if (this.#core.item(k)?.value !== undefined) n++;
    return n;
  }

  /** Node ID of the holder of lock `name`, or null. */
  lockOwner(name: string): string | null {
    const h = this.#core.lock(name).holder;
    return h === undefined ? null : nodeOf(h.owner);
  }

  /** The fencing token of the current grant of lock `name` (0 when free). */
  lockToken(name: string): number {
    return this.#core.lock(name).holder?.fence ?? 0;
  }

  /**
   * Whether this node holds lock `name` now: granted to this incarnation, not being released or
   * withdrawn, in a view whose round is done (and a primary component, with `quorum`).
   */
  holds(name: string): boolean {
    return this.#core.holds(name);
  }

  /** A copy of all items (tombstones included) and the Lamport counter. */
  snapshot(): Snapshot {
    const items: Array<readonly [string, Item]> = [];
    for (const k of this.#core.keys()) items.push([k, this.#core.item(k)!]);
    return { items, clock: this.#core.clock };
  }

  /** Subscribes to an event; returns a function that unsubscribes. Listener exceptions become `error` events. */
  on<K extends keyof GdmEvents>(event: K, fn: Listener<GdmEvents[K]>): () => void {
    return this.#events.on(event, fn);
  }

  // ---- writes ----------------------------------------------------------------------------------------

  /**
   * Writes `value` (structured-clone-able data or bytes) under `key`. The write is multicast in the
   * group's total order; the promise resolves with the write's Lamport stamp once this replica has
   * applied it at its place in that order (a `get` right after sees it, unless a concurrent write
   * with a higher stamp won) and it is as durable as `durability` asks.
   * @throws {GdmClosedError} when this GDM was closed or its node left the group first.
   * @throws {MulticastTooLargeError} when the encoded write exceeds the GCM's `maxMessageBytes`.
   * @throws {StorageError} when the storage adapter failed to make it durable (it is applied in memory).
   */
  set(key: string, value: unknown, options: WriteOptions = {}): Promise<Stamp> {
    return this.#write("write", [{ key: checkKey(key), value: encodeValue(value) }], undefined, options);
  }

  /** Deletes `key` (a tombstone with a stamp, so a merge does not bring it back). Resolves like {@link set}. */
  delete(key: string, options: WriteOptions = {}): Promise<Stamp> {
    return this.#write("write", [{ key: checkKey(key) }], undefined, options);
  }

  /**
   * Partial update: `{offset, bytes}` overwrites a byte range of a binary value (extending it), or
   * `{path, value}` / `{path, remove: true}` sets or removes a part of a structured value. Resolves
   * like {@link set}.
   * @throws {PatchError} when the patch does not fit the item (applied nowhere).
   */
  patch(key: string, patch: Patch, options: WriteOptions = {}): Promise<Stamp> {
    const p: Patch = "offset" in patch ? { offset: patch.offset, bytes: patch.bytes } : patch;
    return this.#write("write", [{ key: checkKey(key), patch: p }], undefined, options);
  }

  /**
   * Runs `fn` with a transaction: its writes are buffered and committed as one operation, applied
   * atomically at one point of the total order on every replica, or not at all. With `compare`, the
   * commit aborts when an item read inside changed before the commit point (a compare-and-set).
   * Resolves with `fn`'s result once the commit is applied here (and durable as asked).
   * @throws {TransactionAbortedError} `conflict` (compare failed), `aborted` (`fn` threw or called `abort`), `left`.
   */
  async transaction<T>(
    fn: (tx: Transaction) => T | Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    options.signal?.throwIfAborted();
    const writes: WriteSpec[] = [];
    const reads = new Map<string, Stamp | null>();
    const tx: Transaction = {
      get: (key) => {
        const it = this.#core.item(key);
        if (!reads.has(key)) reads.set(key, it?.stamp ?? null);
        let v = it?.value;
        for (const w of writes) {
          if (w.key === key) v = w.patch !== undefined ? patchedOrSame(v, w.patch) : w.value;
        }
        return v === undefined ? undefined : decodeValue(v);
      },
      set: (key, value) => void writes.push({ key: checkKey(key), value: encodeValue(value) }),
      delete: (key) => void writes.push({ key: checkKey(key) }),
      patch: (key, patch) => void writes.push({ key: checkKey(key), patch }),
      abort: (reason = "aborted by the application") => {
        throw new AbortedByFunction(reason);
      },
    };
    let result: T;
    try {
      result = await fn(tx);
    } catch (err) {
      if (err instanceof AbortedByFunction) throw new TransactionAbortedError("aborted", err.message);
      throw new TransactionAbortedError("aborted", "the transaction function threw", { cause: err });
    }
    if (writes.length === 0) return result;
    const r: ReadSpec[] | undefined = options.compare
      ? [...reads].map(([key, stamp]) => ({ key, stamp }))
      : undefined;
    await this.#write("transaction", writes, r, options);
    return result;
  }

  /**
   * Merges another side's snapshot into the group: its items are multicast and every replica keeps,
   * per key, the version with the highest stamp; a `conflict` event reports each key both sides wrote.
   * Resolves when applied here.
   */
  async reconcile(other: Snapshot): Promise<void> {
    await Promise.all(
      splitItems(other.items, this.#s.maxOpBytes).map((items) =>
        this.#request({ kind: "merge", items }, undefined)
      ),
    );
  }

  /**
   * Acquires lock `name`: the request is ordered with all operations and granted first come, first
   * served; resolves with the grant's **fencing token** — larger than every token granted for this
   * lock before, across views, merges and restarts — once this node holds it. Pass the token to the
   * resource the lock protects, and let it refuse any token lower than one it has seen. A lock held
   * by a node that leaves or fails is freed in the view change. No lock is granted in a view whose
   * round is not done (a joining or restarted node, one back from a partition), nor outside a primary
   * component with `quorum`.
   * @throws {LockTimeoutError} after `timeoutMs`; the request is withdrawn (and released if granted meanwhile).
   * @throws {GdmClosedError} when the GDM is closed, or its node leaves the group first.
   */
  lock(name: string, options: LockOptions = {}): Promise<number> {
    return this.#request(
      {
        kind: "lock",
        name,
        timeoutMs: options.timeoutMs ?? this.#s.lockTimeoutMs,
        durability: options.durability,
      },
      options.signal,
    ) as Promise<number>;
  }

  /**
   * Releases lock `name`; the next waiter gets it.
   * @throws {NotLockOwnerError} when this node does not hold it.
   */
  async unlock(name: string, options: { durability?: Durability } = {}): Promise<void> {
    await this.#request({ kind: "unlock", name, durability: options.durability }, undefined);
  }

  /** Stops: detaches from the GCM, rejects pending operations, writes what storage still lacks. */
  close(): Promise<void> {
    return this.#closing ??= (async () => {
      for (const u of this.#unsubscribe) u();
      this.#driver.step((c) => c.close());
      await this.#driver.close();
      await this.#storage?.close();
    })();
  }

  /** Resolves once every change applied so far is written to storage (a group commit). */
  async flush(): Promise<void> {
    await this.#request({ kind: "flush" }, undefined);
  }

  // ---- requests --------------------------------------------------------------------------------------

  #write(
    kind: "write" | "transaction",
    writes: WriteSpec[],
    reads: ReadSpec[] | undefined,
    options: WriteOptions,
  ): Promise<Stamp> {
    return this.#request(
      { kind, writes, reads, level: options.level, durability: options.durability },
      options.signal,
    ) as Promise<Stamp>;
  }

  #request(spec: RequestSpec, signal: AbortSignal | undefined): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#closing !== undefined) {
      return Promise.reject(
        spec.kind === "transaction"
          ? new TransactionAbortedError("left", "this GroupDataManager is closed")
          : new GdmClosedError(),
      );
    }
    let id = 0;
    const p = new Promise<unknown>((resolve, reject) => {
      // The core may settle at once (a refused unlock): register before asking it.
      const pending = { resolve, reject };
      id = this.#driver.step((c) => {
        const n = c.request(spec);
        this.#promises.set(n, pending);
        return n;
      });
    });
    if (signal !== undefined) {
      const onAbort = () => this.#driver.step((c) => c.abort(id, signal.reason));
      signal.addEventListener("abort", onAbort, { once: true });
      p.then(
        () => signal.removeEventListener("abort", onAbort),
        () => signal.removeEventListener("abort", onAbort),
      );
    }
    return p;
  }
}

/** A GCM view as the core takes it (`incarnation`: this member's, now). */
function viewInput(v: ViewEvent, incarnation: number): ViewInput {
  return {
    id: v.id,
    members: v.detail.map((m) => memberKey(m.id, m.inc)),
    inQuorum: v.inQuorum,
    incarnation,
  };
}

function checkKey(key: string): string {
  if (typeof key !== "string") throw new TypeError("a GDM key must be a string");
  return key;
}

function patchedOrSame(v: Uint8Array | undefined, p: Patch): Uint8Array | undefined {
  try {
    return applyPatch(v, p);
  } catch {
    return v;
  }
}
