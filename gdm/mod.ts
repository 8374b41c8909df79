/**
 * Group Data Manager (3.10): replicated data items over a GCM group — get/set/delete/patch/list,
 * Lamport stamps, locks, transactions, state transfer, merge reconciliation, optional persistence.
 * Loads in browsers (the file storage adapter is a separate module that imports `node:fs` lazily).
 * @module
 */
export {
  type ChangeEvent,
  type ConflictEvent,
  type GdmEvents,
  type GdmOptions,
  GroupDataManager,
  type LockEvent,
  type Snapshot,
  type Transaction,
  type TransactionOptions,
  type WriteOptions,
} from "./manager.ts";
export {
  GdmClosedError,
  LockTimeoutError,
  NotLockOwnerError,
  PatchError,
  TransactionAbortedError,
} from "./errors.ts";
export { compareStamps, type Stamp } from "./stamp.ts";
export type { Chunk, Op, ReadSpec, WriteSpec } from "./ops.ts";
export { applyOp, type DataState, type Effect, emptyState, type Item, reconcileItems } from "./state.ts";
export { decodeValue, encodeValue, type Patch, type Path } from "./value.ts";
export { MemoryStorage, type StorageAdapter, type StorageBatch, type StoredState } from "./storage.ts";
export { FileStorage } from "./storage_file.ts";
export { type IdbFactoryLike, IndexedDbStorage } from "./storage_idb.ts";
