/**
 * The secured packet, byte by byte:
 *
 * ```text
 * packet  u8 marker (0xA1 = HMAC, 0xA2 = AES-GCM, 0xA3 = GMAC) | u32 salt | u64 counter | TM header | body | tag16
 * ```
 * The TM header stays in clear (it names the sender and receiver, whose pair of IDs picks the key);
 * `salt | counter` is the AES-GCM nonce.
 * @module
 */

import { DecodeError } from "../../base/errors.ts";

/** Bytes the wrapper adds to every packet: marker, salt, counter, tag. */
export const SECURE_OVERHEAD: number = 1 + 4 + 8 + 16;
/** Marker of HMAC-SHA-256-tagged packets. */
export const MARKER_HMAC = 0xa1;
/** Marker of AES-256-GCM-encrypted packets. */
export const MARKER_GCM = 0xa2;
/** Marker of GMAC-tagged packets. */
export const MARKER_GMAC = 0xa3;
/** Bytes before the TM header: marker, salt, counter. */
export const PREFIX = 13;
/** Bytes of the tag. */
export const TAG = 16;

const dec = new TextDecoder("utf-8", { fatal: true });

/** Source and destination IDs and the header end of a TM packet at `off`; undefined when malformed. */
export function tmIds(p: Uint8Array, off: number): { src: string; dst: string; end: number } | undefined {
  if (p.length < off + 4 || p[off] !== 1) return undefined;
  const sl = p[off + 2];
  const dl = p[off + 3];
  const end = off + 4 + sl + dl + 20;
  if (sl === 0 || dl === 0 || p.length < end) return undefined;
  try {
    return {
      src: dec.decode(p.subarray(off + 4, off + 4 + sl)),
      dst: dec.decode(p.subarray(off + 4 + sl, off + 4 + sl + dl)),
      end,
    };
  } catch {
    return undefined;
  }
}

/** Writes a 53-bit integer as u64 big-endian. */
export function writeU64(b: Uint8Array, p: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  const lo = v >>> 0;
  b[p] = hi >>> 24;
  b[p + 1] = hi >>> 16;
  b[p + 2] = hi >>> 8;
  b[p + 3] = hi;
  b[p + 4] = lo >>> 24;
  b[p + 5] = lo >>> 16;
  b[p + 6] = lo >>> 8;
  b[p + 7] = lo;
}

/** Reads a u64 big-endian (exact below 2^53). */
export function readU64(b: Uint8Array, p: number): number {
  const hi = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  const lo = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0;
  return hi * 4294967296 + lo;
}

/** Compares two tags in time independent of where they differ. */
export function equalTag(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/**
 * Unwraps the prefix of a secured packet without checking it: marker, counter and the TM header
 * IDs. For fuzzing and diagnostics; never trust its result.
 * @throws {DecodeError} for anything that is not a well-formed secured packet.
 */
export function decodeSecureEnvelope(
  p: Uint8Array,
): { encrypted: boolean; counter: number; src: string; dst: string } {
  if (p.length < PREFIX + TAG) {
    throw new DecodeError(`secured packet of ${p.length} bytes is shorter than ${PREFIX + TAG}`);
  }
  if (p[0] !== MARKER_HMAC && p[0] !== MARKER_GCM && p[0] !== MARKER_GMAC) {
    throw new DecodeError(`unknown secured packet marker ${p[0]}`);
  }
  const ids = tmIds(p, PREFIX);
  if (ids === undefined || ids.end > p.length - TAG) {
    throw new DecodeError("secured packet holds no valid Transport Manager header");
  }
  return { encrypted: p[0] === MARKER_GCM, counter: readU64(p, 5), src: ids.src, dst: ids.dst };
}
