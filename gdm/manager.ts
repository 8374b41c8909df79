/**
 * The Group Data Manager (3.10): data items mirrored on every member of a GCM group. Every write is
 * an operation multicast through the GCM, so every replica applies the same writes in the same
 * total order ({@link applyOp}); a Lamport clock stamps them. Locks are data items, acquired and
 * released by ordered operations; transactions commit several writes at one point of the order;
 * members that join (or come back from a partition) receive a snapshot taken at one point of the
 * order plus every later write; sides that were apart reconcile by stamp (highest wins).
 * @module
 */
import type { ViewEvent } from "../gcm/events.ts";
import type { MessageLayer } from "../gcm/layer.ts";
import type { GroupCommunicationManager } from "../gcm/manager.ts";
import type { DeliveryLevel } from "../gcm/types.ts";
import { LeftGroupError, MulticastTooLargeError } from "../gcm/errors.ts";
import { type Clock, SystemClock, type TimerId } from "../base/clock.ts";
import { DecodeError } from "../base/errors.ts";
import {
  GdmClosedError,
  LockTimeoutError,
  NotLockOwnerError,
  PatchError,
  TransactionAbortedError,
} from "./errors.ts";
import { isLockKey, lockNameOf, readLock } from "./locks.ts";
import { decideRound, type Hello, idOf, roundKey } from "./merge_round.ts";
import {
  decodeChunk,
  decodeOp,
  encodeOp,
  GDM_STREAM,
  type Op,
  type ReadSpec,
  type WriteSpec,
} from "./ops.ts";
import { compareStamps, type Stamp } from "./stamp.ts";
import { applyOp, type DataState, digestState, type Effect, emptyState, type Item } from "./state.ts";
import type { StorageAdapter } from "./storage.ts";
import { sendSnapshot, SnapshotReceiver } from "./transfer.ts";
import { applyPatch, decodeValue, encodeValue, type Patch } from "./value.ts";

/** Options of {@link GroupDataManager}. */
export interface GdmOptions {
  /**
   * The group to replicate over. Create the GDM before `gcm.start()`, or right after it in the
   * same turn (as with `createNode`), so it sees every view after the first.
   */
  gcm: GroupCommunicationManager;
  /** The layer for state transfer (the same Transport Manager the GCM runs on). */
  layer: MessageLayer;
  /** Time source (pull time-outs, persistence batching). @default {new SystemClock()} */
  clock?: Clock;
  /** Transport Manager channel of state-transfer chunks. @default {18} */
  channel?: number;
  /** Delivery level of writes: `agreed` (total order) or `safe` (applied once every member holds it). @default {"agreed"} */
  level?: DeliveryLevel;
  /** Size of a state-transfer chunk in bytes. @default {262144} */
  chunkBytes?: number;
  /** Re-request a snapshot when no chunk came for this long. @default {5000} */
  pullTimeoutMs?: number;
  /** Default time-out of {@link GroupDataManager.lock}. @default {10000} */
  lockTimeoutMs?: number;
  /** Largest operation multicast at once (reconcile batches are split to fit). @default {262144} */
  maxOpBytes?: number;
  /** Persistence adapter; load its state with {@link GroupDataManager.open}. @default {none} */
  storage?: StorageAdapter;
  /** Persisted changes are written in batches at most this often. @default {50} */
  flushMs?: number;
  /** Initial state (what {@link GroupDataManager.open} loaded). @default {empty} */
  initial?: { items: Iterable<readonly [string, Item]>; clock: number };
}

/** Options of one write. */
export interface WriteOptions {
  /** Delivery level of this write. @default {the GDM's `level`} */
  level?: DeliveryLevel;
}

/** A change to an item, applied on this replica. `old` and `new` are decoded when read. */
export interface ChangeEvent {
  /** Key. */
  readonly key: string;
  /** Previous value (undefined: absent or deleted). */
  readonly old: unknown;
  /** New value (undefined: deleted). */
  readonly new: unknown;
  /** Node ID of the writer. */
  writer: string;
  /** Lamport stamp of the write. */
  stamp: Stamp;
  /** True when the item was deleted. */
  deleted: boolean;
  /** True when the change came from a state transfer or a merge rather than a write. */
  transfer: boolean;
}

/** Two sides wrote the same item while apart; the winner (highest stamp) is now on every replica. */
export interface ConflictEvent {
  /** Key. */
  key: string;
  /** Value that won (undefined: deleted). */
  winner: unknown;
  /** Value that lost. */
  loser: unknown;
  /** Writer and stamp of the winner. */
  winnerStamp: Stamp;
  /** Writer and stamp of the loser. */
  loserStamp: Stamp;
}

/** The owner of a lock changed. */
export interface LockEvent {
  /** Lock name. */
  name: string;
  /** Node ID of the new owner, or null when free. */
  owner: string | null;
}

/** Events of {@link GroupDataManager}. */
export interface GdmEvents {
  /** An item changed on this replica. */
  change: ChangeEvent;
  /** A merge found an item written on both sides. */
  conflict: ConflictEvent;
  /** A lock changed hands. */
  lock: LockEvent;
  /**
   * This replica finished a state transfer and holds the group's data (also when it is back in the
   * group after a health-check leave, whether or not it needed a transfer).
   */
  synced: { items: number };
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
export interface TransactionOptions {
  /** Abort (with reason `conflict`) when an item the transaction read changed before it committed. @default {false} */
  compare?: boolean;
  /** Delivery level of the commit. @default {the GDM's `level`} */
  level?: DeliveryLevel;
}

type Listener<T> = (ev: T) => void;
type Waiting = {
  resolve: (s: Stamp | undefined) => void;
  reject: (e: Error) => void;
  kind: "write" | "lock" | "unlock" | "cancel" | "tx" | "rc";
  key: string;
  /** The operation, its level, and the view index when it was (last) multicast. */
  op: Op;
  level: DeliveryLevel | undefined;
  vi: number;
  /** Issued while this node was out of the group (health check): not multicast yet (see #held). */
  held?: boolean;
  /** Handed to the GCM at least once (a copy may be applied somewhere: never stamped anew). */
  sent?: boolean;
};
type Buffered = { op: Op } | { serve: string; rid: string };

/** A change event that decodes `old` and `new` only when read (most listeners read one or neither). */
class LazyChange implements ChangeEvent {
  readonly writer: string;
  readonly stamp: Stamp;
  readonly deleted: boolean;
  readonly key: string;
  readonly oldItem: Item | undefined;
  readonly item: Item;
  readonly transfer: boolean;
  constructor(key: string, oldItem: Item | undefined, item: Item, transfer: boolean) {
    this.key = key;
    this.oldItem = oldItem;
    this.item = item;
    this.transfer = transfer;
    this.writer = item.w;
    this.stamp = item.s;
    this.deleted = item.v === undefined;
  }
  get old(): unknown {
    return this.oldItem?.v === undefined ? undefined : decodeValue(this.oldItem.v);
  }
  get new(): unknown {
    return this.item.v === undefined ? undefined : decodeValue(this.item.v);
  }
}

class AbortSignalError extends Error {}

/** The Group Data Manager of one node. */
export class GroupDataManager {
  readonly #gcm: GroupCommunicationManager;
  readonly #layer: MessageLayer;
  readonly #clock: Clock;
  readonly #channel: number;
  readonly #level: DeliveryLevel;
  readonly #chunkBytes: number;
  readonly #pullTimeoutMs: number;
  readonly #lockTimeoutMs: number;
  readonly #maxOpBytes: number;
  readonly #storage: StorageAdapter | undefined;
  readonly #flushMs: number;
  /** This node as a member, `id#incarnation` (a rejoin after a health-check leave is a new incarnation). */
  #me: string;
  #state: DataState;
  #lamport = 0;
  #seq = 0;
  #closed = false;
  #pending = new Map<string, Waiting>();
  readonly #listeners: { [K in keyof GdmEvents]: Listener<GdmEvents[K]>[] } = {
    change: [],
    conflict: [],
    lock: [],
    synced: [],
  };
  #view: string[];
  #rounds = new Map<string, Map<string, Hello>>();
  #lastRound = "";
  #side: string[];
  #sideVi = -1;
  #views: Array<{ vi: number; m: string[] }> = [];
  /** Request ID of the snapshot request this node multicast and awaits the delivery of. */
  #reqSent: { rid: string; to: string; receiver: SnapshotReceiver } | undefined;
  /** Active pull: buffering from the delivery of our request until the snapshot is in. */
  #pull:
    | { rid: string; to: string; receiver: SnapshotReceiver; buffer: Buffered[] }
    | undefined;
  /** State-transfer watchdog timer (see #armPullTimer). */
  #watchdog: TimerId | undefined;
  /** Primary of the last round this node completed. */
  #lastPrimary: string | undefined;
  #serving = new Set<string>();
  #digests = new Map<string, { primary: string; mine: string }>();
  /** Our own items sent for a merge and not yet seen in the order, by batch ID. */
  #unmerged = new Map<string, { items: Array<readonly [string, Item]>; q: boolean }>();
  #outbox: Op[] = [];
  #outboxLevel: DeliveryLevel = "agreed";
  #outboxBytes = 0;
  #outboxScheduled = false;
  /** A round decided this node must fetch the group's state; cleared when a snapshot is installed. */
  #needsState = false;
  /** A health check turned unhealthy: the GCM's next `leave` is one it undoes by itself (see #onLeave). */
  #healthDown = false;
  /**
   * From a health-check leave until this replica holds the group's data again: operations issued
   * meanwhile wait in #held (not multicast) and go out, stamped anew, at that point (#release).
   */
  #holding = false;
  #held: Array<{ op: Op; level: DeliveryLevel | undefined }> = [];
  /** After a health-check leave, until a merge round with other members (or the rejoin timer) decided. */
  #rejoining = false;
  /**
   * Our items are the copy from before a health-check leave: announced (hello `st`), so that we are
   * not the primary beside a current copy, and merged back quietly (`rc` `q`).
   */
  #stale = false;
  #rejoinTimer: TimerId | undefined;
  /** Post-sync digest checks in a row that found this replica diverged (bounded, see #checkAfterSync). */
  #syncChecks = 0;
  /** Locks with an unlock of ours in flight; lock requests we gave up (time-out). */
  #releasing = new Map<string, number>();
  #abandoned = new Set<string>();
  #dirty = new Map<string, Item>();
  #flushTimer: TimerId | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #replaceOnFlush = false;
  #unsubscribe: Array<() => void> = [];
  /** Diagnostics: operations applied, snapshots served and received, decode errors, pulls, divergences found. */
  readonly stats = { applied: 0, served: 0, received: 0, decodeErrors: 0, pulls: 0, diverged: 0 };

  /**
   * Loads the storage adapter's state, then creates the GDM with it. Call before `gcm.start()`.
   */
  static async open(options: GdmOptions & { storage: StorageAdapter }): Promise<GroupDataManager> {
    const stored = await options.storage.load();
    return new GroupDataManager({ ...options, initial: stored });
  }

  /**
   * A GDM on `options.gcm` (create it before the GCM's first view, e.g. in `createNode`'s
   * `beforeStart`); `GroupDataManager.open()` loads persisted items first.
   */
  constructor(options: GdmOptions) {
    this.#gcm = options.gcm;
    this.#layer = options.layer;
    this.#clock = options.clock ?? new SystemClock();
    this.#channel = options.channel ?? 18;
    this.#level = options.level ?? "agreed";
    this.#chunkBytes = options.chunkBytes ?? 262_144;
    this.#pullTimeoutMs = options.pullTimeoutMs ?? 5000;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    this.#maxOpBytes = options.maxOpBytes ?? 262_144;
    this.#storage = options.storage;
    this.#flushMs = options.flushMs ?? 50;
    this.#me = `${this.#gcm.id}#${this.#gcm.incarnation}`;
    this.#state = emptyState();
    if (options.initial !== undefined) {
      for (const [k, it] of options.initial.items) this.#state.items.set(k, it);
      this.#state.clock = options.initial.clock;
    }
    this.#lamport = this.#state.clock;
    this.#view = this.#gcm.view.detail.map((m) => `${m.id}#${m.inc}`).sort();
    this.#side = [this.#me];
    // Created after gcm.start() (e.g. with createNode): a view of just this node needs no round.
    const v0 = this.#gcm.view;
    if (v0.index > 0 && this.#view.length === 1 && this.#view[0] === this.#me) {
      this.#lastRound = roundKey(this.#view, v0.index);
      this.#sideVi = v0.index;
    }
    this.#unsubscribe.push(
      this.#gcm.onStream(GDM_STREAM, (d) => this.#onDeliver(d.data)),
      this.#gcm.on("view", (v) => this.#onView(v)),
      this.#gcm.on("health", (e) => {
        if (!e.healthy) this.#healthDown = true;
      }),
      this.#gcm.on("leave", (e) => this.#onLeave(e.rejoins)),
      this.#gcm.on("close", () => void this.close()), // flushes persistence too
    );
    this.#layer.onMessage(this.#channel, (from, msg) => this.#onChunk(from, msg));
  }

  // ---- reads ------------------------------------------------------------------------------------

  /** This node's ID. */
  get id(): string {
    return this.#gcm.id;
  }

  /**
   * Whether this replica holds the group's data: false while a state transfer is pending, and from a
   * health-check leave until it holds the group's data again after the rejoin.
   */
  get synced(): boolean {
    return this.#pull === undefined && !this.#needsState && !this.#holding;
  }

  /**
   * Whether the merge round of the current view has completed here and no state transfer is
   * pending: this replica then holds the group's data for this view (diagnostics, simulator).
   */
  get settled(): boolean {
    const v = this.#gcm.view;
    const key = roundKey(v.detail.map((m) => `${m.id}#${m.inc}`).sort(), v.index);
    return this.#pull === undefined && !this.#needsState && !this.#holding && this.#lastRound === key;
  }

  /** The pending state transfer: source (`id#inc`), chunks received, operations buffered (diagnostics). */
  get transfer(): { from: string; chunks: number; buffered: number } | undefined {
    const p = this.#pull;
    return p === undefined
      ? undefined
      : { from: p.to, chunks: p.receiver.received, buffered: p.buffer.length };
  }

  /** Highest Lamport counter applied on this replica. */
  get lamport(): number {
    return this.#state.clock;
  }

  /** The value of `key` on this replica (undefined when absent or deleted). */
  get(key: string): unknown {
    const it = this.#state.items.get(key);
    return it?.v === undefined || isLockKey(key) ? undefined : decodeValue(it.v);
  }

  /** The stored version of `key`: encoded value, stamp, writer (undefined when never written). */
  item(key: string): Item | undefined {
    return this.#state.items.get(key);
  }

  /** Whether `key` holds a value. */
  has(key: string): boolean {
    return !isLockKey(key) && this.#state.items.get(key)?.v !== undefined;
  }

  /** Keys that start with `prefix`, sorted (deleted items left out). */
  keys(prefix = ""): string[] {
    const out: string[] = [];
    for (const [k, it] of this.#state.items) {
      if (it.v !== undefined && k.startsWith(prefix) && !isLockKey(k)) out.push(k);
    }
    return out.sort();
  }

  /** Items whose key starts with `prefix`, sorted by key, as `[key, value]`. */
  list(prefix = ""): Array<[string, unknown]> {
    return this.keys(prefix).map((k) => [k, decodeValue(this.#state.items.get(k)!.v!)]);
  }

  /** Number of live items (locks and deleted items left out). */
  get size(): number {
    let n = 0;
    for (const [k, it] of this.#state.items) if (it.v !== undefined && !isLockKey(k)) n++;
    return n;
  }

  /** Node ID of the owner of lock `name`, or null. */
  lockOwner(name: string): string | null {
    const o = readLock(this.#state, name).o;
    return o === null ? null : idOf(o);
  }

  /**
   * Whether this node (this incarnation) holds lock `name`: it owns it on this replica and has not
   * called `unlock` (or given up waiting) since — from that call on, the lock may already be
   * granted elsewhere.
   */
  holds(name: string): boolean {
    const l = readLock(this.#state, name);
    return !this.#holding && l.o === this.#me && !this.#releasing.has(name) &&
      !(l.r !== null && this.#abandoned.has(l.r));
  }

  /** A copy of all items (tombstones and locks included) and the Lamport counter. */
  snapshot(): Snapshot {
    return { items: [...this.#state.items], clock: this.#state.clock };
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof GdmEvents>(event: K, fn: (event: GdmEvents[K]) => void): () => void {
    const list = this.#listeners[event] as Listener<GdmEvents[K]>[];
    list.push(fn);
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

  // ---- writes -----------------------------------------------------------------------------------

  /**
   * Writes `value` (structured-clone-able data or bytes) under `key`. The write is multicast in the
   * group's total order; the promise resolves when this replica has applied it at its place in that
   * order (so a `get` right after sees it, unless a concurrent write with a higher stamp won), and
   * every member applies it at the same place. Resolves with the write's Lamport stamp.
   * @throws {GdmClosedError} when this GDM was closed, or its node left the group (`gcm.leave()`),
   *   before the write was applied. (After a health-check leave the write waits for the rejoin.)
   * @throws {MulticastTooLargeError} when the encoded write exceeds the GCM's `maxMessageBytes`.
   */
  set(key: string, value: unknown, options: WriteOptions = {}): Promise<Stamp> {
    return this.#write([{ k: checkKey(key), v: encodeValue(value) }], undefined, options.level, "write", key);
  }

  /** Deletes `key` (a tombstone with a stamp, so a merge does not bring it back). Resolves like {@link set}. */
  delete(key: string, options: WriteOptions = {}): Promise<Stamp> {
    return this.#write([{ k: checkKey(key) }], undefined, options.level, "write", key);
  }

  /**
   * Partial update: `{offset, bytes}` overwrites a byte range of a binary value (extending it), or
   * `{path, value}` / `{path, remove: true}` sets or removes a part of a structured value. Resolves
   * like {@link set}.
   * @throws {PatchError} when the patch does not fit the item (applied nowhere).
   */
  patch(key: string, patch: Patch, options: WriteOptions = {}): Promise<Stamp> {
    const p: Patch = "offset" in patch ? { offset: patch.offset, bytes: patch.bytes } : patch;
    return this.#write([{ k: checkKey(key), p }], undefined, options.level, "write", key);
  }

  /**
   * Runs `fn` with a transaction: its writes are buffered and committed as one operation, applied
   * atomically at one point of the total order on every replica, or not at all. With `compare`, the
   * commit aborts when an item read inside changed before the commit point. Resolves with `fn`'s
   * result once the commit is applied here.
   * @throws {TransactionAbortedError} `conflict` (compare failed), `aborted` (`fn` threw or called `abort`), `left`.
   */
  async transaction<T>(
    fn: (tx: Transaction) => T | Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    const writes: WriteSpec[] = [];
    const local = new Map<string, Uint8Array | undefined | "patched">();
    const reads = new Map<string, Stamp | null>();
    const tx: Transaction = {
      get: (key) => {
        if (local.has(key)) {
          const v = local.get(key);
          if (v !== "patched") return v === undefined ? undefined : decodeValue(v);
        }
        const it = this.#state.items.get(key);
        if (!reads.has(key)) reads.set(key, it?.s ?? null);
        let v = it?.v;
        for (const w of writes) if (w.k === key) v = w.p !== undefined ? applyPatchSafe(v, w.p) : w.v;
        return v === undefined ? undefined : decodeValue(v);
      },
      set: (key, value) => {
        const v = encodeValue(value);
        writes.push({ k: checkKey(key), v });
        local.set(key, v);
      },
      delete: (key) => {
        writes.push({ k: checkKey(key) });
        local.set(key, undefined);
      },
      patch: (key, patch) => {
        writes.push({ k: checkKey(key), p: patch });
        local.set(key, "patched");
      },
      abort: (reason = "aborted by the application") => {
        throw new AbortSignalError(reason);
      },
    };
    let result: T;
    try {
      result = await fn(tx);
    } catch (err) {
      if (err instanceof AbortSignalError) throw new TransactionAbortedError("aborted", err.message);
      throw new TransactionAbortedError("aborted", "the transaction function threw", { cause: err });
    }
    if (writes.length === 0) return result;
    const r: ReadSpec[] | undefined = options.compare ? [...reads] : undefined;
    await this.#write(writes, r, options.level, "tx", writes[0].k);
    return result;
  }

  /**
   * Merges another side's snapshot into the group: its items are multicast and every replica keeps,
   * per key, the version with the highest stamp (node ID breaks ties); a `conflict` event reports
   * each key both sides wrote. Large snapshots go in several operations. Resolves when applied here.
   */
  async reconcile(other: Snapshot): Promise<void> {
    const batches = splitItems(other.items, this.#maxOpBytes);
    await Promise.all(batches.map((items) => this.#submitRc(items)));
  }

  /**
   * Acquires lock `name` (itself a data item): the request is ordered with all operations and
   * granted first come, first served; resolves when this node owns it. A lock held by a node that
   * leaves or fails is freed in the view change.
   * @throws {LockTimeoutError} after `timeoutMs`; the request is withdrawn (and released if granted meanwhile).
   * @throws {GdmClosedError} when the GDM is closed, or its node leaves the group (a health check too:
   *   the request is withdrawn; lock again after `synced`).
   */
  lock(name: string, options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? this.#lockTimeoutMs;
    const id = this.#nextId();
    const op: Op = { t: "lock", id, s: this.#nextStamp(), n: name, o: this.#me, vi: this.#gcm.view.index };
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const timer = this.#clock.setTimer(timeoutMs, () => {
        if (settled) return;
        settled = true;
        this.#pending.delete(id);
        this.#abandoned.add(id);
        reject(new LockTimeoutError(name, timeoutMs));
        if (!this.#closed) {
          const cancel: Op = {
            t: "cancel",
            id: this.#nextId(),
            s: this.#nextStamp(),
            n: name,
            o: this.#me,
            q: id,
          };
          this.#submit(cancel, "cancel", name).catch(() => {}).finally(() => this.#abandoned.delete(id));
        }
      });
      this.#submit(op, "lock", name).then(
        () => {
          if (settled) return;
          settled = true;
          this.#clock.clearTimer(timer);
          resolve();
        },
        (err) => {
          if (settled) return;
          settled = true;
          this.#clock.clearTimer(timer);
          reject(err);
        },
      );
    });
  }

  /**
   * Releases lock `name`; the next waiter gets it.
   * @throws {NotLockOwnerError} when this node does not hold it at the unlock's place in the order.
   */
  async unlock(name: string): Promise<void> {
    const held = readLock(this.#state, name);
    const op: Op = {
      t: "unlock",
      id: this.#nextId(),
      s: this.#nextStamp(),
      n: name,
      o: this.#me,
      ...(held.o === this.#me && held.r !== null ? { q: held.r } : {}),
    };
    this.#releasing.set(name, (this.#releasing.get(name) ?? 0) + 1);
    try {
      await this.#submit(op, "unlock", name);
    } finally {
      const n = (this.#releasing.get(name) ?? 1) - 1;
      if (n <= 0) this.#releasing.delete(name);
      else this.#releasing.set(name, n);
    }
  }

  /** Stops: detaches from the GCM, rejects pending operations, flushes persistence. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#fail(new GdmClosedError());
    for (const u of this.#unsubscribe) u();
    if (this.#flushTimer !== undefined) this.#clock.clearTimer(this.#flushTimer);
    this.#flushTimer = undefined;
    await this.#flush();
    await this.#storage?.close();
  }

  // ---- issuing operations ---------------------------------------------------------------------------

  #nextStamp(): Stamp {
    this.#lamport = Math.max(this.#lamport, this.#state.clock) + 1;
    return [this.#lamport, this.#gcm.id];
  }

  #nextId(): string {
    return `${this.#me}#${++this.#seq}`;
  }

  #write(
    w: WriteSpec[],
    r: ReadSpec[] | undefined,
    level: DeliveryLevel | undefined,
    kind: Waiting["kind"],
    key: string,
  ): Promise<Stamp> {
    const op: Op = r === undefined
      ? { t: "w", id: this.#nextId(), s: this.#nextStamp(), w }
      : { t: "w", id: this.#nextId(), s: this.#nextStamp(), w, r };
    return this.#submit(op, kind, key, level) as Promise<Stamp>;
  }

  async #submitRc(items: Array<readonly [string, Item]>): Promise<void> {
    // An rc operation has no issuer ID inside; wait for it by a marker write after it (FIFO per sender).
    this.#send({ t: "rc", s: this.#nextStamp(), items });
    await this.#submit({ t: "w", id: this.#nextId(), s: this.#nextStamp(), w: [] }, "rc", "");
  }

  /**
   * Queues an operation for multicast. Operations issued in the same event-loop turn (and with the
   * same level) leave as one GCM message, flushed on a microtask: fewer token entries and
   * encodings under load, the same order (per-sender FIFO is kept by the single queue).
   */
  #multicast(op: Op, level?: DeliveryLevel): void {
    const lvl = level ?? this.#level;
    if (this.#outbox.length > 0 && (this.#outboxLevel !== lvl || this.#outboxBytes >= this.#maxOpBytes)) {
      this.#flushOutbox();
    }
    this.#outbox.push(op);
    this.#outboxLevel = lvl;
    this.#outboxBytes += opBytes(op);
    if (!this.#outboxScheduled) {
      this.#outboxScheduled = true;
      queueMicrotask(() => {
        this.#outboxScheduled = false;
        this.#flushOutbox();
      });
    }
  }

  /** Multicasts an operation of the application's, or holds it while this node is out of the group. */
  #send(op: Op, level?: DeliveryLevel): void {
    if (this.#holding) this.#held.push({ op, level });
    else this.#multicast(op, level);
  }

  #flushOutbox(): void {
    const ops = this.#outbox;
    if (ops.length === 0) return;
    this.#outbox = [];
    this.#outboxBytes = 0;
    if (this.#closed) return;
    try {
      this.#gcm.multicast(encodeOp(ops.length === 1 ? ops[0] : { t: "b", ops }), {
        level: this.#outboxLevel,
        stream: GDM_STREAM,
      });
      for (const op of ops) {
        if ("id" in op && op.id !== undefined) {
          const w = this.#pending.get(op.id);
          if (w !== undefined) w.sent = true;
        }
      }
    } catch (err) {
      if (err instanceof LeftGroupError && (this.#healthDown || this.#holding)) {
        // Leaving for a health check (the GCM refuses multicasts from then on): the application's
        // operations wait for the rejoin instead of failing.
        this.#hold(ops, this.#outboxLevel);
        return;
      }
      // Too large (the GCM's MulticastTooLargeError, as is) or not a member any more (closed).
      for (const op of ops) {
        if (!("id" in op) || op.id === undefined) continue;
        const w = this.#pending.get(op.id);
        if (w === undefined) continue;
        this.#pending.delete(op.id);
        w.reject(
          err instanceof MulticastTooLargeError
            ? err
            : new GdmClosedError(`the operation could not be multicast: ${(err as Error).message}`),
        );
      }
    }
  }

  #submit(
    op: Op & { id: string },
    kind: Waiting["kind"],
    key: string,
    level?: DeliveryLevel,
  ): Promise<Stamp | undefined> {
    if (this.#closed) return Promise.reject(new GdmClosedError());
    return new Promise<Stamp | undefined>((resolve, reject) => {
      const vi = this.#gcm.view.index;
      this.#pending.set(op.id, { resolve, reject, kind, key, op, level, vi, held: this.#holding });
      this.#send(op, level);
    });
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#watchdog !== undefined) this.#clock.clearTimer(this.#watchdog);
    if (this.#rejoinTimer !== undefined) this.#clock.clearTimer(this.#rejoinTimer);
    this.#held = [];
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) {
      p.reject(p.kind === "tx" ? new TransactionAbortedError("left", err.message, { cause: err }) : err);
    }
  }

  // ---- the total order ------------------------------------------------------------------------------

  #onDeliver(data: Uint8Array): void {
    if (this.#closed) return;
    let op: Op;
    try {
      op = decodeOp(data);
    } catch (err) {
      if (err instanceof DecodeError) {
        this.stats.decodeErrors++;
        return;
      }
      throw err;
    }
    this.#dispatch(op);
  }

  #dispatch(op: Op): void {
    switch (op.t) {
      case "b":
        for (const inner of op.ops) this.#dispatch(inner);
        return;
      case "hello":
        this.#onHello(op);
        return;
      case "req":
        this.#onReq(op);
        return;
      case "digest":
        this.#onDigest(op);
        return;
      case "chk":
        this.#onChk(op);
        return;
      case "rc":
        // Seen in an order that others share: our items are in their replicas now. (Alone, the
        // order is ours only: keep them for the next merge.)
        if (op.o === this.#me && op.id !== undefined && this.#view.length > 1) this.#unmerged.delete(op.id);
        this.#process({ op });
        return;
      default:
        this.#process({ op });
    }
  }

  /** Applies an operation, or buffers it while a state transfer is pending. */
  #process(b: Buffered): void {
    if (this.#pull !== undefined) {
      this.#pull.buffer.push(b);
      return;
    }
    if ("serve" in b) {
      this.#serve(b.serve, b.rid);
      return;
    }
    this.stats.applied++;
    this.#effects(applyOp(this.#state, b.op), false);
  }

  #effects(effects: Effect[], transfer: boolean): void {
    for (const e of effects) {
      if (e.type === "change") {
        this.#persist(e.key, e.item);
        if (isLockKey(e.key)) {
          const before = e.old?.v === undefined ? null : (decodeValue(e.old.v) as { o: string | null }).o;
          const after = e.item.v === undefined ? null : (decodeValue(e.item.v) as { o: string | null }).o;
          if (before !== after) {
            this.#emit("lock", { name: lockNameOf(e.key), owner: after === null ? null : idOf(after) });
          }
          continue;
        }
        if (e.old !== undefined && e.old.v === e.item.v && e.old.s === e.item.s) continue;
        if (this.#listeners.change.length > 0) {
          this.#emit("change", new LazyChange(e.key, e.old, e.item, transfer));
        }
      } else if (e.type === "conflict") {
        this.#emit("conflict", {
          key: e.key,
          winner: e.winner.v === undefined ? undefined : decodeValue(e.winner.v),
          loser: e.loser.v === undefined ? undefined : decodeValue(e.loser.v),
          winnerStamp: e.winner.s,
          loserStamp: e.loser.s,
        });
      } else {
        const w = this.#pending.get(e.id);
        if (w === undefined) continue;
        this.#pending.delete(e.id);
        if (e.error === undefined) w.resolve(e.s);
        else if (e.error === "conflict") w.reject(new TransactionAbortedError("conflict", e.detail ?? ""));
        else if (e.error === "notOwner") {
          w.reject(new NotLockOwnerError(w.key, e.detail ? idOf(e.detail) : null));
        } else {
          const pe = new PatchError(e.detail ?? "patch failed");
          w.reject(w.kind === "tx" ? new TransactionAbortedError("aborted", pe.message, { cause: pe }) : pe);
        }
      }
    }
  }

  #emit<K extends keyof GdmEvents>(event: K, value: GdmEvents[K]): void {
    for (const fn of this.#listeners[event] as Listener<GdmEvents[K]>[]) fn(value);
  }

  // ---- leaving and rejoining (health checks) ------------------------------------------------------

  /**
   * The GCM left the group. A leave the application asked for (`gcm.leave()`, `removeEligible`)
   * ends this GDM; a leave forced by a health check (critical resources, 3.7.3) does not: the GCM
   * rejoins by itself as a new incarnation once every check is healthy, and this GDM then takes a
   * state transfer like any joiner. The GCM's `leave` event does not say which it is; a `health`
   * event that turned unhealthy comes before every leave of the second kind (and `healthy` is still
   * false at the leave unless the check recovered meanwhile, when the GCM rejoins right after).
   */
  #onLeave(rejoins: boolean): void {
    if (this.#closed) return;
    this.#healthDown = false;
    if (rejoins) this.#detach();
    else this.#fail(new GdmClosedError("this node left the group"));
  }

  /**
   * Out of the group for a while: our items stay readable (but stale), operations of the application
   * are held until we hold the group's data again, lock requests of this incarnation are withdrawn
   * (the group frees its locks in the view change), and any transfer in progress is abandoned.
   */
  #detach(): void {
    if (this.#watchdog !== undefined) this.#clock.clearTimer(this.#watchdog);
    this.#watchdog = undefined;
    if (this.#rejoinTimer !== undefined) this.#clock.clearTimer(this.#rejoinTimer);
    this.#rejoinTimer = undefined;
    this.#stale ||= !this.#needsState && this.#state.items.size > 0;
    this.#rejoining = true;
    this.#holding = true;
    this.#pull = undefined;
    this.#reqSent = undefined;
    this.#rounds.clear();
    this.#digests.clear();
    this.#view = [];
    const out = this.#outbox;
    this.#outbox = [];
    this.#outboxBytes = 0;
    this.#hold(out, this.#outboxLevel);
    for (const [id, w] of [...this.#pending]) {
      if (w.held || (w.kind !== "lock" && w.kind !== "unlock" && w.kind !== "cancel")) continue;
      // Multicast by this incarnation, which the group now evicts: its lock requests are void.
      this.#pending.delete(id);
      if (w.kind === "cancel") w.resolve(undefined);
      else if (w.kind === "unlock") w.reject(new NotLockOwnerError(w.key, null));
      else {
        w.reject(
          new GdmClosedError(
            `this node left the group (a health check failed), so its request for lock "${w.key}" was withdrawn; ` +
              "the node rejoins by itself once healthy: lock again after the GDM's `synced` event",
          ),
        );
      }
    }
  }

  /**
   * Keeps the application's operations among `ops` (not multicast) for {@link #release}. A copy of
   * an operation multicast before (#resendPending) is not held: #release sends it again as it was.
   */
  #hold(ops: Op[], level: DeliveryLevel): void {
    this.#holding = true;
    for (const op of ops) {
      const w = "id" in op && op.id !== undefined ? this.#pending.get(op.id) : undefined;
      if (w !== undefined) {
        if (w.sent) continue;
        w.held = true;
        this.#held.push({ op, level });
      } else if (op.t === "rc" && op.o === undefined) this.#held.push({ op, level }); // reconcile()
      // Control operations (hello, req, digest, own merge items) are not the application's: a new
      // round after the rejoin sends what is needed.
    }
  }

  /** The GCM rejoined as `me` (a new incarnation): a new member, with our items as a stale copy. */
  #rejoined(me: string): void {
    if (!this.#rejoining) this.#detach(); // (a leave we did not see)
    this.#me = me;
    this.#healthDown = false;
    this.#side = [me];
    this.#views = [];
    this.#lastRound = "";
    this.#lastPrimary = undefined;
  }

  /**
   * While rejoining alone (the GCM's first view after a rejoin is this node only): after
   * `pullTimeoutMs` with no other member, our copy is all there is — keep it, like a group of one.
   */
  #armRejoinTimer(): void {
    if (this.#rejoinTimer !== undefined) this.#clock.clearTimer(this.#rejoinTimer);
    this.#rejoinTimer = this.#clock.setTimer(this.#pullTimeoutMs, () => {
      this.#rejoinTimer = undefined;
      if (!this.#rejoining || this.#closed) return;
      if (this.#view.length !== 1) {
        this.#armRejoinTimer(); // a round with others is under way (or we are out again)
        return;
      }
      this.#rejoining = false;
      this.#stale = false;
      this.#needsState = false;
      this.#release(true);
    });
  }

  /**
   * This replica holds the group's data again after a health-check leave: our operations still
   * unapplied from before the leave go out again (stamp-guarded, like after any view change), then
   * those issued meanwhile, stamped now (lock operations in the name of the new incarnation).
   */
  #release(emitSynced: boolean): void {
    if (
      !this.#holding || this.#rejoining || this.#stale || this.#needsState || this.#pull !== undefined ||
      this.#closed
    ) return;
    this.#holding = false;
    const vi = this.#gcm.view.index;
    this.#resendPending(vi);
    const held = this.#held;
    this.#held = [];
    const dropped = new Set<string>();
    for (const { op, level } of held) {
      const w = "id" in op && op.id !== undefined ? this.#pending.get(op.id) : undefined;
      if ("id" in op && op.id !== undefined && w === undefined) {
        dropped.add(op.id); // given up meanwhile (lock time-out): never sent, nothing to withdraw
        continue;
      }
      if (op.t === "cancel" && dropped.has(op.q)) {
        this.#pending.delete(op.id);
        w!.resolve(undefined);
        continue;
      }
      const fresh = this.#restamp(op, vi);
      if (w !== undefined) {
        w.op = fresh;
        w.vi = vi;
        w.held = false;
      }
      this.#multicast(fresh, level);
    }
    if (emitSynced) this.#emit("synced", { items: this.size });
  }

  /** A held operation as issued now: a new stamp, and this incarnation as the lock requester. */
  #restamp(op: Op, vi: number): Op {
    switch (op.t) {
      case "w":
      case "rc":
        return { ...op, s: this.#nextStamp() };
      case "lock":
        return { ...op, s: this.#nextStamp(), o: this.#me, vi };
      case "unlock":
      case "cancel":
        return { ...op, s: this.#nextStamp(), o: this.#me };
      default:
        return op;
    }
  }

  // ---- views, merge rounds, state transfer ---------------------------------------------------------------

  #onView(v: ViewEvent): void {
    if (this.#closed) return;
    const me = `${this.#gcm.id}#${this.#gcm.incarnation}`;
    if (me !== this.#me) this.#rejoined(me);
    const members = v.detail.map((m) => `${m.id}#${m.inc}`).sort();
    // Our side is the group of the last round we completed (whose data we share), not merely the
    // last view: a view whose round never completed did not exchange any state.
    const side = this.#side;
    this.#view = members;
    // Members stay on our side only while they are in every view since our last completed round.
    this.#side = this.#side.filter((m) => members.includes(m));
    this.#views.push({ vi: v.index, m: members });
    if (this.#views.length > 64) this.#views.shift();
    const hello: Op = {
      t: "hello",
      m: members,
      vi: v.index,
      me: this.#me,
      side,
      d: this.#needsState ? -1 : this.#state.items.size,
      ...(this.#stale ? { st: true } : {}),
    };
    try {
      // The hand-shake speaks of this view only: bound to it, so a node still waiting to join (or a
      // view that ends before our token visit) never delivers it in a later view, where its evictions
      // would free the locks of members that are in fact present.
      this.#flushOutbox();
      this.#gcm.multicast(encodeOp(hello), { level: "agreed", stream: GDM_STREAM, view: v.id });
    } catch {
      // Left the group: nothing to announce.
    }
    if (this.#rejoining) this.#armRejoinTimer();
  }

  #onHello(h: Hello): void {
    // Every hello frees the locks of owners outside its view (granted in that view or before): a
    // state operation at this hello's place in the order, applied by every replica that holds the
    // group's state at that point (buffered or in the snapshot otherwise).
    this.#process({ op: { t: "evict", m: h.m, vi: h.vi } });
    const key = roundKey(h.m, h.vi);
    let round = this.#rounds.get(key);
    if (round === undefined) {
      round = new Map();
      this.#rounds.set(key, round);
      if (this.#rounds.size > 32) this.#rounds.delete(this.#rounds.keys().next().value!);
    }
    round.set(h.me, h);
    if (!h.m.every((m) => round.has(m))) return;
    this.#rounds.delete(key);
    if (h.m.includes(this.#me) && !this.#holding) this.#resendPending(h.vi);
    if (h.m.includes(this.#me) && h.vi >= this.#sideVi) {
      this.#lastRound = key;
      this.#sideVi = h.vi;
      // A round may complete after later views were seen: keep only members present in those too.
      this.#side = h.m.filter((m) => this.#views.every((v) => v.vi <= h.vi || v.m.includes(m)));
    }
    // The round is complete here, at the same point of the order as on every other member.
    if (!h.m.includes(this.#me)) return;
    if (this.#rejoining) {
      // Back after a health-check leave, the GCM first commits a view of this node alone: our copy is
      // stale, so decide nothing until the group (or the rejoin timer) is there.
      if (h.m.length === 1) return;
      this.#rejoining = false;
      if (this.#rejoinTimer !== undefined) this.#clock.clearTimer(this.#rejoinTimer);
      this.#rejoinTimer = undefined;
    }
    const d = decideRound([...round.values()]);
    this.#lastPrimary = d.primary;
    // Our own merge items not yet seen in the order (lost in a view change) go out again, whatever
    // our role now: the snapshot we installed meanwhile may not contain them.
    if (this.#unmerged.size > 0) this.#resendOwnItems();
    if (!d.pullers.has(this.#me)) {
      // We pull from nobody: our items are the group's now (we are its primary, share its side, or
      // nobody else holds data), stale or not.
      this.#stale = false;
      if (d.primary === this.#me && (this.#needsState || this.#pull !== undefined)) {
        // An earlier round made us pull, but this later one (our hello announced our items) made us
        // its primary: the others fetch from us, so our state is the group's — keep it, with what we
        // buffered. Pulling on would discard our writes made since, with nobody holding them.
        this.#needsState = false;
        this.#reqSent = undefined;
        if (this.#watchdog !== undefined) this.#clock.clearTimer(this.#watchdog);
        this.#watchdog = undefined;
        if (this.#pull !== undefined) this.#finishPull(undefined);
      }
    }
    if (
      !d.pullers.has(this.#me) && d.primary !== undefined && !this.#needsState && this.#pull === undefined
    ) {
      // Second check: our state at this point of the order must equal the primary's. The primary
      // announces its digest; a member whose digest differs (it missed or gained an operation
      // the primary did not) reconciles and pulls like a member of another side.
      this.#digests.set(key, { primary: d.primary, mine: digestState(this.#state) });
      if (this.#digests.size > 16) this.#digests.delete(this.#digests.keys().next().value!);
      if (d.primary === this.#me) {
        try {
          this.#multicast(
            { t: "digest", round: key, me: this.#me, dg: this.#digests.get(key)!.mine },
            "agreed",
          );
        } catch {
          // left the group
        }
      }
      this.#release(true);
      return;
    }
    if (!d.pullers.has(this.#me)) {
      if (d.primary === undefined && this.#needsState) {
        // No member holds data any more: start from what we have, like everybody else.
        this.#needsState = false;
        this.#reqSent = undefined;
        if (this.#pull !== undefined) this.#finishPull(undefined);
      }
      this.#release(true);
      return;
    }
    // Our side's items go back into the group (merged by stamp everywhere) before we pull.
    if (d.reconcilers.has(this.#me) && !this.#needsState) this.#sendOwnItems();
    this.#needsState = true;
    this.#requestSnapshot(d.primary!);
    this.#armPullTimer();
  }

  #onDigest(op: Extract<Op, { t: "digest" }>): void {
    const mine = this.#digests.get(op.round);
    if (mine === undefined || mine.primary !== op.me) return;
    this.#digests.delete(op.round);
    const afterSync = op.round.startsWith("chk|");
    if (mine.mine === op.dg) {
      if (afterSync) this.#syncChecks = 0;
      return;
    }
    if (this.#needsState || this.#pull !== undefined || this.#closed) return;
    if (afterSync) this.#syncChecks++;
    this.stats.diverged++;
    this.#sendOwnItems();
    this.#needsState = true;
    this.#requestSnapshot(op.me);
    this.#armPullTimer();
  }

  /**
   * Last-resort check after a state transfer (or after giving up on one): the member we synced from
   * may itself have been behind (a retry asks any member; a source may have missed an operation in
   * a view change), and the round's digest check covers only members that did not pull. We ask the
   * last round's primary (else the lowest-ID other member) to announce its digest at the place of
   * our `chk` in the order and compare ours at the same place (#onDigest): a difference makes us
   * reconcile and pull from it. At most three such repairs in a row, so that a disagreement that
   * does not go away cannot keep two members transferring for ever.
   */
  #checkAfterSync(): void {
    if (this.#syncChecks >= 3 || this.#closed || this.#holding) return;
    const primary = this.#lastPrimary;
    const to = primary !== undefined && primary !== this.#me && this.#view.includes(primary)
      ? primary
      : this.#view.find((m) => m !== this.#me);
    if (to === undefined) return;
    try {
      this.#multicast({ t: "chk", round: `chk|${this.#me}#${++this.#seq}`, from: this.#me, to }, "agreed");
    } catch {
      // left the group
    }
  }

  /** A post-sync check (see #checkAfterSync): the asker and the asked take their digest here. */
  #onChk(op: Extract<Op, { t: "chk" }>): void {
    if (op.from !== this.#me && op.to !== this.#me) return;
    if (this.#needsState || this.#pull !== undefined || this.#holding || this.#closed) return;
    const mine = digestState(this.#state);
    if (op.from === this.#me) {
      this.#digests.set(op.round, { primary: op.to, mine });
      if (this.#digests.size > 16) this.#digests.delete(this.#digests.keys().next().value!);
    }
    if (op.to === this.#me && op.from !== this.#me) {
      try {
        this.#multicast({ t: "digest", round: op.round, me: this.#me, dg: mine }, "agreed");
      } catch {
        // left the group
      }
    }
  }

  /**
   * Multicasts our own items for a merge (as `rc` batches) and keeps them until each batch came
   * back in the order: our state is about to be replaced by a snapshot, and a batch lost in a view
   * change must be sent again, or writes only we hold would be lost.
   */
  #sendOwnItems(): void {
    for (const items of splitItems([...this.#state.items], this.#maxOpBytes)) {
      const id = `${this.#me}#rc${++this.#seq}`;
      // A stale copy (kept over a health-check leave) holds no write made since: merged quietly.
      const q = this.#stale;
      this.#unmerged.set(id, { items, q });
      this.#multicast({ t: "rc", s: this.#nextStamp(), items, o: this.#me, id, ...(q ? { q } : {}) });
    }
  }

  #resendOwnItems(): void {
    for (const [id, { items, q }] of this.#unmerged) {
      this.#multicast({ t: "rc", s: this.#nextStamp(), items, o: this.#me, id, ...(q ? { q } : {}) });
    }
  }

  /**
   * After a snapshot is installed: our pending operations that the snapshot already reflects
   * (applied at the source before our request, e.g. a copy multicast again after a view change) are
   * settled here, since their delivery before the snapshot point was not applied on this replica.
   */
  #settleFromSnapshot(): void {
    for (const [id, w] of [...this.#pending]) {
      if (w.held) continue; // not multicast yet: it goes out, stamped anew, after the transfer
      const op = w.op;
      let done = false;
      if (op.t === "w") {
        const cmp = (k: string) => {
          const it = this.#state.items.get(k);
          return it === undefined ? -1 : compareStamps(it.s, op.s);
        };
        done = op.r === undefined ? op.w.every((x) => cmp(x.k) >= 0) : op.w.every((x) => cmp(x.k) === 0);
      } else if (op.t === "lock") done = readLock(this.#state, op.n).r === id;
      if (!done) continue;
      this.#pending.delete(id);
      w.resolve("s" in op ? op.s : undefined);
    }
  }

  /**
   * Multicasts again our operations that were multicast before view `vi` and are still not applied:
   * a message can be lost in a view change. Applying a copy twice is harmless — writes are
   * stamp-guarded, lock requests and releases name their request, a transaction's second copy
   * finds its own writes and changes nothing.
   */
  #resendPending(vi: number): void {
    for (const w of this.#pending.values()) {
      if (w.vi >= vi || w.held) continue;
      w.vi = vi;
      this.#multicast(w.op, w.level);
    }
  }

  #requestSnapshot(to: string): void {
    const rid = `${this.#me}#r${++this.#seq}`;
    // Chunks may overtake the delivery of our own request here: collect them from now on.
    this.#reqSent = { rid, to, receiver: new SnapshotReceiver(rid) };
    try {
      this.#multicast({ t: "req", rid, to, from: this.#me }, "agreed");
    } catch {
      this.#reqSent = undefined;
    }
  }

  #onReq(op: Extract<Op, { t: "req" }>): void {
    if (op.from === this.#me && this.#reqSent?.rid === op.rid) {
      // Our request's place in the order is the snapshot point: everything before is in the
      // snapshot, everything after is buffered and applied on top of it.
      const receiver = this.#reqSent.receiver;
      this.#reqSent = undefined;
      this.#pull = { rid: op.rid, to: op.to, receiver, buffer: [] };
      this.stats.pulls++;
      if (receiver.complete) this.#finishPull(receiver.state());
      else this.#armPullTimer();
      return;
    }
    if (op.to === this.#me) this.#process({ serve: op.from, rid: op.rid });
  }

  /**
   * The state-transfer watchdog, armed while this node needs state: every `pullTimeoutMs` without a
   * new chunk it asks again — the same source while it is a member; else the primary of the last
   * round, or the lowest-ID member; when that is this node (nobody else can serve), it keeps its
   * own state and applies what it buffered. Covers requests lost in a view change and sources that
   * left after the round that chose them.
   */
  #armPullTimer(): void {
    if (this.#watchdog !== undefined) this.#clock.clearTimer(this.#watchdog);
    this.#watchdog = undefined;
    if (!this.#needsState || this.#closed) return;
    const progress = (this.#pull?.receiver.received ?? 0) + (this.#reqSent?.receiver.received ?? 0);
    this.#watchdog = this.#clock.setTimer(this.#pullTimeoutMs, () => {
      this.#watchdog = undefined;
      if (!this.#needsState || this.#closed) return;
      const now = (this.#pull?.receiver.received ?? 0) + (this.#reqSent?.receiver.received ?? 0);
      if (now === progress) this.#retryPull();
      this.#armPullTimer();
    });
  }

  #retryPull(): void {
    const target = this.#reqSent?.to ?? this.#pull?.to;
    if (target !== undefined && target !== this.#me && this.#view.includes(target)) {
      this.#requestSnapshot(target);
      return;
    }
    const primary = this.#lastPrimary;
    // Never ourselves: the lowest-ID member may be this node while others hold the state.
    const source = primary !== undefined && primary !== this.#me && this.#view.includes(primary)
      ? primary
      : this.#view.find((m) => m !== this.#me);
    if (source !== undefined) {
      this.#requestSnapshot(source);
      return;
    }
    // Nobody else can serve: keep our own state, like a group of one.
    this.#needsState = false;
    this.#stale = false;
    this.#reqSent = undefined;
    if (this.#pull !== undefined) this.#finishPull(undefined);
    else this.#release(true);
  }

  #serve(to: string, rid: string): void {
    if (this.#closed) return;
    const snap = { items: [...this.#state.items], clock: this.#state.clock };
    this.stats.served++;
    this.#serving.add(rid);
    // A failed transfer needs no handling here: the puller's watchdog asks another source.
    const done = () => this.#serving.delete(rid);
    sendSnapshot(this.#layer, this.#channel, idOf(to), rid, snap, this.#chunkBytes, () => this.#closed).then(
      done,
      done,
    );
  }

  #onChunk(_from: string, bytes: Uint8Array): void {
    if (this.#closed || (this.#pull === undefined && this.#reqSent === undefined)) return;
    let chunk;
    try {
      chunk = decodeChunk(bytes.slice());
    } catch (err) {
      if (err instanceof DecodeError) {
        this.stats.decodeErrors++;
        return;
      }
      throw err;
    }
    if (chunk.rid === this.#reqSent?.rid) {
      this.#reqSent.receiver.add(chunk); // early: our request's place in the order is not known here yet
      return;
    }
    if (this.#pull === undefined || chunk.rid !== this.#pull.rid) return;
    this.#pull.receiver.add(chunk);
    this.#armPullTimer();
    if (this.#pull.receiver.complete) this.#finishPull(this.#pull.receiver.state());
  }

  /** Installs the snapshot (or keeps the own state when no source is left), then applies the buffer. */
  #finishPull(snapshot: DataState | undefined): void {
    const pull = this.#pull!;
    this.#pull = undefined;
    // A later round may have asked for state again while this transfer ran: still needed then (its
    // request, once delivered, starts a pull with its own watchdog).
    this.#needsState = this.#reqSent !== undefined;
    let old: DataState | undefined;
    if (snapshot !== undefined) {
      this.stats.received++;
      old = this.#state;
      this.#state = snapshot;
      this.#lamport = Math.max(this.#lamport, snapshot.clock);
      const effects: Effect[] = [];
      for (const [k, it] of snapshot.items) {
        const o = old.items.get(k);
        if (o === undefined || o.s[0] !== it.s[0] || o.s[1] !== it.s[1] || o.v !== it.v) {
          effects.push({ type: "change", key: k, old: o, item: it });
        }
      }
      for (const [k, o] of old.items) {
        if (!snapshot.items.has(k) && o.v !== undefined) {
          effects.push({ type: "change", key: k, old: o, item: { s: o.s, w: o.w } });
        }
      }
      this.#replaceOnFlush = true;
      this.#effects(effects, true);
    }
    for (const b of pull.buffer) this.#process(b);
    if (snapshot !== undefined) this.#settleFromSnapshot();
    if (old !== undefined) this.#returnMissing(old);
    if (this.#pull === undefined && !this.#needsState) {
      this.#stale = false;
      this.#release(false);
      this.#emit("synced", { items: this.size });
      this.#checkAfterSync();
    }
  }

  /**
   * After a snapshot replaced our items: versions we held that the group's state lacks (absent, or
   * with a lower stamp) go back into the group as a merge, so that no write is lost with our copy.
   * Normally there are none — they were in the order before our request, or our side's reconciler
   * brought them — but that reconciler may have failed before its items were delivered (a side of
   * several members sends one copy), or a view change may have lost them.
   */
  #returnMissing(old: DataState): void {
    const missing: Array<readonly [string, Item]> = [];
    for (const [k, it] of old.items) {
      const cur = this.#state.items.get(k);
      if (cur === undefined || compareStamps(it.s, cur.s) > 0) missing.push([k, it]);
    }
    if (missing.length === 0) return;
    const q = this.#stale; // a stale copy's versions are merged quietly (see #sendOwnItems)
    for (const items of splitItems(missing, this.#maxOpBytes)) {
      const id = `${this.#me}#rc${++this.#seq}`;
      this.#unmerged.set(id, { items, q });
      this.#multicast({ t: "rc", s: this.#nextStamp(), items, o: this.#me, id, ...(q ? { q } : {}) });
    }
  }

  // ---- persistence ----------------------------------------------------------------------------------

  #persist(key: string, item: Item): void {
    if (this.#storage === undefined) return;
    this.#dirty.set(key, item);
    if (this.#flushTimer === undefined) {
      this.#flushTimer = this.#clock.setTimer(this.#flushMs, () => {
        this.#flushTimer = undefined;
        void this.#flush();
      });
    }
  }

  /** Writes pending changes to the storage adapter (also called by {@link close}). */
  flush(): Promise<void> {
    return this.#flush();
  }

  #flush(): Promise<void> {
    const storage = this.#storage;
    if (storage === undefined) return Promise.resolve();
    this.#flushing = this.#flushing.then(async () => {
      if (this.#dirty.size === 0 && !this.#replaceOnFlush) return;
      const replace = this.#replaceOnFlush;
      this.#replaceOnFlush = false;
      const items = replace ? [...this.#state.items] : [...this.#dirty];
      this.#dirty.clear();
      await storage.write({ items, clock: this.#state.clock, replace });
    }).catch(() => {});
    return this.#flushing;
  }
}

function checkKey(key: string): string {
  if (typeof key !== "string") throw new TypeError("a GDM key must be a string");
  if (isLockKey(key)) throw new RangeError("keys starting with U+0001 are reserved for locks");
  return key;
}

function applyPatchSafe(v: Uint8Array | undefined, p: Patch): Uint8Array | undefined {
  try {
    return applyPatch(v, p);
  } catch {
    return v;
  }
}

/** Rough encoded size of an operation (batching bound). */
function opBytes(op: Op): number {
  if (op.t === "w") {
    let n = 64;
    for (const w of op.w) {
      n += w.k.length + (w.v?.length ?? 0) +
        ("p" in w && w.p !== undefined ? ("bytes" in w.p ? w.p.bytes.length : 256) : 0);
    }
    return n;
  }
  if (op.t === "rc") {
    let n = 64;
    for (const [k, it] of op.items) n += k.length + (it.v?.length ?? 0) + 48;
    return n;
  }
  return 128;
}

/** Splits items into batches of at most about `maxBytes` (one big item still goes alone). */
function splitItems(
  items: ReadonlyArray<readonly [string, Item]>,
  maxBytes: number,
): Array<Array<readonly [string, Item]>> {
  const out: Array<Array<readonly [string, Item]>> = [];
  let cur: Array<readonly [string, Item]> = [];
  let bytes = 0;
  for (const e of items) {
    const sz = e[0].length + (e[1].v?.length ?? 0) + 64;
    if (cur.length > 0 && bytes + sz > maxBytes) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(e);
    bytes += sz;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
