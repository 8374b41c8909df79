/**
 * A small seeded mutation fuzzer for decoders. Each case is random bytes or a mutated valid
 * encoding (bit flips, byte sets, truncations, length-field inflation, splices, duplicated or
 * deleted regions). A decoder must return or throw its typed DecodeError — nothing else — within
 * a time bound, and what it returns must be bounded by the input (no allocation beyond it).
 * Case counts: `FUZZ_CASES` (total across all decoders of the suite; default 120,000),
 * `FUZZ_SEED` to replay one seed. A failure names the seed and the case's bytes in hex.
 * @module
 */
import { DecodeError } from "../../base/errors.ts";
import { Random } from "../../base/random.ts";

/** One decoder under test. */
export interface FuzzTarget {
  /** Name in failure messages. */
  name: string;
  /** Valid encodings to mutate. */
  corpus: Uint8Array[];
  /** The decoder; return value goes to `check`. */
  decode: (bytes: Uint8Array) => unknown;
  /** Extra bound on the result beyond the generic one; throw to fail. */
  check?: (result: unknown, input: Uint8Array) => void;
  /** Largest input length for purely random cases. @default {2048} */
  maxRandomLength?: number;
}

/** Number of decoders the suite fuzzes; the per-target share of FUZZ_CASES. */
export function casesPerTarget(targets: number): number {
  const total = Number(process.env.FUZZ_CASES ?? 120_000);
  return Math.ceil(total / targets);
}

/** Bytes newly allocated in a result: Uint8Arrays not sharing the input's buffer, plus 8 per array slot or object key. */
export function resultSize(v: unknown, input: Uint8Array, seen = new Set<unknown>()): number {
  if (v === null || typeof v !== "object" || seen.has(v)) return typeof v === "string" ? v.length : 0;
  seen.add(v);
  if (ArrayBuffer.isView(v)) return v.buffer === input.buffer ? 0 : v.byteLength;
  if (v instanceof Map || v instanceof Set) {
    let n = 8 * v.size;
    for (const x of v instanceof Map ? [...v.keys(), ...v.values()] : v) n += resultSize(x, input, seen);
    return n;
  }
  let n = 0;
  for (const [k, x] of Object.entries(v)) n += 8 + k.length + resultSize(x, input, seen);
  return n;
}

/** Mutates `base` (or two corpus items) into a new case. */
export function mutate(r: Random, corpus: Uint8Array[], maxRandomLength: number): Uint8Array {
  const pick = () => corpus[r.int(corpus.length)];
  const mode = r.int(10);
  if (mode === 0 || corpus.length === 0) {
    const out = new Uint8Array(r.int(maxRandomLength + 1));
    for (let i = 0; i < out.length; i++) out[i] = r.int(256);
    return out;
  }
  let b = pick().slice();
  const rounds = 1 + r.int(4);
  for (let k = 0; k < rounds; k++) {
    switch (r.int(8)) {
      case 0: // bit flip
        if (b.length) b[r.int(b.length)] ^= 1 << r.int(8);
        break;
      case 1: // interesting byte
        if (b.length) b[r.int(b.length)] = [0, 1, 0x7f, 0x80, 0xfe, 0xff][r.int(6)];
        break;
      case 2: // truncate
        b = b.slice(0, r.int(b.length + 1));
        break;
      case 3: { // length-field inflation: 1, 2 or 4 bytes of 0xff / big values
        if (!b.length) break;
        const at = r.int(b.length);
        const w = [1, 2, 4][r.int(3)];
        for (let i = 0; i < w && at + i < b.length; i++) b[at + i] = r.chance(0.5) ? 0xff : r.int(256);
        break;
      }
      case 4: { // splice with another corpus item
        const o = pick();
        const cut = r.int(b.length + 1);
        const from = r.int(o.length + 1);
        const next = new Uint8Array(cut + o.length - from);
        next.set(b.subarray(0, cut));
        next.set(o.subarray(from), cut);
        b = next;
        break;
      }
      case 5: { // duplicate a region
        const s = r.int(b.length + 1);
        const e = s + r.int(b.length - s + 1);
        const next = new Uint8Array(b.length + e - s);
        next.set(b.subarray(0, e));
        next.set(b.subarray(s), e);
        b = next;
        break;
      }
      case 6: { // delete a region
        const s = r.int(b.length + 1);
        const e = s + r.int(Math.min(16, b.length - s) + 1);
        const next = new Uint8Array(b.length - (e - s));
        next.set(b.subarray(0, s));
        next.set(b.subarray(e), s);
        b = next;
        break;
      }
      default: // append random bytes
      {
        const extra = r.int(16);
        const next = new Uint8Array(b.length + extra);
        next.set(b);
        for (let i = b.length; i < next.length; i++) next[i] = r.int(256);
        b = next;
      }
    }
  }
  return b;
}

function hex(b: Uint8Array): string {
  return Array.from(b.subarray(0, 256), (x) => x.toString(16).padStart(2, "0")).join("") +
    (b.length > 256 ? "…" : "");
}

/** Result of {@link fuzz}. */
export interface FuzzReport {
  cases: number;
  accepted: number;
  rejected: number;
  slowestMs: number;
}

/** Runs `cases` cases against `t` from `seed`; throws with the seed and the input on the first failure. */
export function fuzz(t: FuzzTarget, seed: number, cases: number, maxCaseMs = 250): FuzzReport {
  const r = new Random(seed);
  const report: FuzzReport = { cases: 0, accepted: 0, rejected: 0, slowestMs: 0 };
  const maxLen = t.maxRandomLength ?? 2048;
  for (let i = 0; i < cases; i++) {
    const input = mutate(r, t.corpus, maxLen);
    const start = performance.now();
    let result: unknown;
    let ok = false;
    try {
      result = t.decode(input);
      ok = true;
    } catch (e) {
      if (!(e instanceof DecodeError)) {
        throw new Error(
          `${t.name}: seed ${seed} case ${i}: threw ${(e as Error)?.name}: ${
            (e as Error)?.message
          } (not DecodeError) on ${input.length} bytes ${hex(input)}\n` +
            `replay: FUZZ_SEED=${seed} npx vitest run tests/fuzz`,
          { cause: e },
        );
      }
    }
    const ms = performance.now() - start;
    report.slowestMs = Math.max(report.slowestMs, ms);
    if (ms > maxCaseMs) {
      throw new Error(
        `${t.name}: seed ${seed} case ${i}: took ${ms.toFixed(0)} ms on ${input.length} bytes ${hex(input)}`,
      );
    }
    report.cases++;
    if (ok) {
      report.accepted++;
      const size = resultSize(result, input);
      if (size > 64 * input.length + 4096) {
        throw new Error(
          `${t.name}: seed ${seed} case ${i}: result of ~${size} bytes from ${input.length} input bytes ${
            hex(input)
          }`,
        );
      }
      t.check?.(result, input);
    } else report.rejected++;
  }
  return report;
}

/** The seed of this run: FUZZ_SEED, else a fresh one (printed by the caller on failure). */
export function runSeed(salt: number): number {
  const s = process.env.FUZZ_SEED;
  return s !== undefined ? Number(s) : (Date.now() ^ (salt * 0x9e3779b9)) >>> 0;
}
