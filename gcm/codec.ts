/**
 * The GCM wire format, version 3 — the one place that knows its bytes. Big-endian integers.
 *
 * ```text
 * header    u8 signature=0xC3 | u8 version=3 | u8 kind
 * str       u16 byteLength | utf-8 bytes
 * member    str id | f64 incarnation
 * TOKEN     header(kind=1) | str ringId | str parentRingId | f64 forkSeq | f64 seq | f64 gvn | f64 rsv | u32 flags
 *           | str cfg | f64 mseq | str rsvTag
 *           | u16 current | u16 dest | u16 n | member*n            (nodelist)
 *           | u16 x | member*x                                     (more table members, see below)
 *           | u16 c | str*c                                        (older view IDs, see below)
 *           | u16 tn | trans*tn | u32 entryCount | entry* | u16 an | note*an
 *   trans   u16 member | u16 view | f64 delivered | f64 stable
 *   entry   u8 bits (0x01 explicit, 0x02 safe, 0x04 forwarded, 0x08 stream) | u16 origin | u32 seq
 *           | u16 holder | [u16 fwd] | [u8 stream] | (explicit: u16 view | f64 number; else u32 mseq − number)
 *           | u32 dataLength | data                                 (no stream byte: stream 0)
 *           origin, holder, fwd and trans members index the member table = nodelist ++ extra members,
 *           and views index the view table = cfg ++ older view IDs, so an ID is written once per token,
 *           not once per message (the token path is hot). A message of the token's own view numbered
 *           at most `mseq` stores its number as its distance below `mseq`; any other (of an older view,
 *           or retransmitted onto an older copy of the token during a membership change) is explicit.
 *   note    u16 member | u16 holder | addrs                         (declared addresses, `addresses.ts`)
 *   addrs   u32 version | u8 count | str*count
 * 911       header(kind=2) | str ringId | f64 seq | u8 status | u32 flags | u16 orig | u16 current
 *           | u16 dest | u16 n | member*n | u16 an | (member | addrs)*an
 * FORWARD   header(kind=3) | str from | u8 safe | u32 dataLength | data       (open-group send)
 * WAKE      header(kind=4) | str ringId                                   (a member wants the idle token)
 * ```
 * {@link decode} validates everything and throws {@link DecodeError} and nothing else. Decoded
 * payloads are views into the buffer given to `decode` (zero copy): pass a buffer nobody reuses.
 * @module
 */
import { DecodeError } from "../base/errors.ts";
import { type AddressNote, MAX_ADDRESSES, type MemberAddresses } from "./addresses.ts";
import type { Entry, Token, TransitionInfo } from "./token.ts";
import type { Message911 } from "./message911.ts";
import type { Member } from "./types.ts";

/** Signature byte that starts every GCM message. */
export const SIGNATURE = 0xc3;
/** Wire format version. */
export const VERSION = 3;
/** Kind byte: token. */
export const KIND_TOKEN = 1;
/** Kind byte: 911 message. */
export const KIND_911 = 2;
/** Kind byte: open-group message handed to a member. */
export const KIND_FORWARD = 3;
/** Kind byte: a ring member wants the token that an idle member is keeping (see RingCore.wake). */
export const KIND_WAKE = 4;

const BIT_EXPLICIT = 1;
const BIT_SAFE = 2;
const BIT_FWD = 4;
const BIT_STREAM = 8;
const MAX_U16 = 0xffff;

/** An open-group message: a non-member asks a member to multicast `data`. */
export interface ForwardMessage {
  /** Node ID of the non-member. */
  from: string;
  /** Delivery level requested. */
  safe: boolean;
  /** Payload. */
  data: Uint8Array;
}

/** A decoded GCM message. */
export type GcmMessage =
  | { kind: typeof KIND_TOKEN; token: Token }
  | { kind: typeof KIND_911; msg: Message911 }
  | { kind: typeof KIND_FORWARD; fwd: ForwardMessage }
  | { kind: typeof KIND_WAKE; ringId: string };

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });
const encodedIds = new Map<string, Uint8Array>();

function strBytes(s: string): Uint8Array {
  let b = encodedIds.get(s);
  if (b === undefined) {
    b = utf8.encode(s);
    if (b.length > MAX_U16) throw new RangeError(`string of ${b.length} bytes is too long for the GCM codec`);
    if (encodedIds.size > 4096) encodedIds.clear();
    encodedIds.set(s, b);
  }
  return b;
}

class Writer {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  u8(v: number): void {
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }
  u32(v: number): void {
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }
  f64(v: number): void {
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }
  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  str(s: string): void {
    const b = strBytes(s);
    this.u16(b.length);
    this.bytes(b);
  }
  member(m: Member): void {
    this.str(m.id);
    this.f64(m.inc);
  }
}

function memberSize(m: Member): number {
  return 2 + strBytes(m.id).length + 8;
}

function tableIndex(table: Member[], id: string, inc: number): number {
  for (let i = 0; i < table.length; i++) if (table[i].id === id && table[i].inc === inc) return i;
  table.push({ id, inc });
  return table.length - 1;
}

/** Encodes a token. */
export function encodeToken(t: Token): Uint8Array {
  const table: Member[] = t.nodelist.slice();
  const n = table.length;
  const views = [t.cfg];
  const entries = t.entries;
  // Index pass: origin/holder/fwd/view indices into the tables, plus the size.
  const idx = new Uint16Array(entries.length * 4);
  let size = 3 + 2 + strBytes(t.ringId).length + 2 + strBytes(t.parentRingId).length + 8 * 4 + 4 +
    2 + strBytes(t.cfg).length + 8 + 2 + strBytes(t.rsvTag).length + 2 + 2 + 2 + 2 + 2 + 2 + 4;
  const trans = t.trans;
  const transIdx = new Uint16Array(trans.length * 2);
  for (let i = 0; i < trans.length; i++) {
    transIdx[i * 2] = tableIndex(table, trans[i].member.id, trans[i].member.inc);
    transIdx[i * 2 + 1] = viewIndex(views, trans[i].from);
    size += 2 + 2 + 8 + 8;
  }
  // Entries come in runs of one origin and holder (a node appends its batch in one go): look an
  // index up only when they change.
  let originId = "";
  let originInc = -1;
  let origin = 0;
  let holderId = "";
  let holder = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.originId !== originId || e.originInc !== originInc) {
      originId = e.originId;
      originInc = e.originInc;
      origin = tableIndex(table, originId, originInc);
    }
    if (e.holder !== holderId) {
      holderId = e.holder;
      holder = holderIndex(table, holderId);
    }
    idx[i * 4] = origin;
    idx[i * 4 + 1] = holder;
    size += 17 + e.data.length + (e.stream !== 0 ? 1 : 0);
    if (e.fwd !== "") {
      idx[i * 4 + 2] = holderIndex(table, e.fwd);
      size += 2;
    }
    if (isExplicit(t, e)) {
      idx[i * 4 + 3] = viewIndex(views, e.cfg);
      size += 6;
    }
  }
  const addrs = t.addrs;
  const addrIdx = new Uint16Array(addrs.length * 2);
  size += 2;
  for (let i = 0; i < addrs.length; i++) {
    addrIdx[i * 2] = tableIndex(table, addrs[i].member.id, addrs[i].member.inc);
    addrIdx[i * 2 + 1] = holderIndex(table, addrs[i].holder);
    size += 4 + addressesSize(addrs[i].addresses);
  }
  if (table.length > MAX_U16 || views.length > MAX_U16) {
    throw new RangeError("too many distinct IDs on one token");
  }
  for (const m of table) size += memberSize(m);
  for (let i = 1; i < views.length; i++) size += 2 + strBytes(views[i]).length;
  const w = new Writer(size);
  w.u8(SIGNATURE);
  w.u8(VERSION);
  w.u8(KIND_TOKEN);
  w.str(t.ringId);
  w.str(t.parentRingId);
  w.f64(t.forkSeq);
  w.f64(t.seq);
  w.f64(t.gvn);
  w.f64(t.rsv);
  w.u32(t.flags >>> 0);
  w.str(t.cfg);
  w.f64(t.mseq);
  w.str(t.rsvTag);
  w.u16(t.current);
  w.u16(t.dest);
  w.u16(n);
  for (let i = 0; i < n; i++) w.member(table[i]);
  w.u16(table.length - n);
  for (let i = n; i < table.length; i++) w.member(table[i]);
  w.u16(views.length - 1);
  for (let i = 1; i < views.length; i++) w.str(views[i]);
  w.u16(trans.length);
  for (let i = 0; i < trans.length; i++) {
    w.u16(transIdx[i * 2]);
    w.u16(transIdx[i * 2 + 1]);
    w.f64(trans[i].delivered);
    w.f64(trans[i].stable);
  }
  w.u32(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const old = isExplicit(t, e);
    const bits = (old ? BIT_EXPLICIT : 0) | (e.safe ? BIT_SAFE : 0) | (e.fwd !== "" ? BIT_FWD : 0) |
      (e.stream !== 0 ? BIT_STREAM : 0);
    w.u8(bits);
    w.u16(idx[i * 4]);
    w.u32(e.seq);
    w.u16(idx[i * 4 + 1]);
    if (e.fwd !== "") w.u16(idx[i * 4 + 2]);
    if (e.stream !== 0) w.u8(e.stream);
    if (old) {
      w.u16(idx[i * 4 + 3]);
      w.f64(e.gseq);
    } else w.u32(t.mseq - e.gseq);
    w.u32(e.data.length);
    w.bytes(e.data);
  }
  w.u16(addrs.length);
  for (let i = 0; i < addrs.length; i++) {
    w.u16(addrIdx[i * 2]);
    w.u16(addrIdx[i * 2 + 1]);
    writeAddresses(w, addrs[i]);
  }
  return w.buf;
}

/** Bytes of an address list (version, count, strings). */
function addressesSize(list: readonly string[]): number {
  let n = 4 + 1;
  for (const a of list) n += 2 + strBytes(a).length;
  return n;
}

function writeAddresses(w: Writer, d: MemberAddresses): void {
  if (d.addresses.length > MAX_ADDRESSES) throw new RangeError(`more than ${MAX_ADDRESSES} addresses`);
  w.u32(d.version >>> 0);
  w.u8(d.addresses.length);
  for (const a of d.addresses) w.str(a);
}

/** Whether an entry's view and number are written out rather than as a distance below `mseq`. */
function isExplicit(t: Token, e: Entry): boolean {
  return e.cfg !== t.cfg || !(e.gseq <= t.mseq && t.mseq - e.gseq <= 0xffffffff);
}

function viewIndex(views: string[], id: string): number {
  const i = views.indexOf(id);
  if (i >= 0) return i;
  views.push(id);
  return views.length - 1;
}

/** Holders and forwarders are plain node IDs: reuse any table member with that ID. */
function holderIndex(table: Member[], id: string): number {
  for (let i = 0; i < table.length; i++) if (table[i].id === id) return i;
  table.push({ id, inc: 0 });
  return table.length - 1;
}

/** Encodes a 911 message. */
export function encode911(m: Message911): Uint8Array {
  let size = 3 + 2 + strBytes(m.ringId).length + 8 + 1 + 4 + 2 * 4 + 2;
  for (const x of m.nodelist) size += memberSize(x);
  for (const d of m.addrs) size += memberSize(d.member) + addressesSize(d.addresses);
  const w = new Writer(size);
  w.u8(SIGNATURE);
  w.u8(VERSION);
  w.u8(KIND_911);
  w.str(m.ringId);
  w.f64(m.seq);
  w.u8(m.status);
  w.u32(m.flags >>> 0);
  w.u16(m.orig);
  w.u16(m.current);
  w.u16(m.dest);
  w.u16(m.nodelist.length);
  for (const x of m.nodelist) w.member(x);
  w.u16(m.addrs.length);
  for (const d of m.addrs) {
    w.member(d.member);
    writeAddresses(w, d);
  }
  return w.buf;
}

/** Encodes an open-group message. */
export function encodeForward(f: ForwardMessage): Uint8Array {
  const w = new Writer(3 + 2 + strBytes(f.from).length + 1 + 4 + f.data.length);
  w.u8(SIGNATURE);
  w.u8(VERSION);
  w.u8(KIND_FORWARD);
  w.str(f.from);
  w.u8(f.safe ? 1 : 0);
  w.u32(f.data.length);
  w.bytes(f.data);
  return w.buf;
}

/** Encodes a wake-up: the sender, a member of ring lineage `ringId`, has messages for the idle token. */
export function encodeWake(ringId: string): Uint8Array {
  const w = new Writer(3 + 2 + strBytes(ringId).length);
  w.u8(SIGNATURE);
  w.u8(VERSION);
  w.u8(KIND_WAKE);
  w.str(ringId);
  return w.buf;
}

class Reader {
  readonly view: DataView;
  pos = 0;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new DecodeError(`GCM message truncated at byte ${this.pos}`);
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++];
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  /** A non-negative integer below 2^53 stored as f64. */
  count(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    if (!Number.isSafeInteger(v) || v < 0) throw new DecodeError(`bad counter ${v} at byte ${this.pos - 8}`);
    return v;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  str(): string {
    const n = this.u16();
    const b = this.bytes(n);
    try {
      return utf8Strict.decode(b);
    } catch {
      throw new DecodeError(`invalid UTF-8 at byte ${this.pos - n}`);
    }
  }
  member(): Member {
    const id = this.str();
    if (id === "") throw new DecodeError("empty node ID");
    return { id, inc: this.count() };
  }
  members(n: number): Member[] {
    const out: Member[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.member();
    return out;
  }
  /** A declared address list (version, count, strings). */
  addresses(): { version: number; addresses: string[] } {
    const version = this.u32();
    const count = this.u8();
    if (count > MAX_ADDRESSES) throw new DecodeError(`${count} addresses (at most ${MAX_ADDRESSES})`);
    const addresses: string[] = new Array(count);
    for (let i = 0; i < count; i++) addresses[i] = this.str();
    return { version, addresses };
  }
  end(): void {
    if (this.pos !== this.buf.length) throw new DecodeError(`${this.buf.length - this.pos} trailing bytes`);
  }
}

/**
 * Decodes any GCM message. Throws {@link DecodeError} (and nothing else) on bytes that are not a
 * valid version-1 GCM message.
 */
export function decode(buf: Uint8Array): GcmMessage {
  try {
    return decodeUnchecked(buf);
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError(`malformed GCM message: ${(err as Error).message}`, { cause: err });
  }
}

function decodeUnchecked(buf: Uint8Array): GcmMessage {
  const r = new Reader(buf);
  if (r.u8() !== SIGNATURE) throw new DecodeError("not a GCM message (bad signature)");
  const version = r.u8();
  if (version !== VERSION) {
    throw new DecodeError(`unsupported GCM wire version ${version} (expected ${VERSION})`);
  }
  const kind = r.u8();
  if (kind === KIND_TOKEN) return { kind, token: decodeTokenBody(r) };
  if (kind === KIND_911) {
    const ringId = r.str();
    const seq = r.count();
    const status = r.u8();
    if (status > 2) throw new DecodeError(`bad 911 status ${status}`);
    const flags = r.u32();
    const orig = r.u16();
    const current = r.u16();
    const dest = r.u16();
    const n = r.u16();
    const nodelist = r.members(n);
    if (n === 0 || orig >= n || current >= n || dest >= n) {
      throw new DecodeError("911 pointer outside its nodelist");
    }
    const an = r.u16();
    const addrs: MemberAddresses[] = new Array(an);
    for (let i = 0; i < an; i++) {
      const member = r.member();
      addrs[i] = { member, ...r.addresses() };
    }
    r.end();
    return { kind, msg: { ringId, seq, nodelist, orig, current, dest, status, flags, addrs } };
  }
  if (kind === KIND_FORWARD) {
    const from = r.str();
    const safe = r.u8();
    if (safe > 1) throw new DecodeError("bad forward level");
    const data = r.bytes(r.u32());
    r.end();
    return { kind, fwd: { from, safe: safe === 1, data } };
  }
  if (kind === KIND_WAKE) {
    const ringId = r.str();
    r.end();
    return { kind, ringId };
  }
  throw new DecodeError(`unknown GCM message kind ${kind}`);
}

function decodeTokenBody(r: Reader): Token {
  const ringId = r.str();
  const parentRingId = r.str();
  const forkSeq = r.count();
  const seq = r.count();
  const gvn = r.count();
  const rsv = r.count();
  const flags = r.u32();
  const cfg = r.str();
  const mseq = r.count();
  const rsvTag = r.str();
  const current = r.u16();
  const dest = r.u16();
  const n = r.u16();
  if (n === 0) throw new DecodeError("token with an empty nodelist");
  const nodelist = r.members(n);
  if (current >= n || dest >= n) throw new DecodeError("token pointer outside its nodelist");
  const x = r.u16();
  const table = x === 0 ? nodelist : nodelist.concat(r.members(x));
  const c = r.u16();
  const views = [cfg];
  for (let i = 0; i < c; i++) views.push(r.str());
  const tn = table.length;
  const vn = views.length;
  const transCount = r.u16();
  const trans: TransitionInfo[] = new Array(transCount);
  for (let i = 0; i < transCount; i++) {
    const mi = r.u16();
    const vi = r.u16();
    if (mi >= tn || vi >= vn) throw new DecodeError("transition entry index outside its table");
    trans[i] = { member: table[mi], from: views[vi], delivered: r.count(), stable: r.count() };
  }
  const count = r.u32();
  // Each entry takes at least 17 bytes: reject absurd counts before allocating.
  if (count * 17 > r.buf.length - r.pos) throw new DecodeError("token entry count exceeds its bytes");
  const entries: Entry[] = new Array(count);
  // The hot loop of every hop: plain byte reads with one bounds check per entry header and one per
  // payload, and payload views made straight on the underlying buffer (cheaper than subarray).
  const b = r.buf;
  const end = b.length;
  const ab = b.buffer;
  const base = b.byteOffset;
  const dv = r.view;
  let pos = r.pos;
  for (let i = 0; i < count; i++) {
    if (pos + 17 > end) throw new DecodeError(`GCM message truncated at byte ${pos}`);
    const bits = b[pos];
    if (bits > 15) throw new DecodeError(`bad entry bits ${bits}`);
    const oi = (b[pos + 1] << 8) | b[pos + 2];
    const eseq = b[pos + 3] * 0x1000000 + ((b[pos + 4] << 16) | (b[pos + 5] << 8) | b[pos + 6]);
    const hi = (b[pos + 7] << 8) | b[pos + 8];
    pos += 9;
    let fi = -1;
    if ((bits & BIT_FWD) !== 0) {
      if (pos + 10 > end) throw new DecodeError(`GCM message truncated at byte ${pos}`);
      fi = (b[pos] << 8) | b[pos + 1];
      pos += 2;
    }
    if (oi >= tn || hi >= tn || fi >= tn) throw new DecodeError("entry index outside the member table");
    let stream = 0;
    if ((bits & BIT_STREAM) !== 0) {
      if (pos + 9 > end) throw new DecodeError(`GCM message truncated at byte ${pos}`);
      stream = b[pos++];
      if (stream === 0) throw new DecodeError("stream byte 0 (stream 0 is written as no byte)");
    }
    let view = cfg;
    let gseq: number;
    if ((bits & BIT_EXPLICIT) !== 0) {
      if (pos + 14 > end) throw new DecodeError(`GCM message truncated at byte ${pos}`);
      const vi = (b[pos] << 8) | b[pos + 1];
      if (vi >= vn) throw new DecodeError("entry view index outside the view table");
      view = views[vi];
      gseq = dv.getFloat64(pos + 2);
      if (!Number.isSafeInteger(gseq) || gseq < 1) throw new DecodeError(`bad entry number ${gseq}`);
      pos += 10;
    } else {
      const below = b[pos] * 0x1000000 + ((b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3]);
      if (below >= mseq) throw new DecodeError(`entry number below 1 (mseq ${mseq}, distance ${below})`);
      gseq = mseq - below;
      pos += 4;
    }
    const len = b[pos] * 0x1000000 + ((b[pos + 1] << 16) | (b[pos + 2] << 8) | b[pos + 3]);
    pos += 4;
    if (len > end - pos) throw new DecodeError(`GCM message truncated at byte ${pos}`);
    const data = new Uint8Array(ab, base + pos, len);
    pos += len;
    const origin = table[oi];
    entries[i] = {
      cfg: view,
      gseq,
      originId: origin.id,
      originInc: origin.inc,
      seq: eseq,
      safe: (bits & BIT_SAFE) !== 0,
      holder: table[hi].id,
      fwd: fi >= 0 ? table[fi].id : "",
      stream,
      data,
    };
  }
  r.pos = pos;
  const an = r.u16();
  const addrs: AddressNote[] = new Array(an);
  for (let i = 0; i < an; i++) {
    const mi = r.u16();
    const hi = r.u16();
    if (mi >= tn || hi >= tn) throw new DecodeError("address note index outside the member table");
    addrs[i] = { member: table[mi], holder: table[hi].id, ...r.addresses() };
  }
  r.end();
  return {
    ringId,
    parentRingId,
    forkSeq,
    seq,
    nodelist,
    current,
    dest,
    gvn,
    rsv,
    flags,
    cfg,
    mseq,
    rsvTag,
    trans,
    entries,
    addrs,
  };
}
