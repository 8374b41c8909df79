/**
 * What a Group Data Manager tells the application: the event types, and how they are built from the
 * core's notifications (values are decoded only when a listener reads them).
 * @module
 */
import type { ListenerErrorEvent } from "../base/emitter.ts";
import type { Notification } from "./actions.ts";
import { type Item, nodeOf } from "./model.ts";
import type { Stamp } from "./stamp.ts";
import { decodeValue } from "./value.ts";

/** A change to an item, applied on this replica. `old` and `new` are decoded when read. */
export interface ChangeEvent {
  /** Key. */
  readonly key: string;
  /** Previous value (undefined: absent or deleted). */
  readonly old: unknown;
  /** New value (undefined: deleted). */
  readonly new: unknown;
  /** Node ID of the writer. */
  readonly writer: string;
  /** Lamport stamp of the write. */
  readonly stamp: Stamp;
  /** True when the item was deleted. */
  readonly deleted: boolean;
  /** True when the change came with a state transfer rather than with an operation. */
  readonly transfer: boolean;
}

/** Two sides wrote the same item while apart; the winner (highest stamp) is now on every replica. */
export interface ConflictEvent {
  /** Key. */
  key: string;
  /** Value that won (undefined: deleted). */
  winner: unknown;
  /** Value that lost. */
  loser: unknown;
  /** Stamp of the winner (its node is the writer). */
  winnerStamp: Stamp;
  /** Stamp of the loser. */
  loserStamp: Stamp;
}

/** The holder of a lock changed. */
export interface LockEvent {
  /** Lock name. */
  name: string;
  /** Node ID of the new holder, or null when free. */
  owner: string | null;
  /** Fencing token of the new grant (0 when free). */
  token: number;
}

/** Progress of a state transfer to this member. */
export interface TransferEvent {
  /** Node ID of the source. */
  from: string;
  /** Items received so far. */
  items: number;
  /** Bytes of items received so far (about). */
  bytes: number;
  /** Items of the whole snapshot. */
  totalItems: number;
  /** Bytes of items of the whole snapshot (about). */
  totalBytes: number;
  /** The snapshot is installed. */
  done: boolean;
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
   * This replica holds the group's data (again): after its first round, a state transfer, or a
   * health-check leave and rejoin.
   */
  synced: { items: number };
  /** A chunk of a state transfer arrived (and once more when it is installed). */
  transfer: TransferEvent;
  /**
   * A listener threw (`event`: its event), storage failed (`event: "storage"`, a `StorageError`;
   * writes waiting for it reject too), or replicas that must agree did not (`event: "replica"`).
   */
  error: ListenerErrorEvent;
}

/** A change event that decodes `old` and `new` only when read (most listeners read one or neither). */
class LazyChange implements ChangeEvent {
  readonly key: string;
  readonly writer: string;
  readonly stamp: Stamp;
  readonly deleted: boolean;
  readonly transfer: boolean;
  readonly #old: Item | undefined;
  readonly #item: Item;
  constructor(key: string, old: Item | undefined, item: Item, transfer: boolean) {
    this.key = key;
    this.#old = old;
    this.#item = item;
    this.transfer = transfer;
    this.writer = item.stamp[1];
    this.stamp = item.stamp;
    this.deleted = item.value === undefined;
  }
  get old(): unknown {
    return this.#old?.value === undefined ? undefined : decodeValue(this.#old.value);
  }
  get new(): unknown {
    return this.#item.value === undefined ? undefined : decodeValue(this.#item.value);
  }
}

/** The event (name and value) a notification of the core becomes. */
export function eventOf(n: Notification): { [K in keyof GdmEvents]: [K, GdmEvents[K]] }[keyof GdmEvents] {
  switch (n.event) {
    case "change":
      return ["change", new LazyChange(n.key, n.old, n.item, n.transfer)];
    case "conflict":
      return ["conflict", {
        key: n.key,
        winner: n.winner.value === undefined ? undefined : decodeValue(n.winner.value),
        loser: n.loser.value === undefined ? undefined : decodeValue(n.loser.value),
        winnerStamp: n.winner.stamp,
        loserStamp: n.loser.stamp,
      }];
    case "lock":
      return ["lock", {
        name: n.name,
        owner: n.holder === undefined ? null : nodeOf(n.holder.owner),
        token: n.holder?.fence ?? 0,
      }];
    case "synced":
      return ["synced", { items: n.items }];
    case "transfer":
      return ["transfer", {
        from: nodeOf(n.from),
        items: n.progress.items,
        bytes: n.progress.bytes,
        totalItems: n.progress.totalItems,
        totalBytes: n.progress.totalBytes,
        done: n.done,
      }];
    case "error":
      return ["error", { event: n.error.name === "StorageError" ? "storage" : "replica", error: n.error }];
  }
}
