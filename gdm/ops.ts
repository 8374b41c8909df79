/**
 * The GDM wire format, version 1: every operation the GDM multicasts through the GCM (writes,
 * transactions, lock requests, merge-round hellos, snapshot requests, reconcile batches), and the
 * state-transfer chunks it sends directly over the Transport Manager. Encoded with CBOR behind a
 * two-byte header; {@link decodeOp} and {@link decodeChunk} throw {@link DecodeError} and nothing else.
 * @module
 */
import { Encoder } from "cbor-x/encode";
import { DecodeError } from "../base/errors.ts";
import type { Stamp } from "./stamp.ts";
import type { Item } from "./state.ts";
import type { Patch } from "./value.ts";

/** First byte of every GDM message. */
export const GDM_SIGNATURE = 0xd7;
/** Wire format version. */
export const GDM_VERSION = 1;
/** The GCM stream that carries GDM operations (so they are never the application's `deliver` events). */
export const GDM_STREAM = 1;

/** One write: a whole value (`v`), a deletion (`v` absent, no `p`) or a partial update (`p`). */
export interface WriteSpec {
  /** Key. */
  readonly k: string;
  /** Encoded new value (whole write). */
  readonly v?: Uint8Array;
  /** Partial update. */
  readonly p?: Patch;
}

/** A read recorded by a transaction: key and the stamp it saw (null: absent). */
export type ReadSpec = readonly [key: string, stamp: Stamp | null];

/** Operations carried by GCM multicast, applied in total order. `id` = `node#incarnation#n` of the issuer. */
export type Op =
  | {
    readonly t: "w";
    readonly id: string;
    readonly s: Stamp;
    readonly w: readonly WriteSpec[];
    readonly r?: readonly ReadSpec[];
  }
  | {
    readonly t: "lock";
    readonly id: string;
    readonly s: Stamp;
    readonly n: string;
    readonly o: string;
    readonly vi: number;
  }
  | {
    readonly t: "unlock";
    readonly id: string;
    readonly s: Stamp;
    readonly n: string;
    readonly o: string;
    /** The request ID of the grant being released (so a late copy cannot release a later grant). */
    readonly q?: string;
  }
  | {
    readonly t: "cancel";
    readonly id: string;
    readonly s: Stamp;
    readonly n: string;
    readonly o: string;
    readonly q: string;
  }
  | { readonly t: "evict"; readonly m: readonly string[]; readonly vi: number }
  | {
    readonly t: "rc";
    readonly s: Stamp;
    readonly items: readonly (readonly [string, Item])[];
    /** Sender (`id#inc`) and batch ID, when it brings its own side's items into a merge. */
    readonly o?: string;
    readonly id?: string;
    /**
     * Quiet: the items are a stale copy kept from before a health-check leave. Its sender wrote none
     * of them since it left, so they are merged by stamp without `conflict` events.
     */
    readonly q?: boolean;
  }
  | {
    readonly t: "hello";
    /** Members of the view being announced (`id#inc`, sorted). */
    readonly m: readonly string[];
    /** View index. */
    readonly vi: number;
    /** The sender, `id#inc`. */
    readonly me: string;
    /** The sender's previous view (`id#inc`): the side it comes from. */
    readonly side: readonly string[];
    /** Number of items the sender holds; -1 while it has no usable state (state transfer pending). */
    readonly d: number;
    /**
     * Its items are a stale copy (kept from before a health-check leave): it pulls without bringing
     * them into the group, unless no member with a current copy holds data.
     */
    readonly st?: boolean;
  }
  | { readonly t: "req"; readonly rid: string; readonly to: string; readonly from: string }
  /** Several operations of one sender multicast as one message, applied in this order. */
  | { readonly t: "b"; readonly ops: readonly Op[] }
  /**
   * Post-sync check: `from` (which just synced) asks `to` to announce its digest (a `digest` with
   * this `round`) at this point of the order, where `from` takes its own.
   */
  | { readonly t: "chk"; readonly round: string; readonly from: string; readonly to: string }
  | {
    readonly t: "digest";
    /** The round (see merge_round.ts `roundKey`). */
    readonly round: string;
    /** The sender, `id#inc`. */
    readonly me: string;
    /** Digest of the sender's state at the round's completion point. */
    readonly dg: string;
  };

/** A state-transfer chunk (TM direct message). */
export interface Chunk {
  /** Request ID it answers. */
  readonly rid: string;
  /** Chunk number from 0. */
  readonly n: number;
  /** Last chunk. */
  readonly last: boolean;
  /** Lamport counter of the sender's state at the snapshot point. */
  readonly clock: number;
  /** Items of this chunk. */
  readonly items: readonly (readonly [string, Item])[];
}

const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });

function frame(kind: number, body: unknown): Uint8Array {
  const b = cbor.encode(body);
  const out = new Uint8Array(b.length + 3);
  out[0] = GDM_SIGNATURE;
  out[1] = GDM_VERSION;
  out[2] = kind;
  out.set(b, 3);
  return out;
}

function unframe(bytes: Uint8Array, kind: number): unknown {
  if (bytes.length < 4 || bytes[0] !== GDM_SIGNATURE) throw new DecodeError("not a GDM message");
  if (bytes[1] !== GDM_VERSION) throw new DecodeError(`GDM wire version ${bytes[1]} is not supported`);
  if (bytes[2] !== kind) throw new DecodeError(`GDM message kind ${bytes[2]}, expected ${kind}`);
  try {
    return cbor.decode(bytes.subarray(3));
  } catch (err) {
    throw new DecodeError("malformed GDM message body", { cause: err });
  }
}

const OP_KINDS = new Set([
  "w",
  "lock",
  "unlock",
  "cancel",
  "evict",
  "rc",
  "hello",
  "req",
  "digest",
  "chk",
  "b",
]);

/** Encodes an operation for multicast. */
export function encodeOp(op: Op): Uint8Array {
  return frame(1, op);
}

/** Decodes a multicast operation. @throws {DecodeError} */
export function decodeOp(bytes: Uint8Array): Op {
  const o = unframe(bytes, 1) as { t?: unknown };
  if (typeof o !== "object" || o === null || typeof o.t !== "string" || !OP_KINDS.has(o.t)) {
    throw new DecodeError("unknown GDM operation");
  }
  if (!wellFormed(o as Op)) throw new DecodeError(`malformed GDM operation "${o.t}"`);
  return o as Op;
}

const isStamp = (s: unknown): boolean =>
  Array.isArray(s) && typeof s[0] === "number" && typeof s[1] === "string";
const isStr = (x: unknown): x is string => typeof x === "string";

/** Checks the fields the state machine relies on, so that no malformed operation reaches it. */
function wellFormed(op: Op): boolean {
  switch (op.t) {
    case "w":
      return isStr(op.id) && isStamp(op.s) && Array.isArray(op.w) &&
        op.w.every((w) => typeof w === "object" && w !== null && isStr(w.k)) &&
        (op.r === undefined || Array.isArray(op.r));
    case "lock":
    case "unlock":
    case "cancel":
      return isStr(op.id) && isStamp(op.s) && isStr(op.n) && isStr(op.o);
    case "evict":
      return Array.isArray(op.m) && typeof op.vi === "number";
    case "rc":
      return isStamp(op.s) && Array.isArray(op.items) &&
        op.items.every((e) =>
          Array.isArray(e) && isStr(e[0]) && typeof e[1] === "object" && isStamp(e[1]?.s)
        );
    case "hello":
      return Array.isArray(op.m) && typeof op.vi === "number" && isStr(op.me) && Array.isArray(op.side) &&
        typeof op.d === "number";
    case "req":
      return isStr(op.rid) && isStr(op.to) && isStr(op.from);
    case "digest":
      return isStr(op.round) && isStr(op.me) && isStr(op.dg);
    case "chk":
      return isStr(op.round) && isStr(op.from) && isStr(op.to);
    case "b":
      return Array.isArray(op.ops) &&
        op.ops.every((x) => typeof x === "object" && x !== null && OP_KINDS.has(x.t) && wellFormed(x));
  }
}

/** Encodes a state-transfer chunk. */
export function encodeChunk(c: Chunk): Uint8Array {
  return frame(2, c);
}

/** Decodes a state-transfer chunk. @throws {DecodeError} */
export function decodeChunk(bytes: Uint8Array): Chunk {
  const c = unframe(bytes, 2) as Partial<Chunk>;
  if (typeof c !== "object" || c === null || typeof c.rid !== "string" || !Array.isArray(c.items)) {
    throw new DecodeError("malformed state-transfer chunk");
  }
  return c as Chunk;
}
