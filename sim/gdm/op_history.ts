/**
 * A client-side history of GDM operations, in the shape Jepsen checkers read: every operation a
 * process invoked, when, and how it completed — `ok` (acknowledged), `fail` (certainly not applied),
 * or `info` (unknown: the process crashed, gave up, or could not tell). Registers (write, read,
 * compare-and-set), set elements (add, read of the whole set) and locks (acquire with the fencing
 * token granted, release). Simulated runs and real-process tests both produce it; the checker in
 * `sim/jepsen/` judges it.
 * @module
 */

/** A version of a register: the Lamport stamp of the write that made it, or null (never written). */
export type Version = readonly [counter: number, node: string] | null;

/** One operation of the history. */
export type HistoryOp =
  | RegisterWrite
  | RegisterRead
  | CompareAndSet
  | SetAdd
  | SetRead
  | LockAcquire
  | LockRelease;

/** What every operation has. */
interface Timed {
  /** The process (a member incarnation, `node#incarnation`). */
  readonly process: string;
  /** When it was invoked (ms on one clock for the whole history). */
  readonly invoke: number;
  /** When it completed (absent: never, e.g. the process crashed). */
  complete?: number;
  /** `ok`: acknowledged; `fail`: certainly not applied; `info`: unknown. */
  outcome: "ok" | "fail" | "info";
}

/**
 * A write of `value` to register `key` (null: a deletion); `version`: the stamp it was written with
 * (when acknowledged).
 */
export interface RegisterWrite extends Timed {
  readonly f: "write";
  readonly key: string;
  readonly value: string | null;
  version?: Version;
}

/** A local read of register `key`: the value and version seen. */
export interface RegisterRead extends Timed {
  readonly f: "read";
  readonly key: string;
  value?: string | null;
  version?: Version;
}

/**
 * A compare-and-set: read `key` locally (version `expected`), then write `value` if the version is
 * unchanged at the commit point. `ok`: written (`version`: its stamp); `fail`: the compare failed.
 */
export interface CompareAndSet extends Timed {
  readonly f: "cas";
  readonly key: string;
  readonly expected: Version;
  readonly value: string;
  version?: Version;
}

/** Adds `element` to set `set`. */
export interface SetAdd extends Timed {
  readonly f: "add";
  readonly set: string;
  readonly element: string;
}

/** Reads set `set` locally: the elements seen. */
export interface SetRead extends Timed {
  readonly f: "read-set";
  readonly set: string;
  elements?: string[];
}

/** Acquires lock `lock`; `token`: the fencing token granted. */
export interface LockAcquire extends Timed {
  readonly f: "acquire";
  readonly lock: string;
  token?: number;
}

/** Releases lock `lock` (held with `token`). */
export interface LockRelease extends Timed {
  readonly f: "release";
  readonly lock: string;
  readonly token: number;
}

/** A whole history: the operations, and what every live process holds at the end (after quiescence). */
export interface OpHistory {
  readonly ops: HistoryOp[];
  /** Final reads, per live process: registers (value and version) and sets. */
  readonly final: Array<{
    process: string;
    registers: Record<string, { value: string | null; version: Version }>;
    sets: Record<string, string[]>;
  }>;
  /**
   * Whether at most one component applied operations at any time — the quorum policy, or a run
   * without partitions. Then sequential consistency across keys, linearizable compare-and-sets and
   * unique, growing fencing tokens are promised; otherwise each side of a partition goes on alone.
   */
  readonly oneComponent: boolean;
  /**
   * Whether acknowledged writes of processes that crashed must survive: their node restarted with its
   * disk (storage with durability), so their acknowledged writes are promised.
   */
  readonly durable: boolean;
  /**
   * Processes whose acknowledged operations are promised to last: those that ended alive, and (with
   * `durable`) those whose node restarted from its disk and ended alive.
   */
  readonly survivors: string[];
}
