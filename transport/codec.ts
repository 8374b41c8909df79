/**
 * The Transport Manager's wire format, version 1 — the one place that knows its bytes. Every
 * packet starts with the same header; all integers are big-endian.
 *
 * ```text
 * header  u8 version=1 | u8 type | u8 srcIdLen (1..255) | u8 dstIdLen (1..255) | srcId | dstId
 *         | u64 srcInc | u64 dstInc | u32 epoch
 * DATA    header(type=1) | u32 seq (≥1) | u16 frameCount | frame*
 *   frame u8 kind=0 (whole message)  | u16 channel | u16 len | bytes
 *         u8 kind=1 (fragment)       | u16 channel | u32 msgId | u32 total | u32 offset | u16 len | bytes
 * ACK     header(type=2) | u32 cum | u8 rangeCount | (u32 first | u32 last)*   selective acks above cum
 * HELLO   header(type=3)             "my incarnation is srcInc; yours (dstInc) was not what I expected"
 * PROBE   header(type=4) | u64 nonce "who are you? answer with this nonce"
 * REPLY   header(type=5) | u64 nonce | u32 baseSeq | u32 window | u8 flags | (u64 otherInc if flags & 1)
 *         "I am srcInc; my data session towards you is epoch, from baseSeq on, at most window ahead;
 *          (flag 1) another live process claims your ID, with incarnation otherInc;
 *          (flag 2, only with 1) and I talk to that one, not to you"
 * CONFLICT header(type=6)            "your ID is claimed twice: probe me to hear more"
 * DISCOVER header(type=7)            "who are you?" to an address whose node ID is not known (dstId "*",
 *                                    ignored); whoever receives it answers with a HELLO echoing epoch
 * ```
 *
 * Incarnations are integers below 2^53 carried as u64, as are nonces. `epoch` names the sender's data
 * session (a new one each time the sender gives up on the receiver or learns that it restarted); ACK
 * and HELLO echo the epoch they answer. Only a REPLY, which answers a PROBE's nonce, makes a receiver
 * believe in a peer's incarnation and data session (see `peer_rounds.ts`): every other packet is
 * at most a hint to probe.
 * {@link decodePacket} validates everything and throws {@link DecodeError} and nothing else, so the
 * manager never sees a half-valid packet.
 * @module
 */

import { DecodeError } from "../base/errors.ts";

/** Wire format version written into byte 0. */
export const PROTOCOL_VERSION = 1;
/** Packet type: message frames. */
export const TYPE_DATA = 1;
/** Packet type: cumulative and selective acknowledgement. */
export const TYPE_ACK = 2;
/** Packet type: incarnation announcement, sent in reply to a packet addressed to another incarnation. */
export const TYPE_HELLO = 3;
/** Packet type: "who are you?", answered by a {@link TYPE_PROBE_REPLY} echoing its nonce. */
export const TYPE_PROBE = 4;
/** Packet type: the answer to a {@link TYPE_PROBE}: incarnation, data session, conflict news. */
export const TYPE_PROBE_REPLY = 5;
/** Packet type: "your node ID is claimed by two live processes; probe me for the details". */
export const TYPE_CONFLICT = 6;
/**
 * Packet type: "who are you?", sent to an address whose node is not known (joining through one
 * address); any receiver answers with a HELLO that echoes the epoch (a nonce). The answer is only a
 * hint: the sender then probes the node it names, as for any other.
 */
export const TYPE_DISCOVER = 7;
/** {@link ProbeReplyPacket} flag: another live process claims the receiver's node ID. */
export const REPLY_FLAG_CONFLICT = 1;
/** {@link ProbeReplyPacket} flag (with {@link REPLY_FLAG_CONFLICT}): the replier talks to that other process. */
export const REPLY_FLAG_REFUSED = 2;

/** Largest packet the format can describe (u16 frame lengths). */
export const MAX_PACKET_BYTES = 65_535;
/** Bytes a DATA packet adds after the header: seq and frame count. */
export const DATA_FIXED_BYTES = 6;
/** Bytes of a whole-message frame before its payload. */
export const WHOLE_FRAME_OVERHEAD = 5;
/** Bytes of a fragment frame before its payload. */
export const FRAGMENT_FRAME_OVERHEAD = 17;
/** Most selective-ack ranges one ACK carries. */
export const MAX_ACK_RANGES = 64;
/** Largest incarnation (exclusive): it must fit a double exactly. */
export const MAX_INCARNATION = 2 ** 53;

const FRAME_WHOLE = 0;
const FRAME_FRAGMENT = 1;

/** Fields every packet carries. */
export interface PacketHeader {
  /** Node ID of the sender. */
  srcId: string;
  /** Node ID the sender meant the packet for. */
  dstId: string;
  /** Incarnation of the sender. */
  srcInc: number;
  /** Incarnation of the receiver as the sender believes it (0 = not known yet). */
  dstInc: number;
  /** Data session of the sender (DATA) or the session being answered (ACK, HELLO). */
  epoch: number;
}

/** One message or one fragment of a message inside a DATA packet. */
export interface DataFrame {
  /** Upper-layer user, 0..65535. */
  channel: number;
  /** Whether the frame holds a whole message (then `msgId`, `total`, `offset` are 0, len, 0). */
  whole: boolean;
  /** Message number within the session (fragments only). */
  msgId: number;
  /** Length of the whole message. */
  total: number;
  /** Position of `bytes` within the message. */
  offset: number;
  /** The payload: a view into the packet, valid only as long as the packet is. */
  bytes: Uint8Array;
}

/** A decoded DATA packet. */
export interface DataPacket extends PacketHeader {
  /** Discriminant. */
  type: typeof TYPE_DATA;
  /** Packet sequence number within the session, ≥ 1. */
  seq: number;
  /** The frames, in packet order. */
  frames: DataFrame[];
}

/** A decoded ACK packet. */
export interface AckPacket extends PacketHeader {
  /** Discriminant. */
  type: typeof TYPE_ACK;
  /** Every seq ≤ cum has arrived. */
  cum: number;
  /** Selective acks above `cum`: flat pairs `[first, last, first, last, …]`, inclusive, ascending. */
  ranges: number[];
}

/** A decoded HELLO packet. */
export interface HelloPacket extends PacketHeader {
  /** Discriminant. */
  type: typeof TYPE_HELLO;
}

/** A decoded PROBE packet. */
export interface ProbePacket extends PacketHeader {
  /** Discriminant. */
  type: typeof TYPE_PROBE;
  /** Random number the reply must echo, below 2^53. */
  nonce: number;
}

/** A decoded PROBE_REPLY packet; `epoch` is the replier's data session towards the prober (0: none). */
export interface ProbeReplyPacket extends PacketHeader {
  /** Discriminant. */
  type: typeof TYPE_PROBE_REPLY;
  /** The nonce of the PROBE being answered. */
  nonce: number;
  /** Lowest sequence number of `epoch` not yet acknowledged (every lower one was). */
  baseSeq: number;
  /** Most packets the replier keeps in flight: how far above `baseSeq` its packets can be. */
  window: number;
  /** 0, {@link REPLY_FLAG_CONFLICT}, or that and {@link REPLY_FLAG_REFUSED}. */
  flags: number;
  /** With {@link REPLY_FLAG_CONFLICT}: the other live incarnation of the prober's ID; else 0. */
  otherInc: number;
}

/** A decoded CONFLICT packet. */
export interface ConflictPacket extends PacketHeader {
  /** Discriminant. */
  type: typeof TYPE_CONFLICT;
}

/** Any decoded packet. */
/** A decoded DISCOVER packet (its `dstId` means nothing). */
export interface DiscoverPacket extends PacketHeader {
  /** Discriminant. */
  type: typeof TYPE_DISCOVER;
}

/** Any decoded packet. */
export type Packet =
  | DataPacket
  | AckPacket
  | HelloPacket
  | ProbePacket
  | ProbeReplyPacket
  | ConflictPacket
  | DiscoverPacket;

/** Bounds the decoder enforces beyond the format itself. */
export interface DecodeLimits {
  /** Largest message a fragment may claim to belong to. */
  maxMessageBytes: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * UTF-8 bytes of a node ID.
 * @throws {RangeError} when the ID is empty or longer than 255 bytes.
 */
export function encodeNodeId(nodeId: string): Uint8Array {
  const bytes = encoder.encode(nodeId);
  if (bytes.length === 0 || bytes.length > 255) {
    throw new RangeError(`node ID must be 1..255 bytes of UTF-8, got ${bytes.length}`);
  }
  return bytes;
}

/** Length of the header for the given ID byte lengths. */
export function headerSize(srcIdLen: number, dstIdLen: number): number {
  return 4 + srcIdLen + dstIdLen + 20;
}

/** Writes a header at offset 0 of `buf`; returns the offset after it. */
export function writeHeader(
  buf: Uint8Array,
  type: number,
  srcId: Uint8Array,
  dstId: Uint8Array,
  srcInc: number,
  dstInc: number,
  epoch: number,
): number {
  buf[0] = PROTOCOL_VERSION;
  buf[1] = type;
  buf[2] = srcId.length;
  buf[3] = dstId.length;
  buf.set(srcId, 4);
  buf.set(dstId, 4 + srcId.length);
  let p = 4 + srcId.length + dstId.length;
  p = writeU64(buf, p, srcInc);
  p = writeU64(buf, p, dstInc);
  return writeU32(buf, p, epoch);
}

/** Overwrites the `dstInc` field of an encoded packet (it may be learned after the packet was built). */
export function patchDstInc(buf: Uint8Array, dstInc: number): void {
  writeU64(buf, 4 + buf[2] + buf[3] + 8, dstInc);
}

/** Writes a whole-message frame of `data` at `p`; returns the offset after it. */
export function writeWholeFrame(buf: Uint8Array, p: number, channel: number, data: Uint8Array): number {
  buf[p] = FRAME_WHOLE;
  p = writeU16(buf, p + 1, channel);
  p = writeU16(buf, p, data.length);
  buf.set(data, p);
  return p + data.length;
}

/** Writes a fragment frame carrying `data[offset, offset+len)` at `p`; returns the offset after it. */
export function writeFragmentFrame(
  buf: Uint8Array,
  p: number,
  channel: number,
  msgId: number,
  data: Uint8Array,
  offset: number,
  len: number,
): number {
  buf[p] = FRAME_FRAGMENT;
  p = writeU16(buf, p + 1, channel);
  p = writeU32(buf, p, msgId);
  p = writeU32(buf, p, data.length);
  p = writeU32(buf, p, offset);
  p = writeU16(buf, p, len);
  buf.set(data.subarray(offset, offset + len), p);
  return p + len;
}

/** Writes the DATA fields after the header at `p`; returns the offset of the first frame. */
export function writeDataFields(buf: Uint8Array, p: number, seq: number, frameCount: number): number {
  p = writeU32(buf, p, seq);
  return writeU16(buf, p, frameCount);
}

/** Encodes a complete ACK packet. `ranges` are flat inclusive pairs above `cum`, at most {@link MAX_ACK_RANGES}. */
export function encodeAck(
  srcId: Uint8Array,
  dstId: Uint8Array,
  srcInc: number,
  dstInc: number,
  epoch: number,
  cum: number,
  ranges: readonly number[],
): Uint8Array {
  const n = Math.min(ranges.length >> 1, MAX_ACK_RANGES);
  const buf = new Uint8Array(headerSize(srcId.length, dstId.length) + 5 + 8 * n);
  let p = writeHeader(buf, TYPE_ACK, srcId, dstId, srcInc, dstInc, epoch);
  p = writeU32(buf, p, cum);
  buf[p++] = n;
  for (let i = 0; i < 2 * n; i++) p = writeU32(buf, p, ranges[i]);
  return buf;
}

/** Encodes a complete HELLO packet. */
/** Encodes a DISCOVER packet from `srcId` (its incarnation `srcInc`) with the nonce `nonce`. */
export function encodeDiscover(srcId: Uint8Array, srcInc: number, nonce: number): Uint8Array {
  const buf = new Uint8Array(headerSize(srcId.length, DISCOVER_DST.length));
  writeHeader(buf, TYPE_DISCOVER, srcId, DISCOVER_DST, srcInc, 0, nonce);
  return buf;
}

const DISCOVER_DST = new Uint8Array([0x2a]); // "*"

export function encodeHello(
  srcId: Uint8Array,
  dstId: Uint8Array,
  srcInc: number,
  dstInc: number,
  epoch: number,
): Uint8Array {
  const buf = new Uint8Array(headerSize(srcId.length, dstId.length));
  writeHeader(buf, TYPE_HELLO, srcId, dstId, srcInc, dstInc, epoch);
  return buf;
}

/** Encodes a complete CONFLICT packet. */
export function encodeConflict(
  srcId: Uint8Array,
  dstId: Uint8Array,
  srcInc: number,
  dstInc: number,
): Uint8Array {
  const buf = new Uint8Array(headerSize(srcId.length, dstId.length));
  writeHeader(buf, TYPE_CONFLICT, srcId, dstId, srcInc, dstInc, 0);
  return buf;
}

/** Encodes a complete PROBE packet; `nonce` is an integer in [0, 2^53). */
export function encodeProbe(
  srcId: Uint8Array,
  dstId: Uint8Array,
  srcInc: number,
  dstInc: number,
  nonce: number,
): Uint8Array {
  const buf = new Uint8Array(headerSize(srcId.length, dstId.length) + 8);
  const p = writeHeader(buf, TYPE_PROBE, srcId, dstId, srcInc, dstInc, 0);
  writeU64(buf, p, nonce);
  return buf;
}

/** What a PROBE_REPLY says besides its header. */
export interface ProbeReplyFields {
  /** The nonce of the PROBE being answered. */
  nonce: number;
  /** The replier's data session towards the prober (0: none). */
  epoch: number;
  /** Lowest unacknowledged sequence number of that session. */
  baseSeq: number;
  /** The replier's window, in packets. */
  window: number;
  /** Another live incarnation of the prober's ID, or 0. */
  otherInc: number;
  /** With `otherInc`: whether the replier talks to that one rather than to the prober. */
  refused: boolean;
}

/** Encodes a complete PROBE_REPLY packet. */
export function encodeProbeReply(
  srcId: Uint8Array,
  dstId: Uint8Array,
  srcInc: number,
  dstInc: number,
  f: ProbeReplyFields,
): Uint8Array {
  const conflict = f.otherInc !== 0;
  const buf = new Uint8Array(headerSize(srcId.length, dstId.length) + 17 + (conflict ? 8 : 0));
  let p = writeHeader(buf, TYPE_PROBE_REPLY, srcId, dstId, srcInc, dstInc, f.epoch);
  p = writeU64(buf, p, f.nonce);
  p = writeU32(buf, p, f.baseSeq);
  p = writeU32(buf, p, f.window);
  buf[p++] = conflict ? REPLY_FLAG_CONFLICT | (f.refused ? REPLY_FLAG_REFUSED : 0) : 0;
  if (conflict) writeU64(buf, p, f.otherInc);
  return buf;
}

/**
 * Encodes a DATA packet from decoded form (tests, tools; the manager writes packets in place).
 * @throws {RangeError} when the result would exceed {@link MAX_PACKET_BYTES}.
 */
export function encodeData(header: PacketHeader, seq: number, frames: readonly DataFrame[]): Uint8Array {
  const src = encodeNodeId(header.srcId);
  const dst = encodeNodeId(header.dstId);
  let size = headerSize(src.length, dst.length) + DATA_FIXED_BYTES;
  for (const f of frames) size += (f.whole ? WHOLE_FRAME_OVERHEAD : FRAGMENT_FRAME_OVERHEAD) + f.bytes.length;
  if (size > MAX_PACKET_BYTES) throw new RangeError(`packet of ${size} bytes exceeds ${MAX_PACKET_BYTES}`);
  const buf = new Uint8Array(size);
  let p = writeHeader(buf, TYPE_DATA, src, dst, header.srcInc, header.dstInc, header.epoch);
  p = writeDataFields(buf, p, seq, frames.length);
  for (const f of frames) {
    if (f.whole) {
      p = writeWholeFrame(buf, p, f.channel, f.bytes);
    } else {
      buf[p] = FRAME_FRAGMENT;
      p = writeU16(buf, p + 1, f.channel);
      p = writeU32(buf, p, f.msgId);
      p = writeU32(buf, p, f.total);
      p = writeU32(buf, p, f.offset);
      p = writeU16(buf, p, f.bytes.length);
      buf.set(f.bytes, p);
      p += f.bytes.length;
    }
  }
  return buf;
}

/**
 * Decodes and validates one packet. Frame payloads are views into `bytes` (no copy).
 * @throws {DecodeError} for anything malformed, truncated, oversized or out of bounds — and never
 * any other exception.
 */
export function decodePacket(bytes: Uint8Array, limits: DecodeLimits): Packet {
  const len = bytes.length;
  if (len > MAX_PACKET_BYTES) throw new DecodeError(`packet of ${len} bytes exceeds ${MAX_PACKET_BYTES}`);
  if (len < 4) throw new DecodeError("truncated packet header");
  if (bytes[0] !== PROTOCOL_VERSION) throw new DecodeError(`unsupported wire version ${bytes[0]}`);
  const type = bytes[1];
  const srcLen = bytes[2];
  const dstLen = bytes[3];
  if (srcLen === 0 || dstLen === 0) throw new DecodeError("empty node ID");
  let p = 4;
  const hsize = headerSize(srcLen, dstLen);
  if (len < hsize) throw new DecodeError("truncated packet header");
  const srcId = decodeId(bytes, p, srcLen);
  p += srcLen;
  const dstId = decodeId(bytes, p, dstLen);
  p += dstLen;
  const srcInc = readU64(bytes, p);
  const dstInc = readU64(bytes, p + 8);
  const epoch = readU32(bytes, p + 16);
  p += 20;
  if (srcInc === 0) throw new DecodeError("sender incarnation 0");
  switch (type) {
    case TYPE_DATA:
      return decodeData(bytes, p, {
        type: TYPE_DATA,
        srcId,
        dstId,
        srcInc,
        dstInc,
        epoch,
        seq: 0,
        frames: [],
      }, limits);
    case TYPE_ACK:
      return decodeAck(bytes, p, { type: TYPE_ACK, srcId, dstId, srcInc, dstInc, epoch, cum: 0, ranges: [] });
    case TYPE_HELLO:
      if (p !== len) throw new DecodeError("trailing bytes after HELLO");
      return { type: TYPE_HELLO, srcId, dstId, srcInc, dstInc, epoch };
    case TYPE_CONFLICT:
      if (p !== len) throw new DecodeError("trailing bytes after CONFLICT");
      return { type: TYPE_CONFLICT, srcId, dstId, srcInc, dstInc, epoch };
    case TYPE_DISCOVER:
      if (p !== len) throw new DecodeError("trailing bytes after DISCOVER");
      return { type: TYPE_DISCOVER, srcId, dstId, srcInc, dstInc, epoch };
    case TYPE_PROBE:
      if (len - p !== 8) throw new DecodeError("PROBE must carry exactly a nonce");
      return { type: TYPE_PROBE, srcId, dstId, srcInc, dstInc, epoch, nonce: readU64(bytes, p) };
    case TYPE_PROBE_REPLY:
      return decodeProbeReply(bytes, p, { srcId, dstId, srcInc, dstInc, epoch });
    default:
      throw new DecodeError(`unknown packet type ${type}`);
  }
}

function decodeData(bytes: Uint8Array, p: number, packet: DataPacket, limits: DecodeLimits): DataPacket {
  const len = bytes.length;
  if (len - p < DATA_FIXED_BYTES) throw new DecodeError("truncated DATA fields");
  packet.seq = readU32(bytes, p);
  if (packet.seq === 0) throw new DecodeError("DATA seq 0");
  const count = readU16(bytes, p + 4);
  p += DATA_FIXED_BYTES;
  // Bound the frame array by what the remaining bytes can hold before allocating anything.
  if (count === 0 || count * WHOLE_FRAME_OVERHEAD > len - p) {
    throw new DecodeError(`bad frame count ${count}`);
  }
  const frames = packet.frames;
  for (let i = 0; i < count; i++) {
    if (len - p < WHOLE_FRAME_OVERHEAD) throw new DecodeError("truncated frame");
    const kind = bytes[p];
    const channel = readU16(bytes, p + 1);
    let msgId = 0;
    let total: number;
    let offset = 0;
    let size: number;
    if (kind === FRAME_WHOLE) {
      size = readU16(bytes, p + 3);
      total = size;
      p += WHOLE_FRAME_OVERHEAD;
    } else if (kind === FRAME_FRAGMENT) {
      if (len - p < FRAGMENT_FRAME_OVERHEAD) throw new DecodeError("truncated fragment frame");
      msgId = readU32(bytes, p + 3);
      total = readU32(bytes, p + 7);
      offset = readU32(bytes, p + 11);
      size = readU16(bytes, p + 15);
      p += FRAGMENT_FRAME_OVERHEAD;
      if (size === 0 || offset + size > total) throw new DecodeError("fragment outside its message");
    } else {
      throw new DecodeError(`unknown frame kind ${kind}`);
    }
    if (total > limits.maxMessageBytes) {
      throw new DecodeError(`a ${total}-byte message exceeds maxMessageBytes (${limits.maxMessageBytes})`);
    }
    if (len - p < size) throw new DecodeError("truncated frame payload");
    frames.push({
      channel,
      whole: kind === FRAME_WHOLE,
      msgId,
      total,
      offset,
      bytes: bytes.subarray(p, p + size),
    });
    p += size;
  }
  if (p !== len) throw new DecodeError("trailing bytes after DATA frames");
  return packet;
}

function decodeAck(bytes: Uint8Array, p: number, packet: AckPacket): AckPacket {
  const len = bytes.length;
  if (len - p < 5) throw new DecodeError("truncated ACK fields");
  packet.cum = readU32(bytes, p);
  const n = bytes[p + 4];
  p += 5;
  if (n > MAX_ACK_RANGES || len - p !== 8 * n) throw new DecodeError("bad ACK range count");
  let last = packet.cum;
  for (let i = 0; i < n; i++) {
    const first = readU32(bytes, p);
    const end = readU32(bytes, p + 4);
    p += 8;
    // Ranges must ascend strictly above cum and not touch each other, or they were not made by us.
    if (first <= last + 1 || end < first) throw new DecodeError("bad ACK range");
    packet.ranges.push(first, end);
    last = end;
  }
  return packet;
}

function decodeProbeReply(bytes: Uint8Array, p: number, h: PacketHeader): ProbeReplyPacket {
  const len = bytes.length;
  if (len - p < 17) throw new DecodeError("truncated PROBE_REPLY fields");
  const nonce = readU64(bytes, p);
  const baseSeq = readU32(bytes, p + 8);
  const window = readU32(bytes, p + 12);
  const flags = bytes[p + 16];
  p += 17;
  if (baseSeq === 0 || window === 0) throw new DecodeError("PROBE_REPLY with seq or window 0");
  if (flags !== 0 && flags !== REPLY_FLAG_CONFLICT && flags !== (REPLY_FLAG_CONFLICT | REPLY_FLAG_REFUSED)) {
    throw new DecodeError(`unknown PROBE_REPLY flags ${flags}`);
  }
  let otherInc = 0;
  if (flags !== 0) {
    if (len - p !== 8) throw new DecodeError("PROBE_REPLY conflict flag without an incarnation");
    otherInc = readU64(bytes, p);
    if (otherInc === 0) throw new DecodeError("PROBE_REPLY conflict with incarnation 0");
  } else if (p !== len) throw new DecodeError("trailing bytes after PROBE_REPLY");
  return { type: TYPE_PROBE_REPLY, ...h, nonce, baseSeq, window, flags, otherInc };
}

function decodeId(bytes: Uint8Array, p: number, n: number): string {
  try {
    return decoder.decode(bytes.subarray(p, p + n));
  } catch {
    throw new DecodeError("node ID is not valid UTF-8");
  }
}

function writeU16(buf: Uint8Array, p: number, v: number): number {
  buf[p] = v >>> 8;
  buf[p + 1] = v;
  return p + 2;
}

function writeU32(buf: Uint8Array, p: number, v: number): number {
  buf[p] = v >>> 24;
  buf[p + 1] = v >>> 16;
  buf[p + 2] = v >>> 8;
  buf[p + 3] = v;
  return p + 4;
}

function writeU64(buf: Uint8Array, p: number, v: number): number {
  const hi = Math.floor(v / 4294967296);
  writeU32(buf, p, hi);
  return writeU32(buf, p + 4, v - hi * 4294967296);
}

function readU16(buf: Uint8Array, p: number): number {
  return (buf[p] << 8) | buf[p + 1];
}

function readU32(buf: Uint8Array, p: number): number {
  return ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
}

function readU64(buf: Uint8Array, p: number): number {
  const hi = readU32(buf, p);
  if (hi >= 2 ** 21) throw new DecodeError("incarnation or nonce out of range (≥ 2^53)");
  return hi * 4294967296 + readU32(buf, p + 4);
}
