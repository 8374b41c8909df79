/**
 * The GDM wire format, version 2 — the one place where the model's types meet short keys. Multicast
 * messages carry a batch of {@link Operation}s; direct Transport Manager messages carry snapshot
 * chunks, requests to resume a transfer, refusals, and durability acknowledgements. Every message is
 * `0xD7 version kind` + CBOR; the decoders check every field the GDM relies on and throw
 * {@link DecodeError} and nothing else.
 * @module
 */
import { Encoder } from "cbor-x/encode";
import { DecodeError } from "../base/errors.ts";
import type { Failure, Item, LockState, ReadSpec, WriteSpec } from "./model.ts";
import type { HelloOp, Operation } from "./operations.ts";
import type { SessionRecord } from "./sessions.ts";
import type { Stamp } from "./stamp.ts";
import type { Patch } from "./value.ts";

/** First byte of every GDM message. */
export const GDM_SIGNATURE = 0xd7;
/** Wire format version. */
export const GDM_VERSION = 2;
/** The GCM stream that carries GDM operations (so they are never the application's `deliver` events). */
export const GDM_STREAM = 1;

/** Kinds of message. */
const KIND_OPS = 1;
const KIND_CHUNK = 2;
const KIND_RESUME = 3;
const KIND_REFUSE = 4;
const KIND_DURABLE = 5;

/** One chunk of a snapshot, sent directly to a puller. */
export interface Chunk {
  /** The view whose round the snapshot belongs to. */
  readonly view: string;
  /** Chunk number from 0. */
  readonly n: number;
  /** Whether it is the last. */
  readonly last: boolean;
  /** Items in the whole snapshot. */
  readonly totalItems: number;
  /** Bytes of items in the whole snapshot (about). */
  readonly totalBytes: number;
  /** Items of this chunk (sorted by key across the chunks). */
  readonly items: readonly (readonly [string, Item])[];
  /** Chunk 0: the snapshot's locks, sessions, clock and position. */
  readonly head?: {
    readonly locks: readonly (readonly [string, LockState])[];
    readonly sessions: readonly (readonly [string, SessionRecord])[];
    readonly clock: number;
    readonly applied: number;
  };
}

/** A direct message between GDMs. */
export type Direct =
  | { readonly kind: "chunk"; readonly chunk: Chunk }
  /** A puller asks a member of the kept class to send the snapshot of `view`'s round from chunk `from`. */
  | { readonly kind: "resume"; readonly view: string; readonly member: string; readonly from: number }
  /** The asked member holds no snapshot of that round. */
  | { readonly kind: "refuse"; readonly view: string }
  /**
   * Member `member` has on disk its copies of operations `ns` of `issuer`, and the grants of that
   * issuer's lock requests with numbers `grants`.
   */
  | {
    readonly kind: "durable";
    readonly member: string;
    readonly issuer: string;
    readonly ns: readonly number[];
    readonly grants: readonly number[];
  };

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

function unframe(bytes: Uint8Array): { kind: number; body: unknown } {
  if (bytes.length < 4 || bytes[0] !== GDM_SIGNATURE) throw new DecodeError("not a GDM message");
  if (bytes[1] !== GDM_VERSION) throw new DecodeError(`GDM wire version ${bytes[1]} is not supported`);
  try {
    return { kind: bytes[2], body: cbor.decode(bytes.subarray(3)) };
  } catch (err) {
    throw new DecodeError("malformed GDM message body", { cause: err });
  }
}

// ---- encoding -------------------------------------------------------------------------------------

const stampW = (s: Stamp) => [s[0], s[1]];
/** An item as the wire (and storage) writes it. */
export const itemW = (it: Item): unknown[] =>
  it.replaced === undefined
    ? [it.value ?? null, it.stamp[0], it.stamp[1]]
    : [it.value ?? null, it.stamp[0], it.stamp[1], it.replaced[0], it.replaced[1]];
const itemsW = (items: readonly (readonly [string, Item])[]) => items.map(([k, it]) => [k, itemW(it)]);
/** A lock as the wire (and storage) writes it. */
export const lockW = (l: LockState): Record<string, unknown> => ({
  f: l.fence,
  q: l.waiting.map((w) => [w.owner, w.request]),
  ...(l.holder === undefined ? {} : { h: [l.holder.owner, l.holder.request, l.holder.fence] }),
});
const locksW = (locks: readonly (readonly [string, LockState])[]) => locks.map(([n, l]) => [n, lockW(l)]);
const sessionW = (
  r: SessionRecord,
) => [r.upTo, r.above, r.failures.map(([n, f]) => [n, f.kind, f.detail]), r.last];
const sessionsW = (s: readonly (readonly [string, SessionRecord])[]) => s.map(([i, r]) => [i, sessionW(r)]);
const writeW = (w: WriteSpec) => ({
  k: w.key,
  ...(w.value === undefined ? {} : { v: w.value }),
  ...(w.patch === undefined ? {} : { p: w.patch }),
});

function opW(op: Operation): unknown {
  const w = opBodyW(op);
  return "acks" in op && op.acks === true ? { ...(w as Record<string, unknown>), a: 1 } : w;
}

function opBodyW(op: Operation): unknown {
  switch (op.kind) {
    case "write":
      return {
        t: "w",
        i: op.issuer,
        n: op.n,
        s: stampW(op.stamp),
        w: op.writes.map(writeW),
        ...(op.reads === undefined ? {} : { r: op.reads.map((r) => [r.key, r.stamp && stampW(r.stamp)]) }),
      };
    case "lock":
      return { t: "l", i: op.issuer, n: op.n, s: stampW(op.stamp), nm: op.name, o: op.owner };
    case "unlock":
    case "cancel":
      return {
        t: op.kind === "unlock" ? "u" : "c",
        i: op.issuer,
        n: op.n,
        s: stampW(op.stamp),
        nm: op.name,
        o: op.owner,
        q: op.request,
      };
    case "merge":
      return { t: "m", i: op.issuer, n: op.n, s: stampW(op.stamp), it: itemsW(op.items), q: op.quiet };
    case "hello":
      return {
        t: "h",
        v: op.view,
        me: op.member,
        e: op.epoch,
        ic: op.items,
        ap: op.applied,
        ck: op.clock,
        dg: op.digest,
        st: op.stale,
        lk: locksW(op.locks),
        ss: sessionsW(op.sessions),
      };
    case "synced":
      return { t: "y", me: op.member };
  }
}

/** Encodes a batch of operations (one GCM multicast; applied in this order). */
export function encodeOperations(ops: readonly Operation[]): Uint8Array {
  return frame(KIND_OPS, ops.map(opW));
}

/** Encodes a direct message. */
export function encodeDirect(m: Direct): Uint8Array {
  switch (m.kind) {
    case "chunk": {
      const c = m.chunk;
      const head = c.head === undefined ? {} : {
        lk: locksW(c.head.locks),
        ss: sessionsW(c.head.sessions),
        ck: c.head.clock,
        ap: c.head.applied,
      };
      return frame(KIND_CHUNK, {
        v: c.view,
        n: c.n,
        l: c.last,
        ti: c.totalItems,
        tb: c.totalBytes,
        it: itemsW(c.items),
        ...head,
      });
    }
    case "resume":
      return frame(KIND_RESUME, { v: m.view, me: m.member, f: m.from });
    case "refuse":
      return frame(KIND_REFUSE, { v: m.view });
    case "durable":
      return frame(KIND_DURABLE, { me: m.member, i: m.issuer, ns: m.ns, g: m.grants });
  }
}

// ---- decoding -------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function bad(what: string): never {
  throw new DecodeError(`malformed GDM message: ${what}`);
}
const str = (x: unknown, what: string): string => typeof x === "string" ? x : bad(what);
const num = (x: unknown, what: string): number => typeof x === "number" && Number.isFinite(x) ? x : bad(what);
const arr = (x: unknown, what: string): unknown[] => Array.isArray(x) ? x : bad(what);
const obj = (x: unknown, what: string): Obj =>
  typeof x === "object" && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array)
    ? x as Obj
    : bad(what);
const bytesOrNull = (x: unknown, what: string): Uint8Array | undefined =>
  x === null || x === undefined ? undefined : x instanceof Uint8Array ? x : bad(what);

function stampR(x: unknown): Stamp {
  const a = arr(x, "stamp");
  return [num(a[0], "stamp counter"), str(a[1], "stamp node")];
}

/** An item from its wire form. @throws {DecodeError} */
export function itemR(x: unknown): Item {
  const a = arr(x, "item");
  const value = bytesOrNull(a[0], "item value");
  const stamp: Stamp = [num(a[1], "item stamp"), str(a[2], "item stamp node")];
  const replaced: Stamp | undefined = a.length > 3
    ? [num(a[3], "replaced"), str(a[4], "replaced node")]
    : undefined;
  if (value === undefined) return replaced === undefined ? { stamp } : { stamp, replaced };
  return replaced === undefined ? { value, stamp } : { value, stamp, replaced };
}

function itemsR(x: unknown): Array<readonly [string, Item]> {
  return arr(x, "items").map((e) => {
    const p = arr(e, "item entry");
    return [str(p[0], "item key"), itemR(p[1])] as const;
  });
}

/** A lock from its wire form. @throws {DecodeError} */
export function lockR(x: unknown): LockState {
  const o = obj(x, "lock");
  const waiting = arr(o.q, "lock waiters").map((w) => {
    const p = arr(w, "lock waiter");
    return { owner: str(p[0], "waiter owner"), request: str(p[1], "waiter request") };
  });
  const fence = num(o.f, "lock fence");
  if (o.h === undefined) return { fence, waiting };
  const h = arr(o.h, "lock holder");
  return {
    holder: {
      owner: str(h[0], "holder owner"),
      request: str(h[1], "holder request"),
      fence: num(h[2], "holder fence"),
    },
    fence,
    waiting,
  };
}

function locksR(x: unknown): Array<readonly [string, LockState]> {
  return arr(x, "locks").map((e) => {
    const p = arr(e, "lock entry");
    return [str(p[0], "lock name"), lockR(p[1])] as const;
  });
}

const FAILURE_KINDS = new Set(["conflict", "patch", "notOwner"]);

function sessionsR(x: unknown): Array<readonly [string, SessionRecord]> {
  return arr(x, "sessions").map((e) => {
    const p = arr(e, "session entry");
    const r = arr(p[1], "session");
    const failures = arr(r[2], "session failures").map((f) => {
      const q = arr(f, "failure");
      const kind = str(q[1], "failure kind");
      if (!FAILURE_KINDS.has(kind)) bad("failure kind");
      return [num(q[0], "failure n"), { kind, detail: str(q[2], "failure detail") } as Failure] as const;
    });
    return [str(p[0], "session issuer"), {
      upTo: num(r[0], "session upTo"),
      above: arr(r[1], "session above").map((n) => num(n, "session n")),
      failures,
      last: num(r[3], "session last"),
    }] as const;
  });
}

function patchR(x: unknown): Patch {
  const o = obj(x, "patch");
  if ("offset" in o) {
    return {
      offset: num(o.offset, "patch offset"),
      bytes: bytesOrNull(o.bytes, "patch bytes") ?? bad("patch bytes"),
    };
  }
  const path = arr(o.path, "patch path").map((k) =>
    typeof k === "string" || typeof k === "number" ? k : bad("path")
  );
  return o.remove === true ? { path, remove: true } : { path, value: o.value };
}

function writeR(x: unknown): WriteSpec {
  const o = obj(x, "write");
  const key = str(o.k, "write key");
  if (o.p !== undefined) return { key, patch: patchR(o.p) };
  const value = bytesOrNull(o.v, "write value");
  return value === undefined ? { key } : { key, value };
}

function readR(x: unknown): ReadSpec {
  const p = arr(x, "read");
  return { key: str(p[0], "read key"), stamp: p[1] === null ? null : stampR(p[1]) };
}

function helloR(o: Obj): HelloOp {
  return {
    kind: "hello",
    view: str(o.v, "hello view"),
    member: str(o.me, "hello member"),
    epoch: o.e === null ? null : str(o.e, "hello epoch"),
    items: num(o.ic, "hello items"),
    applied: num(o.ap, "hello applied"),
    clock: num(o.ck, "hello clock"),
    digest: str(o.dg, "hello digest"),
    stale: o.st === true,
    locks: locksR(o.lk),
    sessions: sessionsR(o.ss),
  };
}

function opR(x: unknown): Operation {
  const o = obj(x, "operation");
  const t = o.t;
  if (t === "h") return helloR(o);
  if (t === "y") return { kind: "synced", member: str(o.me, "synced member") };
  const issued = {
    issuer: str(o.i, "issuer"),
    n: num(o.n, "operation number"),
    stamp: stampR(o.s),
    ...(o.a === 1 ? { acks: true } : {}),
  };
  switch (t) {
    case "w":
      return o.r === undefined ? { kind: "write", ...issued, writes: arr(o.w, "writes").map(writeR) } : {
        kind: "write",
        ...issued,
        writes: arr(o.w, "writes").map(writeR),
        reads: arr(o.r, "reads").map(readR),
      };
    case "l":
      return { kind: "lock", ...issued, name: str(o.nm, "lock name"), owner: str(o.o, "lock owner") };
    case "u":
    case "c":
      return {
        kind: t === "u" ? "unlock" : "cancel",
        ...issued,
        name: str(o.nm, "lock name"),
        owner: str(o.o, "lock owner"),
        request: str(o.q, "lock request"),
      };
    case "m":
      return { kind: "merge", ...issued, items: itemsR(o.it), quiet: o.q === true };
    default:
      return bad(`unknown operation ${String(t)}`);
  }
}

/** Decodes a multicast batch of operations. @throws {DecodeError} */
export function decodeOperations(bytes: Uint8Array): Operation[] {
  const { kind, body } = unframe(bytes);
  if (kind !== KIND_OPS) throw new DecodeError(`GDM message kind ${kind} is not a batch of operations`);
  return arr(body, "batch").map(opR);
}

/** Decodes a direct message. @throws {DecodeError} */
export function decodeDirect(bytes: Uint8Array): Direct {
  const { kind, body } = unframe(bytes);
  const o = obj(body, "direct message");
  switch (kind) {
    case KIND_CHUNK: {
      const head = o.ck === undefined ? undefined : {
        locks: locksR(o.lk),
        sessions: sessionsR(o.ss),
        clock: num(o.ck, "chunk clock"),
        applied: num(o.ap, "chunk applied"),
      };
      const chunk: Chunk = {
        view: str(o.v, "chunk view"),
        n: num(o.n, "chunk number"),
        last: o.l === true,
        totalItems: num(o.ti, "chunk total items"),
        totalBytes: num(o.tb, "chunk total bytes"),
        items: itemsR(o.it),
        ...(head === undefined ? {} : { head }),
      };
      return { kind: "chunk", chunk };
    }
    case KIND_RESUME:
      return {
        kind: "resume",
        view: str(o.v, "resume view"),
        member: str(o.me, "resume member"),
        from: num(o.f, "resume from"),
      };
    case KIND_REFUSE:
      return { kind: "refuse", view: str(o.v, "refuse view") };
    case KIND_DURABLE:
      return {
        kind: "durable",
        member: str(o.me, "durable member"),
        issuer: str(o.i, "durable issuer"),
        ns: arr(o.ns, "durable ns").map((n) => num(n, "n")),
        grants: arr(o.g, "durable grants").map((n) => num(n, "n")),
      };
    default:
      throw new DecodeError(`unknown GDM message kind ${kind}`);
  }
}
