/**
 * File-backed GDM storage for Node and Deno: an append-only log of CBOR records in one file,
 * `u32 length | cbor([key, item])` for items and `u32 length | cbor(["", {clock}])` for the Lamport
 * counter; loading replays the log (last record of a key wins) and compacts it into a fresh file.
 * `node:fs/promises` is imported lazily, so this module (and `gdm/mod.ts`) loads in browsers.
 * @module
 */
import { Encoder } from "cbor-x/encode";
import type { Item } from "./state.ts";
import type { StorageAdapter, StorageBatch, StoredState } from "./storage.ts";

type Fs = typeof import("node:fs/promises");

// A variable specifier keeps bundlers from resolving node:fs/promises for browser builds.
const FS_MODULE = ["node", "fs/promises"].join(":");
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });
const CLOCK_KEY = "";

async function loadFs(): Promise<Fs> {
  try {
    return (await import(/* @vite-ignore */ FS_MODULE)) as Fs;
  } catch (err) {
    throw new Error("FileStorage needs node:fs/promises (Node or Deno); use IndexedDbStorage in browsers", {
      cause: err,
    });
  }
}

function record(key: string, body: unknown): Uint8Array {
  const b = cbor.encode([key, body]);
  const out = new Uint8Array(b.length + 4);
  new DataView(out.buffer).setUint32(0, b.length);
  out.set(b, 4);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
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

/** Parses a log; a torn last record (crash during append) is ignored. */
export function parseLog(bytes: Uint8Array): StoredState {
  const items = new Map<string, Item>();
  let clock = 0;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  while (o + 4 <= bytes.length) {
    const len = view.getUint32(o);
    if (o + 4 + len > bytes.length) break;
    let rec: [string, unknown];
    try {
      rec = cbor.decode(bytes.subarray(o + 4, o + 4 + len)) as [string, unknown];
    } catch {
      break;
    }
    o += 4 + len;
    if (rec[0] === CLOCK_KEY) clock = Math.max(clock, (rec[1] as { clock: number }).clock);
    else items.set(rec[0], rec[1] as Item);
  }
  return { items: [...items], clock };
}

/** Encodes a whole state as a compact log. */
export function encodeLog(state: StoredState): Uint8Array {
  return concat([...state.items.map(([k, it]) => record(k, it)), record(CLOCK_KEY, { clock: state.clock })]);
}

/** Keeps a node's items in one file (Node, Deno). */
export class FileStorage implements StorageAdapter {
  #fs: Fs | undefined;
  /** The file's path. */
  readonly path: string;
  /** Storage in the file at `path` (created on the first write). */
  constructor(path: string) {
    this.path = path;
  }

  async #io(): Promise<Fs> {
    return this.#fs ??= await loadFs();
  }

  /** Reads and compacts the log (empty state when the file does not exist). */
  async load(): Promise<StoredState> {
    const fs = await this.#io();
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await fs.readFile(this.path));
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") return { items: [], clock: 0 };
      throw err;
    }
    const state = parseLog(bytes);
    await this.#replace(state);
    return state;
  }

  /** Appends a batch (or replaces the file atomically with `replace`). */
  async write(batch: StorageBatch): Promise<void> {
    if (batch.replace) return this.#replace({ items: batch.items, clock: batch.clock });
    const fs = await this.#io();
    await fs.appendFile(
      this.path,
      concat([...batch.items.map(([k, it]) => record(k, it)), record(CLOCK_KEY, { clock: batch.clock })]),
    );
  }

  async #replace(state: StoredState): Promise<void> {
    const fs = await this.#io();
    const tmp = `${this.path}.tmp`;
    await fs.writeFile(tmp, encodeLog(state));
    await fs.rename(tmp, this.path);
  }

  /** Nothing to release (every write opens and closes the file). */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
