/**
 * The record format of the GDM's journal file (pure: bytes in, bytes out). A record is
 * `magic "RGJ1" | u32 length | u32 CRC-32 of the body | CBOR body`, the body one of `["i", key, item]`,
 * `["l", name, lock]` or `["c", clock, applied]` (the Lamport clock and the replica's place in the
 * group's history); the last record of a key wins. Reading never gives up at a
 * bad record: a record whose checksum or body does not verify is *reported* and the reader looks for
 * the next magic at which a valid record starts, so everything after a corrupt record is still loaded.
 * An incomplete record at the very end is what an interrupted append leaves: it is skipped quietly
 * (nothing in it was acknowledged — a commit is acknowledged only once written whole).
 * @module
 */
import { Encoder } from "cbor-x/encode";
import { itemR, itemW, lockR, lockW } from "./codec.ts";
import type { Item, LockState } from "./model.ts";
import type { StoredState } from "./storage.ts";

const MAGIC = [0x52, 0x47, 0x4a, 0x31]; // "RGJ1"
const HEADER = 12;
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function record(body: unknown): Uint8Array {
  const b = cbor.encode(body);
  const out = new Uint8Array(HEADER + b.length);
  out.set(MAGIC, 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(4, b.length);
  dv.setUint32(8, crc32(b));
  out.set(b, HEADER);
  return out;
}

/** The records of a batch: items, locks, then the clock. */
export function encodeRecords(
  items: Iterable<readonly [string, Item]>,
  locks: Iterable<readonly [string, LockState]>,
  clock: number,
  applied: number,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const [k, it] of items) out.push(record(["i", k, itemW(it)]));
  for (const [n, l] of locks) out.push(record(["l", n, lockW(l)]));
  out.push(record(["c", clock, applied]));
  return out;
}

/** Joins byte arrays. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function magicAt(bytes: Uint8Array, o: number): boolean {
  return bytes[o] === MAGIC[0] && bytes[o + 1] === MAGIC[1] && bytes[o + 2] === MAGIC[2] &&
    bytes[o + 3] === MAGIC[3];
}

type Parsed =
  | { kind: "record"; end: number; body: unknown }
  | { kind: "bad"; why: string }
  | { kind: "short" };

function parseAt(bytes: Uint8Array, o: number): Parsed {
  if (o + HEADER > bytes.length) return { kind: "short" };
  if (!magicAt(bytes, o)) return { kind: "bad", why: "no record starts here" };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = dv.getUint32(o + 4);
  if (o + HEADER + len > bytes.length) return { kind: "short" };
  const body = bytes.subarray(o + HEADER, o + HEADER + len);
  if (crc32(body) !== dv.getUint32(o + 8)) return { kind: "bad", why: "checksum mismatch" };
  try {
    return { kind: "record", end: o + HEADER + len, body: cbor.decode(body) };
  } catch {
    return { kind: "bad", why: "undecodable body" };
  }
}

/** What a journal holds, and per key the bytes of its last record (for the compaction estimate). */
export interface ParsedJournal extends StoredState {
  /** Bytes of the live records. */
  liveBytes: number;
}

/** Reads a journal (see the module comment): every valid record, every problem reported. */
export function parseJournal(bytes: Uint8Array, name = "journal"): ParsedJournal {
  const items = new Map<string, Item>();
  const locks = new Map<string, LockState>();
  const sizes = new Map<string, number>();
  const problems: string[] = [];
  let clock = 0;
  let applied = 0;
  let o = 0;
  while (o < bytes.length) {
    const p = parseAt(bytes, o);
    if (p.kind === "record") {
      const size = p.end - o;
      o = p.end;
      try {
        const b = p.body as unknown[];
        if (!Array.isArray(b)) throw new Error("not a record");
        if (b[0] === "i" && typeof b[1] === "string") {
          items.set(b[1], itemR(b[2]));
          sizes.set(`i${b[1]}`, size);
        } else if (b[0] === "l" && typeof b[1] === "string") {
          locks.set(b[1], lockR(b[2]));
          sizes.set(`l${b[1]}`, size);
        } else if (b[0] === "c" && typeof b[1] === "number") {
          clock = Math.max(clock, b[1]);
          if (typeof b[2] === "number") applied = b[2];
        } else throw new Error("unknown record");
      } catch {
        problems.push(
          `${name}: a record at byte ${o - size} has a valid checksum but an unknown form; skipped`,
        );
      }
      continue;
    }
    // Look for the next record that verifies; an incomplete record at the end is an interrupted append.
    let next = -1;
    for (let q = o + 1; q + HEADER <= bytes.length; q++) {
      if (magicAt(bytes, q) && parseAt(bytes, q).kind === "record") {
        next = q;
        break;
      }
    }
    if (next < 0) break;
    problems.push(
      `${name}: bytes ${o}..${next} are corrupt (${p.kind === "bad" ? p.why : "a truncated record"}); ` +
        "the records before and after them were loaded",
    );
    o = next;
  }
  let liveBytes = 0;
  for (const s of sizes.values()) liveBytes += s;
  return { items: [...items], locks: [...locks], clock, applied, problems, liveBytes };
}
