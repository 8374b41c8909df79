/**
 * What the GDM core asks its driver to do (raft's `Ready`): multicast, send directly, set or cancel a
 * timer, tell the application, settle a request, persist a group commit. The driver carries them out
 * on the GCM, the Transport Manager, the Clock and the storage adapter, and feeds the outcomes back to
 * the core as events.
 * @module
 */
import type { DeliveryLevel } from "../gcm/types.ts";
import type { Item, LockHolder } from "./model.ts";
import type { StorageBatch } from "./storage.ts";
import type { TransferProgress } from "./transfer.ts";

/**
 * Timers of the core, by name: the outbox flush, the transfer watchdog, the retry of a failed commit,
 * and a lock request's time-out (`lock:` + its request number).
 */
export type TimerName = "flush" | "watchdog" | "commit" | `lock:${number}`;

/** Something the application hears about (the manager turns these into its public events). */
export type Notification =
  | {
    readonly event: "change";
    readonly key: string;
    readonly old?: Item;
    readonly item: Item;
    readonly transfer: boolean;
  }
  | { readonly event: "conflict"; readonly key: string; readonly winner: Item; readonly loser: Item }
  | { readonly event: "lock"; readonly name: string; readonly holder?: LockHolder }
  | { readonly event: "synced"; readonly items: number }
  | {
    readonly event: "transfer";
    readonly from: string;
    readonly progress: TransferProgress;
    readonly done: boolean;
  }
  | { readonly event: "error"; readonly error: Error };

/** An action of the core. */
export type CoreAction =
  /** Multicast a batch on the GDM stream; `tag` comes back in `multicastFailed` if the GCM refuses it. */
  | {
    readonly type: "multicast";
    readonly data: Uint8Array;
    readonly level: DeliveryLevel;
    /** Order it only in this view (the round's hello). */
    readonly view?: string;
    readonly tag: number;
  }
  /** Send directly to node `to`; with `tag`, report the outcome (`sent`). */
  | { readonly type: "send"; readonly to: string; readonly data: Uint8Array; readonly tag?: string }
  /** (Re)arm timer `name` (`delayMs < 0`: cancel it); it fires back as `timer(name)`. */
  | { readonly type: "timer"; readonly name: TimerName; readonly delayMs: number }
  | { readonly type: "notify"; readonly notification: Notification }
  /** Resolve request `request` with `value`, or reject it with `error`. */
  | { readonly type: "settle"; readonly request: number; readonly value?: unknown; readonly error?: Error }
  /** Persist group commit `id` (the outcome comes back as `stored` or `storeFailed`). */
  | { readonly type: "persist"; readonly id: number; readonly batch: StorageBatch };
