import { describe, expect, it } from "vitest";
import { Cluster } from "./sim/harness.ts";

async function boot(n: number, seed = 1, mode?: "three-phase" | "two-phase" | "every-token"): Promise<Cluster> {
  const c = new Cluster({ seed, mode });
  const ids = Array.from({ length: n }, (_, i) => String.fromCharCode(97 + i));
  for (const id of ids) c.start(id, ids.filter((p) => p !== id));
  expect(await c.runUntil(() => c.converged(), 5000)).toBe(true);
  return c;
}

function finish(c: Cluster): void {
  c.rec.checkOrder();
  c.rec.checkValidity();
  expect(c.rec.violations).toEqual([]);
}

describe("GCM membership", () => {
  it("four nodes form one ring and agree", async () => {
    const c = await boot(4);
    const v = c.nodes.get("a")!.gcm.view;
    expect(v.members.slice().sort()).toEqual(["a", "b", "c", "d"]);
    for (const n of c.live()) expect(n.gcm.view.index).toBe(v.index);
    finish(c);
  });

  it("multicast: everyone delivers everything in one order", async () => {
    const c = await boot(4);
    for (let i = 0; i < 20; i++) for (const id of ["a", "b", "c", "d"]) c.send(id, i % 3 === 0 ? "safe" : "agreed");
    c.rec.quietFrom = 0;
    await c.run(2000);
    c.rec.checkNoLoss();
    finish(c);
    expect(c.rec.procs.get("a#1")!.delivered.length).toBe(80);
  });
});
