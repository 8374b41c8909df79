/**
 * The options of a Group Data Manager, their defaults, and the checks that turn them into the core's
 * settings (one place for each default).
 * @module
 */
import type { Clock } from "../base/clock.ts";
import type { MessageLayer } from "../gcm/layer.ts";
import type { GroupCommunicationManager } from "../gcm/manager.ts";
import type { DeliveryLevel } from "../gcm/types.ts";
import type { Durability } from "./requests.ts";
import type { StorageAdapter, StoredState } from "./storage.ts";

/** Options of {@link GroupDataManager}. */
export interface GdmOptions {
  /**
   * The group to replicate over (`three-phase` or `two-phase` mode: `every-token` does not give the
   * members of a view the same messages, and is refused). Create the GDM before `gcm.start()`, or in
   * `createNode`'s `beforeStart`, so it sees the first view.
   */
  gcm: GroupCommunicationManager;
  /** The layer for state transfer (the same Transport Manager the GCM runs on). */
  layer: MessageLayer;
  /** Time source (lock time-outs, transfer watchdog, batching). @default {the GCM's clock} */
  clock?: Clock;
  /** Transport Manager channel of state transfer and other direct messages. @default {18} */
  channel?: number;
  /**
   * Delivery level of writes: `agreed` (applied in the total order as soon as it is known) or `safe`
   * (applied once every member holds it). With `quorum`, every operation is `safe`. @default {"agreed"}
   */
  level?: DeliveryLevel;
  /**
   * When a write's promise resolves: `memory` (applied here), `written` (also handed to the operating
   * system by this member's storage), `fsync` (also on this member's disk, file and directory; with
   * `level: "safe"`, on every member's). Without `storage` every write is `memory`.
   * @default {"fsync" with storage, "memory" without}
   */
  durability?: Durability;
  /**
   * Quorum policy: only a primary component — a view with more than `expectedSize / 2` members (the
   * GCM's `expectedSize`) — applies operations and grants locks; elsewhere requests wait. Every
   * operation is then `safe`. Fencing tokens are unique across partitions only with it.
   * @default {false}
   */
  quorum?: boolean;
  /** Size of a state-transfer chunk in bytes. @default {262144} */
  chunkBytes?: number;
  /** A puller asks another source when no chunk came for this long, ms. @default {5000} */
  pullTimeoutMs?: number;
  /** Default time-out of `lock()`, ms. @default {10000} */
  lockTimeoutMs?: number;
  /** Largest batch of operations multicast at once, bytes (merges are split to fit). @default {262144} */
  maxOpBytes?: number;
  /** Persistence adapter; load its state with `GroupDataManager.open`. @default {none} */
  storage?: StorageAdapter;
  /** What the storage adapter loaded (`GroupDataManager.open` passes it). @default {nothing} */
  initial?: StoredState;
}

/** The settings a manager runs with, every option resolved and checked. */
export interface GdmSettings {
  channel: number;
  level: DeliveryLevel;
  durability: Durability;
  quorum: boolean;
  chunkBytes: number;
  pullTimeoutMs: number;
  lockTimeoutMs: number;
  maxOpBytes: number;
}

const DURABILITIES: readonly Durability[] = ["memory", "written", "fsync"];

/**
 * Resolves every option to its value (defaults as documented on {@link GdmOptions}) and checks it.
 * @throws {RangeError} naming the option, for a value outside its range.
 */
export function resolveGdmOptions(o: GdmOptions): GdmSettings {
  const positive = {
    chunkBytes: o.chunkBytes,
    pullTimeoutMs: o.pullTimeoutMs,
    maxOpBytes: o.maxOpBytes,
  };
  for (const [k, v] of Object.entries(positive)) {
    if (v !== undefined && !(v > 0 && Number.isFinite(v))) {
      throw new RangeError(`'${k}' must be positive, got ${v}`);
    }
  }
  if (o.lockTimeoutMs !== undefined && !(o.lockTimeoutMs > 0)) {
    throw new RangeError(`'lockTimeoutMs' must be positive, got ${o.lockTimeoutMs}`);
  }
  if (o.level !== undefined && o.level !== "agreed" && o.level !== "safe") {
    throw new RangeError(`'level' must be "agreed" or "safe", got ${String(o.level)}`);
  }
  if (o.durability !== undefined && !DURABILITIES.includes(o.durability)) {
    throw new RangeError(
      `'durability' must be one of ${DURABILITIES.join(", ")}, got ${String(o.durability)}`,
    );
  }
  if (o.channel !== undefined && !(Number.isInteger(o.channel) && o.channel >= 0 && o.channel <= 255)) {
    throw new RangeError(`'channel' must be an integer 0..255, got ${o.channel}`);
  }
  return {
    channel: o.channel ?? 18,
    level: o.level ?? "agreed",
    durability: o.durability ?? (o.storage === undefined ? "memory" : "fsync"),
    quorum: o.quorum ?? false,
    chunkBytes: o.chunkBytes ?? 262_144,
    pullTimeoutMs: o.pullTimeoutMs ?? 5000,
    lockTimeoutMs: o.lockTimeoutMs ?? 10_000,
    maxOpBytes: o.maxOpBytes ?? 262_144,
  };
}
