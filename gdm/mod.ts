/**
 * Group Data Manager (3.10): replicated data items over a GCM group — get/set/delete/patch/list,
 * Lamport stamps, locks with fencing tokens, transactions (compare-and-set), state transfer, merges of
 * sides that were apart, and durable storage with group commit. The core is pure (`GdmCore`: events
 * in, actions out); the manager drives it. Loads in browsers (the file storage adapter imports
 * `node:fs` lazily).
 * @module
 */
export {
  GroupDataManager,
  type LockOptions,
  type Snapshot,
  type Transaction,
  type TransactionOptions,
  type WriteOptions,
} from "./manager.ts";
export type { ChangeEvent, ConflictEvent, GdmEvents, LockEvent, TransferEvent } from "./events.ts";
export type { GdmOptions } from "./options.ts";
export type { Durability } from "./requests.ts";
export {
  GdmClosedError,
  LockTimeoutError,
  NotLockOwnerError,
  OutcomeUnknownError,
  PatchError,
  ReplicaDivergedError,
  StorageError,
  TransactionAbortedError,
  UnsupportedGcmError,
} from "./errors.ts";
export { compareStamps, type Stamp } from "./stamp.ts";
export type { Item, LockHolder, LockState, LockWaiter, ReadSpec, WriteSpec } from "./model.ts";
export { type CoreSettings, type CoreStats, GdmCore, type RequestSpec, type ViewInput } from "./core.ts";
export type { CoreAction, Notification, TimerName } from "./actions.ts";
export type { TransferProgress } from "./transfer.ts";
export { decodeValue, encodeValue, type Patch, type Path } from "./value.ts";
export {
  MemoryStorage,
  type StorageAdapter,
  type StorageBatch,
  type StorageWriteResult,
  type StoredState,
} from "./storage.ts";
export { FileStorage } from "./storage_file.ts";
export { type IdbFactoryLike, IndexedDbStorage } from "./storage_idb.ts";
