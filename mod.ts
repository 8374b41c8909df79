/**
 * raincore: turn peers — server processes, edge nodes, browser tabs — into one fault-tolerant
 * cluster (the Raincore protocols). This module is the public API; it loads in Node, Deno and
 * browsers alike (backends that need a runtime feature, such as UDP, load it only when created).
 *
 * ```ts
 * import { createNode, createUdpTransport, GroupDataManager } from "./mod.ts";
 * const node = createNode({ id: "a", transports: [await createUdpTransport({ port: 7001 })],
 *   peers: { b: ["udp://127.0.0.1:7002"] } });
 * node.gcm.on("view", (v) => console.log(v.members));
 * ```
 *
 * Sub-paths: `./transport` (Transport Manager, backends, simulator), `./gcm` (token ring internals
 * as well), `./gdm`, `./min` (here as the `min` namespace).
 * @module
 */

export * from "./transport/mod.ts";
export {
  createNode,
  type CreateNodeOptions,
  type DeliverEvent,
  type DeliveryLevel,
  type GcmEvents,
  type GcmMetrics,
  type GcmNode,
  type GcmOptions,
  type GcmState,
  GroupCommunicationManager,
  type HealthCheckOptions,
  type LeaveEvent,
  LeftGroupError,
  type Listener,
  type ListenerErrorEvent,
  type LogEntry,
  type Logger,
  type LogLevel,
  type MergeEvent,
  type MessageLayer,
  MulticastBackpressureError,
  type MulticastOptions,
  MulticastTooLargeError,
  type NodeMetrics,
  NotMemberError,
  resolveTiming,
  TimeoutError,
  TimingError,
  type TimingOptions,
  type TransitionalEvent,
  type ViewEvent,
  type ViewMode,
  type WaitOptions,
  watchPageLifecycle,
} from "./gcm/mod.ts";
export {
  type ChangeEvent,
  type ConflictEvent,
  type Durability,
  FileStorage,
  GdmClosedError,
  type GdmEvents,
  type GdmOptions,
  GroupDataManager,
  IndexedDbStorage,
  type LockEvent,
  type LockOptions,
  LockTimeoutError,
  MemoryStorage,
  NotLockOwnerError,
  OutcomeUnknownError,
  PatchError,
  type Snapshot,
  type StorageAdapter,
  StorageError,
  type Transaction,
  TransactionAbortedError,
  type TransactionOptions,
  type TransferEvent,
  UnsupportedGcmError,
  type WriteOptions,
} from "./gdm/mod.ts";
export * as min from "./min/mod.ts";
