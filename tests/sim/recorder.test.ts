/**
 * The recorder turns a live simulated run into the history the checker judges: views, multicasts,
 * deliveries naming their configuration, safe deliveries with the processes that held the message,
 * crashes, critical sections, the live set at the end; and the GDM's own stream. A history taken
 * from a real run passes, and the same history with a planted duplicate fails.
 */
import { describe, expect, it } from "vitest";
import { checkHistory } from "../../sim/evs/check.ts";
import type { DeliverItem, History, ViewItem } from "../../sim/evs/history.ts";
import { Cluster } from "../../sim/gcm/cluster.ts";
import { realBackend } from "../../sim/gcm/real_backend.ts";
import { GdmCluster } from "../../sim/gdm/cluster.ts";

const itemsOf = (h: History, proc: string) => h.procs.find((p) => p.proc === proc)?.items ?? [];

describe("recorder", () => {
  it("records views, multicasts, deliveries with their configuration and safe holders, crashes, critical sections", async () => {
    const c = new Cluster({ seed: 5, backend: realBackend({ loss: 0, duplicate: 0, reorder: 0 }) });
    await c.boot(["a", "b", "c", "d"]);
    expect(await c.settle(5000)).toBe(true);
    c.beginQuietTail();
    c.send("a");
    c.send("b", "safe");
    c.critical("c");
    await c.run(1000);
    c.crash("d");
    expect(await c.settle(5000)).toBe(true);
    expect(c.check({ end: true })).toEqual([]);

    const h = c.history(true);
    expect(h.end!.live.map((l) => l.proc).sort()).toEqual(["a#1", "b#1", "c#1"]);
    expect(itemsOf(h, "d#1").at(-1)!.kind).toBe("crash");
    const view = (proc: string) => itemsOf(h, proc).filter((i): i is ViewItem => i.kind === "view");
    const full = view("a#1").find((v) => v.members.length === 4)!;
    expect(full.members.slice().sort()).toEqual(["a#1", "b#1", "c#1", "d#1"]);
    expect(view("a#1").at(-1)!.previous).not.toBe("");
    expect(itemsOf(h, "b#1").find((i) => i.kind === "send")).toMatchObject({ msg: "b#1#1", level: "safe" });
    for (const proc of ["a#1", "b#1", "c#1", "d#1"]) {
      const d = itemsOf(h, proc).find((i): i is DeliverItem => i.kind === "deliver" && i.msg === "b#1#1")!;
      expect(d.config).toBe(full.id);
      expect(d.holders!.slice().sort()).toEqual(["a#1", "b#1", "c#1", "d#1"]);
    }
    expect(h.critical.map((x) => [x.kind, x.proc, x.hadToken])).toEqual([
      ["enter", "c#1", true],
      ["exit", "c#1", undefined],
    ]);

    // The same history with one delivery recorded twice fails.
    const items = itemsOf(h, "c#1");
    items.push({ ...items.find((i) => i.kind === "deliver")!, step: h.end!.step - 0.5 });
    expect(checkHistory(h).map((v) => v.name)).toContain("exactly once");
  });

  it("records the GDM's stream: its multicasts and deliveries, with the stream number", async () => {
    const g = new GdmCluster({ seed: 3 });
    for (const id of ["a", "b"]) await g.start(id, ["a", "b"].filter((p) => p !== id));
    expect(await g.settle(10_000)).toBe(true);
    // (Before this point a's history may hold a hello bound to its first view, of a alone: the GCM
    // drops such a message unordered once a joins the group, by design.)
    const before = itemsOf(g.c.history(), "a#1").length;
    await g.wait(g.gdms.get("a")!.set("k", 1));
    await g.c.run(500);
    const h = g.c.history(true);
    const sent = itemsOf(h, "a#1").slice(before).filter((i) => i.kind === "send" && i.stream === 1);
    expect(sent.length).toBeGreaterThan(0);
    for (const proc of ["a#1", "b#1"]) {
      const got = new Set(
        itemsOf(h, proc).flatMap((i) => (i.kind === "deliver" && i.stream === 1 ? [i.msg] : [])),
      );
      for (const s of sent) {
        expect(got.has((s as { msg: string }).msg), `${proc} delivered ${(s as { msg: string }).msg}`).toBe(
          true,
        );
      }
    }
    expect(g.c.check({ end: true })).toEqual([]);
    expect(g.divergences).toEqual([]);
  });
});
