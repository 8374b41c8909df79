/**
 * File-backed GDM storage for Node and Deno: a journal of checksummed records (`journal.ts`) in one
 * file. A group commit is one append; with `sync` the file's data is flushed to the disk (fdatasync)
 * before the commit counts as stored, and the directory entry too the first time the file appears.
 * A `replace` (after a state transfer, or to compact a journal that grew to more than twice its live
 * records) writes a new file beside it, syncs it, renames it over the journal and syncs the directory:
 * atomic, whatever moment a crash picks. Loading reports corrupt records and keeps everything else;
 * a damaged journal is copied aside (`.corrupt`, `.corrupt-2`, …) before anything rewrites it.
 * `node:fs/promises` is imported lazily, so this module (and `gdm/mod.ts`) loads in browsers.
 * @module
 */
import { concat, encodeRecords, parseJournal } from "./journal.ts";
import type { StorageAdapter, StorageBatch, StorageWriteResult, StoredState } from "./storage.ts";

type Fs = typeof import("node:fs/promises");
type Handle = Awaited<ReturnType<Fs["open"]>>;

// A variable specifier keeps bundlers from resolving node:fs/promises for browser builds.
const FS_MODULE = ["node", "fs/promises"].join(":");
/** Below this many bytes a journal is never compacted. */
const COMPACT_FLOOR = 1 << 20;

async function loadFs(): Promise<Fs> {
  try {
    return (await import(/* @vite-ignore */ FS_MODULE)) as Fs;
  } catch (err) {
    throw new Error("FileStorage needs node:fs/promises (Node or Deno); use IndexedDbStorage in browsers", {
      cause: err,
    });
  }
}

function dirOf(path: string): string {
  const i = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

/** Keeps a member's replica in one journal file (Node, Deno). */
export class FileStorage implements StorageAdapter {
  /** The journal's path. */
  readonly path: string;
  #fs: Fs | undefined;
  #handle: Handle | undefined;
  /** Whether the directory entry of the journal is known to be on disk. */
  #dirSynced = false;
  #fileBytes = 0;
  #liveBytes = 0;
  /** The loaded journal had problems: copy it aside before the first rewrite. */
  #damaged = false;

  /** Storage in the journal at `path` (created by the first write; its directory must exist). */
  constructor(path: string) {
    this.path = path;
  }

  async #io(): Promise<Fs> {
    return this.#fs ??= await loadFs();
  }

  /** Reads the journal (empty state when there is none). Nothing is rewritten here. */
  async load(): Promise<StoredState> {
    const fs = await this.#io();
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await fs.readFile(this.path));
    } catch (err) {
      if ((err as { code?: string }).code === "ENOENT") {
        return { items: [], locks: [], clock: 0, applied: 0, problems: [] };
      }
      throw err;
    }
    const parsed = parseJournal(bytes, this.path);
    this.#fileBytes = bytes.length;
    this.#liveBytes = parsed.liveBytes;
    this.#damaged = parsed.problems.length > 0;
    this.#dirSynced = true;
    const { items, locks, clock, applied, problems } = parsed;
    return { items, locks, clock, applied, problems };
  }

  /** Appends a group commit (or replaces the journal with `replace`); with `sync`, durably. */
  async write(batch: StorageBatch): Promise<StorageWriteResult> {
    const records = encodeRecords(batch.items, batch.locks, batch.clock, batch.applied);
    if (batch.replace) {
      await this.#replace(records);
      return {};
    }
    const fs = await this.#io();
    if (this.#handle === undefined) this.#handle = await fs.open(this.path, "a");
    const bytes = concat(records);
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await this.#handle.write(bytes, written, bytes.length - written);
      written += bytesWritten;
    }
    this.#fileBytes += bytes.length;
    this.#liveBytes += bytes.length;
    if (batch.sync) {
      await this.#handle.datasync();
      if (!this.#dirSynced) await this.#syncDir();
    }
    return { compact: this.#fileBytes > COMPACT_FLOOR && this.#fileBytes > 2 * this.#liveBytes };
  }

  async #replace(records: Uint8Array[]): Promise<void> {
    const fs = await this.#io();
    if (this.#damaged) await this.#keepDamaged(fs);
    const bytes = concat(records);
    const tmp = `${this.path}.tmp`;
    const h = await fs.open(tmp, "w");
    try {
      let written = 0;
      while (written < bytes.length) {
        const { bytesWritten } = await h.write(bytes, written, bytes.length - written);
        written += bytesWritten;
      }
      await h.datasync();
    } finally {
      await h.close();
    }
    await this.#handle?.close();
    this.#handle = undefined;
    await fs.rename(tmp, this.path);
    await this.#syncDir();
    this.#fileBytes = bytes.length;
    this.#liveBytes = bytes.length;
  }

  /** A journal that had corrupt records is copied aside before it is rewritten (for inspection). */
  async #keepDamaged(fs: Fs): Promise<void> {
    for (let i = 1;; i++) {
      const to = `${this.path}.corrupt${i === 1 ? "" : `-${i}`}`;
      try {
        await fs.copyFile(this.path, to, 1 /* COPYFILE_EXCL */);
        this.#damaged = false;
        return;
      } catch (err) {
        if ((err as { code?: string }).code !== "EEXIST") throw err;
      }
    }
  }

  async #syncDir(): Promise<void> {
    const fs = await this.#io();
    const d = await fs.open(dirOf(this.path), "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
    this.#dirSynced = true;
  }

  /** Closes the journal. */
  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
  }
}
