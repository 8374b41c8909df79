/**
 * Persistence: the journal file (appends, a torn tail, a corrupt record in the middle reported with
 * everything after it kept, atomic replace that keeps the damaged file aside), IndexedDB, storage
 * errors that reject the writes waiting for them, writes that resolve only once their commit is
 * durable, group commit, and whole-cluster crashes in the simulator (nothing acknowledged is lost;
 * the Lamport clock starts above everything stored).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StorageError } from "../../gdm/errors.ts";
import { concat, encodeRecords, parseJournal } from "../../gdm/journal.ts";
import { GroupDataManager } from "../../gdm/manager.ts";
import type { Item } from "../../gdm/model.ts";
import { FileStorage } from "../../gdm/storage_file.ts";
import { IndexedDbStorage } from "../../gdm/storage_idb.ts";
import { MemoryStorage, type StorageBatch, type StoredState } from "../../gdm/storage.ts";
import { encodeValue } from "../../gdm/value.ts";
import { GdmCluster } from "../../sim/gdm/cluster.ts";
import { FakeIndexedDb } from "./fake_idb.ts";

const item = (v: unknown, c: number, n = "a"): Item => ({ value: encodeValue(v), stamp: [c, n] });
const batch = (
  items: Array<[string, Item]>,
  clock: number,
  extra: Partial<StorageBatch> = {},
): StorageBatch => ({
  items,
  locks: [],
  clock,
  applied: clock,
  replace: false,
  sync: true,
  ...extra,
});
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gdm-"));
  dirs.push(dir);
  return dir;
}

describe("FileStorage (a journal of checksummed records)", () => {
  it("appends group commits, loads the last version of each key, skips a torn tail quietly, replaces atomically", async () => {
    const path = join(tempDir(), "n1.gdm");
    const s = new FileStorage(path);
    expect(await s.load()).toEqual({ items: [], locks: [], clock: 0, applied: 0, problems: [] });
    await s.write(batch([["a", item(1, 1)], ["b", item("x", 2)]], 2));
    await s.write({ ...batch([["a", item(2, 3)]], 3), locks: [["L", { fence: 4, waiting: [] }]] });
    await s.close();
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from("RGJ1\0\0\0\x50\0\0")])); // torn append
    const loaded = await new FileStorage(path).load();
    expect(loaded.problems).toEqual([]);
    expect([loaded.clock, loaded.applied]).toEqual([3, 3]);
    expect(new Map(loaded.items).get("a")!.stamp).toEqual([3, "a"]);
    expect(loaded.items).toHaveLength(2);
    expect(loaded.locks).toEqual([["L", { fence: 4, waiting: [] }]]);
    const again = new FileStorage(path);
    await again.load();
    await again.write(batch([["c", item(true, 9)]], 9, { replace: true }));
    expect((await new FileStorage(path).load()).items.map(([k]) => k)).toEqual(["c"]);
    expect(existsSync(`${path}.tmp`)).toBe(false);
  });

  it("a corrupt record is reported, the records after it are kept, and nothing is compacted away", async () => {
    const path = join(tempDir(), "n1.gdm");
    const records = [
      ...encodeRecords([["k1", item("one", 1)]], [], 1, 1),
      ...encodeRecords([["k2", item("two", 2)]], [], 2, 2),
      ...encodeRecords([["k3", item("three", 3)], ["k4", item("four", 4)]], [], 4, 4),
    ];
    const bytes = concat(records);
    const at = records[0].length + records[1].length + 20; // inside the body of k2's record
    bytes[at] ^= 0xff;
    writeFileSync(path, bytes);
    const s = new FileStorage(path);
    const loaded = await s.load();
    expect(loaded.problems).toHaveLength(1);
    expect(loaded.problems[0]).toMatch(/corrupt \(checksum mismatch\).*before and after them were loaded/);
    expect(loaded.items.map(([k]) => k).sort()).toEqual(["k1", "k3", "k4"]); // only k2 is gone
    expect(loaded.clock).toBe(4);
    expect(readFileSync(path)).toEqual(Buffer.from(bytes)); // loading rewrote nothing
    // The first rewrite keeps the damaged journal aside for inspection.
    await s.write(batch(loaded.items as Array<[string, Item]>, 4, { replace: true }));
    expect(readFileSync(`${path}.corrupt`)).toEqual(Buffer.from(bytes));
    expect(parseJournal(new Uint8Array(readFileSync(path))).problems).toEqual([]);
  });

  it("a write into a directory that does not exist rejects (nothing is acknowledged that was not written)", async () => {
    const s = new FileStorage(join(tempDir(), "missing", "n1.gdm"));
    await expect(s.write(batch([["a", item(1, 1)]], 1))).rejects.toMatchObject({ code: "ENOENT" });
  });
});

describe("IndexedDbStorage (against an in-memory fake of the IndexedDB subset it uses)", () => {
  it("writes commits in transactions, clears on replace, loads items, locks, counter and position", async () => {
    const factory = new FakeIndexedDb();
    const s = new IndexedDbStorage("raincore-gdm-n1", factory as never);
    expect(await s.load()).toEqual({ items: [], locks: [], clock: 0, applied: 0, problems: [] });
    await s.write(batch([["a", item(1, 1)], ["b", item(2, 2)]], 2));
    await s.write({ ...batch([["a", item(3, 4)]], 4), locks: [["L", { fence: 2, waiting: [] }]] });
    await s.close();
    const again = new IndexedDbStorage("raincore-gdm-n1", factory as never);
    const st = await again.load();
    expect([st.clock, st.applied, st.problems]).toEqual([4, 4, []]);
    expect(new Map(st.items).get("a")!.stamp).toEqual([4, "a"]);
    expect(st.locks).toEqual([["L", { fence: 2, waiting: [] }]]);
    await again.write(batch([["z", item(0, 5)]], 5, { replace: true }));
    expect((await again.load()).items.map(([k]) => k)).toEqual(["z"]);
  });
});

/** A storage adapter whose writes wait until the test lets them land (or fail). */
class GatedStorage extends MemoryStorage {
  readonly pending: Array<{ batch: StorageBatch; land: () => void; fail: (e: Error) => void }> = [];
  override write(b: StorageBatch): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({
        batch: b,
        land: () => void super.write(b).then(resolve),
        fail: reject,
      });
    });
  }
}

/** One GDM alone in a simulated group, on `storage`. */
function alone(storage: GatedStorage | MemoryStorage, initial?: StoredState) {
  const g = new GdmCluster({ seed: 31 });
  const node = g.c.start("a", []);
  const gdm = new GroupDataManager({ gcm: node.gcm, layer: node.layer, clock: g.c.clock, storage, initial });
  return { g, gdm };
}

describe("durable writes", () => {
  it("a write resolves only once its group commit is on disk (fsync), and many writes share one commit", async () => {
    const storage = new GatedStorage();
    const { g, gdm } = await alone(storage);
    await g.c.runUntil(() => gdm.synced, 5000);
    let done = 0;
    const writes = Array.from({ length: 50 }, (_, i) => gdm.set(`k${i}`, i).then(() => done++));
    await g.c.runUntil(() => storage.pending.length > 0, 5000);
    await g.c.run(200);
    expect(done).toBe(0); // applied, not yet durable
    expect(storage.pending).toHaveLength(1); // one commit under way; the others wait behind it
    expect(storage.pending[0].batch.sync).toBe(true);
    while (storage.pending.length > 0) {
      storage.pending.shift()!.land();
      await g.c.run(20);
    }
    await Promise.all(writes);
    expect(done).toBe(50);
    expect(storage.writes).toBeLessThanOrEqual(3); // group commit: 50 writes, at most a few commits
    expect(storage.items.size).toBe(50);
  });

  it("a failed commit rejects the writes that waited for it and emits an error; the next commit writes them", async () => {
    const storage = new GatedStorage();
    const { g, gdm } = await alone(storage);
    await g.c.runUntil(() => gdm.synced, 5000);
    const errors: unknown[] = [];
    gdm.on("error", (e) => errors.push(e));
    const w = gdm.set("k", 1).catch((e: unknown) => e);
    await g.c.runUntil(() => storage.pending.length > 0, 5000);
    storage.pending.shift()!.fail(new Error("EIO: disk on fire"));
    await g.c.run(10);
    expect(await w).toBeInstanceOf(StorageError);
    expect(errors).toEqual([expect.objectContaining({ event: "storage", error: expect.any(StorageError) })]);
    const memory = gdm.set("m", 2, { durability: "memory" }); // needs no disk: resolves when applied
    await g.c.run(50);
    await expect(memory).resolves.toBeDefined();
    await g.c.runUntil(() => storage.pending.length > 0, 5000); // the retry carries "k" again
    const retry = storage.pending.shift()!;
    expect(retry.batch.items.map(([k]) => k)).toContain("k");
    retry.land();
  });

  it("a restarted member's Lamport clock starts above everything it stored", async () => {
    const storage = new MemoryStorage();
    storage.items.set("k", item("old", 5000, "b"));
    storage.clock = 5000;
    const { g, gdm } = await alone(storage, await storage.load());
    const s = await g.wait(gdm.set("k", "new"));
    expect(s[0]).toBeGreaterThan(5000);
    expect(gdm.get("k")).toBe("new");
  });
});

describe("whole-cluster crash", () => {
  it("every acknowledged write survives a crash of every member at once", async () => {
    const g = new GdmCluster({ seed: 21, disks: true });
    const ids = ["n0", "n1", "n2"];
    for (const id of ids) await g.start(id, ids.filter((p) => p !== id));
    expect(await g.settle()).toBe(true);
    const acked = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const key = `k${i % 20}`;
      g.gdms.get(ids[i % 3])!.set(key, i).then(
        () => acked.set(key, Math.max(acked.get(key) ?? -1, i)),
        () => {},
      );
      await g.c.run(3);
    }
    for (const id of ids) g.crash(id); // at once, mid-stream: commits under way are lost
    expect(acked.size).toBeGreaterThan(0);
    for (const id of ["n2", "n0", "n1"]) await g.start(id, ids.filter((p) => p !== id));
    expect(await g.settle()).toBe(true);
    const [a, b, c] = ids.map((id) => g.gdms.get(id)!);
    for (const [k, i] of acked) expect(a.get(k) as number).toBeGreaterThanOrEqual(i);
    expect(GdmCluster.dump(a)).toBe(GdmCluster.dump(b));
    expect(GdmCluster.dump(a)).toBe(GdmCluster.dump(c));
  });
});
