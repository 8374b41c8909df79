import { describe, expect, it } from "vitest";
import { GdmCluster } from "../../sim/gdm/cluster.ts";

async function boot(n: number, seed = 1): Promise<GdmCluster> {
  const g = new GdmCluster({ seed });
  const ids = Array.from({ length: n }, (_, i) => `n${i}`);
  for (const id of ids) await g.start(id, ids.filter((p) => p !== id));
  expect(await g.settle()).toBe(true);
  return g;
}

describe("GDM over the simulated stack", () => {
  it("set, get, delete, patch and list replicate to every member in one order", async () => {
    const g = await boot(3);
    const [a, b, c] = ["n0", "n1", "n2"].map((id) => g.gdms.get(id)!);
    const changes: string[] = [];
    c.on("change", (e) => changes.push(`${e.key}:${JSON.stringify(e.new)}:${e.writer}`));
    const p1 = a.set("user/1", { name: "ann", tags: ["x"] });
    const p2 = b.set("user/2", "bob");
    const p3 = a.set("bin", new Uint8Array([1, 2, 3, 4]));
    await g.c.run(500);
    await Promise.all([p1, p2, p3]);
    expect(a.get("user/1")).toEqual({ name: "ann", tags: ["x"] });
    const p4 = c.patch("user/1", { path: ["name"], value: "anne" });
    const p5 = b.patch("bin", { offset: 2, bytes: new Uint8Array([9, 9, 9]) });
    const p6 = c.delete("user/2");
    await g.c.run(500);
    await Promise.all([p4, p5, p6]);
    for (const x of [a, b, c]) {
      expect(x.get("user/1")).toEqual({ name: "anne", tags: ["x"] });
      expect(x.get("bin")).toEqual(new Uint8Array([1, 2, 9, 9, 9]));
      expect(x.get("user/2")).toBeUndefined();
      expect(x.keys("user/")).toEqual(["user/1"]);
      expect(x.list("")).toHaveLength(2);
    }
    expect(GdmCluster.dump(a)).toBe(GdmCluster.dump(b));
    expect(GdmCluster.dump(a)).toBe(GdmCluster.dump(c));
    expect(changes).toContain('user/1:{"name":"anne","tags":["x"]}:n2');
  });

  it("a joiner receives every item by state transfer while writes go on, and ends identical", async () => {
    const g = await boot(2, 7);
    const a = g.gdms.get("n0")!;
    for (let i = 0; i < 300; i++) void a.set(`k${i}`, "x".repeat(50) + i);
    await g.c.run(1000);
    let stop = false;
    let i = 0;
    const writer = (async () => {
      while (!stop) {
        void g.gdms.get(i % 2 ? "n0" : "n1")!.set(`w${i % 40}`, i);
        i++;
        await g.c.run(7);
      }
    })();
    const j = await g.start("n9", ["n0", "n1"]);
    const seen = new Set<string>();
    j.on("change", (e) => seen.add(e.key));
    await g.c.run(3000);
    stop = true;
    await writer;
    expect(await g.settle()).toBe(true);
    expect(j.size).toBe(a.size);
    expect(GdmCluster.dump(j)).toBe(GdmCluster.dump(a));
    expect(seen.has("k0") && seen.has("k299")).toBe(true);
    expect(j.stats.received).toBeGreaterThan(0);
  });
});
