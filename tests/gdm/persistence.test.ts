import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileStorage, parseLog } from "../../gdm/storage_file.ts";
import { IndexedDbStorage } from "../../gdm/storage_idb.ts";
import { MemoryStorage } from "../../gdm/storage.ts";
import type { Item } from "../../gdm/state.ts";
import { encodeValue } from "../../gdm/value.ts";
import { GdmCluster } from "../../sim/gdm/cluster.ts";
import { FakeIndexedDb } from "./fake_idb.ts";

const item = (v: unknown, c: number, n = "a"): Item => ({ v: encodeValue(v), s: [c, n], w: n });
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("FileStorage", () => {
  it("appends batches, loads the last version of each key, survives a torn tail, replaces atomically", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gdm-"));
    dirs.push(dir);
    const path = join(dir, "n1.gdm");
    const s = new FileStorage(path);
    expect(await s.load()).toEqual({ items: [], clock: 0 });
    await s.write({ items: [["a", item(1, 1)], ["b", item("x", 2)]], clock: 2 });
    await s.write({ items: [["a", item(2, 3)]], clock: 3 });
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from([0, 0, 0, 50, 1, 2])])); // torn append
    const loaded = await new FileStorage(path).load();
    expect(loaded.clock).toBe(3);
    expect(new Map(loaded.items).get("a")!.s).toEqual([3, "a"]);
    expect(loaded.items).toHaveLength(2);
    // load compacted the file: one record per key plus the counter
    expect(parseLog(new Uint8Array(readFileSync(path))).items).toHaveLength(2);
    await s.write({ items: [["c", item(true, 9)]], clock: 9, replace: true });
    expect((await new FileStorage(path).load()).items.map(([k]) => k)).toEqual(["c"]);
  });
});

describe("IndexedDbStorage (against an in-memory fake of the IndexedDB subset it uses)", () => {
  it("writes batches in transactions, clears on replace, loads items and counter", async () => {
    const factory = new FakeIndexedDb();
    const s = new IndexedDbStorage("raincore-gdm-n1", factory as never);
    expect(await s.load()).toEqual({ items: [], clock: 0 });
    await s.write({ items: [["a", item(1, 1)], ["b", item(2, 2)]], clock: 2 });
    await s.write({ items: [["a", item(3, 4)]], clock: 4 });
    await s.close();
    const again = new IndexedDbStorage("raincore-gdm-n1", factory as never);
    const st = await again.load();
    expect(st.clock).toBe(4);
    expect(new Map(st.items).get("a")!.s).toEqual([4, "a"]);
    await again.write({ items: [["z", item(0, 5)]], clock: 5, replace: true });
    expect((await again.load()).items.map(([k]) => k)).toEqual(["z"]);
  });
});

describe("whole-cluster restart with persistence", () => {
  it("keeps the data; where replicas disagree, the latest stamp wins", async () => {
    const stores = new Map<string, MemoryStorage>();
    const storage = (id: string) => {
      if (!stores.has(id)) stores.set(id, new MemoryStorage());
      return stores.get(id)!;
    };
    const ids = ["n0", "n1", "n2"];
    let g = new GdmCluster({ seed: 21, storage });
    for (const id of ids) await g.start(id, ids.filter((p) => p !== id));
    expect(await g.settle()).toBe(true);
    for (let i = 0; i < 30; i++) void g.gdms.get(ids[i % 3])!.set(`k${i}`, i);
    await g.c.run(1000);
    // n2 is cut off and misses the last update of k0, which n0 and n1 persist.
    g.c.backend.cut("n2", "n0");
    g.c.backend.cut("n2", "n1");
    await g.c.runUntil(() => g.c.nodes.get("n0")!.gcm.view.members.length === 2, 10_000);
    await g.wait(g.gdms.get("n0")!.set("k0", "newest"));
    await g.c.run(500);
    for (const id of ids) g.c.crash(id); // hard crash: no close(), only what was flushed survives
    expect(stores.get("n2")!.items.size).toBeGreaterThan(0);

    g = new GdmCluster({ seed: 22, storage });
    // n2 (stale) starts first and alone, then the others join.
    for (const id of ["n2", "n0", "n1"]) await g.start(id, ids.filter((p) => p !== id));
    expect(await g.settle()).toBe(true);
    await g.c.run(1000);
    const [a, b, c] = ids.map((id) => g.gdms.get(id)!);
    expect(a.get("k0")).toBe("newest");
    expect(c.get("k0")).toBe("newest");
    for (let i = 1; i < 30; i++) expect(c.get(`k${i}`)).toBe(i);
    expect(GdmCluster.dump(a)).toBe(GdmCluster.dump(b));
    expect(GdmCluster.dump(a)).toBe(GdmCluster.dump(c));
  });
});
