/**
 * The VIP manager (examples/vip-manager/main.ts) as four OS processes over UDP loopback: members
 * SIGKILLed at random and restarted, a manual move. From every process's `owned` lines (wall-clock
 * stamped): a resource never served by two processes at once, every resource served again after a
 * kill, and all of them served once at the end. Before the four processes first share a view, each
 * is a group of its own (where owning the same resource is allowed), so the overlap check starts
 * once the ring of four has formed. How fast a fail-over is, is a speed goal measured by
 * `npm run bench -- failover`; here a deadline only stops a run whose fail-over never comes.
 */
import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { JsonChild, killAll, repoRoot, waitUntil } from "../../tools/json_child.ts";
import { freeUdpPorts } from "../../tools/ports.ts";

const IDS = ["m1", "m2", "m3", "m4"];
const VIPS = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"];
/** Deadline for a fail-over (typically hungry 600 ms + the Transport Manager's resends + a view + the lock). */
const FAILOVER_DEADLINE_MS = 20_000;
const running = new Set<JsonChild>();
afterEach(async () => {
  await killAll(running);
  running.clear();
});

interface Interval {
  who: string;
  from: number;
  to: number;
}

describe("VIP manager: four real processes, random SIGKILLs", () => {
  it("keeps every VIP served by exactly one live process", async () => {
    const ports = await freeUdpPorts(IDS.length);
    const peers = IDS.flatMap((id, i) => ["--peer", `${id}=udp://127.0.0.1:${ports[i]}`]);
    const vipArgs = VIPS.flatMap((v) => ["--vip", v]);
    const children = new Map<string, JsonChild>();
    const history: JsonChild[] = []; // every incarnation, for the overlap check
    const killedAt = new Map<JsonChild, number>();
    const start = (i: number) => {
      const c = new JsonChild(
        IDS[i],
        spawn(process.execPath, [
          "--import",
          "tsx",
          "examples/vip-manager/main.ts",
          "--id",
          IDS[i],
          "--listen",
          `udp://127.0.0.1:${ports[i]}`,
          ...peers,
          ...vipArgs,
          "--sticky",
          "10.0.0.6",
          "--prefer",
          "10.0.0.5=m2",
        ], { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] }),
      );
      running.add(c);
      children.set(IDS[i], c);
      history.push(c);
    };
    const owned = (c: JsonChild): string[] => {
      if (killedAt.has(c)) return [];
      const last = c.lines.filter((l) => l.event === "owned").at(-1);
      return (last?.names as string[] | undefined) ?? [];
    };
    const live = () => [...children.values()].filter((c) => !killedAt.has(c));
    const servedOnce = () => VIPS.every((v) => live().filter((c) => owned(c).includes(v)).length === 1);
    const show = () => live().map((c) => `${c.name}: ${owned(c).join(" ")}`).join("; ");
    const waitServed = (ms: number) => waitUntil(live(), servedOnce, ms, show);
    const kill = async (c: JsonChild) => {
      killedAt.set(c, Date.now());
      c.signal("SIGKILL");
      await c.exit;
    };

    const allInOneView = () =>
      live().every((c) =>
        (c.lines.filter((l) => l.event === "view").at(-1)?.members as string[] | undefined)?.length === 4
      );
    IDS.forEach((_, i) => start(i));
    await waitUntil(live(), allInOneView, 20_000, show);
    const formedAt = Date.now();
    await waitServed(20_000);
    const rnd = (n: number) => Math.floor(Math.random() * n);
    for (let round = 0; round < 2; round++) {
      // Kill a random process that serves something.
      const owners = live().filter((c) => owned(c).length > 0);
      const victim = owners[rnd(owners.length)];
      await kill(victim);
      await waitServed(FAILOVER_DEADLINE_MS);
      // Restart it; it joins and may take resources back (rebalance, preferred owner).
      start(IDS.indexOf(victim.name));
      await waitUntil(
        live(),
        () =>
          live().every((c) =>
            (c.lines.filter((l) => l.event === "view").at(-1)?.members as string[] | undefined)?.length === 4
          ),
        15_000,
        show,
      );
      await waitServed(10_000);
    }
    // A manual move to m3.
    const holder = live().find((c) => owned(c).includes("10.0.0.1"))!;
    const target = holder.name === "m3" ? "m4" : "m3";
    holder.write(`move 10.0.0.1 ${target}`);
    await waitUntil(
      live(),
      () => owned(children.get(target)!).includes("10.0.0.1") && servedOnce(),
      10_000,
      show,
    );

    // No overlap: intervals of one VIP on different processes are disjoint (10 ms polling slack).
    const end = Date.now();
    for (const v of VIPS) {
      const intervals: Interval[] = [];
      for (const c of history) {
        let from: number | undefined;
        for (const l of c.lines.filter((x) => x.event === "owned")) {
          const has = (l.names as string[]).includes(v);
          if (has && from === undefined) from = l.t as number;
          if (!has && from !== undefined) {
            intervals.push({ who: c.name, from, to: l.t as number });
            from = undefined;
          }
        }
        if (from !== undefined) intervals.push({ who: c.name, from, to: killedAt.get(c) ?? end });
      }
      const formed = intervals.filter((iv) => iv.to > formedAt).map((iv) => ({
        ...iv,
        from: Math.max(iv.from, formedAt),
      }));
      formed.sort((a, b) => a.from - b.from);
      let servedUntil = -Infinity;
      for (const iv of formed) {
        expect(servedUntil - iv.from, `${v}: ${JSON.stringify(formed)}`).toBeLessThanOrEqual(15);
        servedUntil = Math.max(servedUntil, iv.to);
      }
    }
  }, 90_000);
});
