/**
 * One simulated partition run from a seed (3.7.3): boot a cluster, then split it into 2, 3 or 4
 * groups, heal the groups pairwise in a random order (sometimes re-partitioning during a merge),
 * add one-way cuts (A hears B, B does not hear A) and flapping links, with traffic and critical
 * sections throughout; finally heal everything and require one group of every live node plus
 * properties 1–8. `raincore sim --layer gcm --partitions`.
 * @module
 */
import type { ViewMode } from "../../gcm/types.ts";
import { scheduleLog } from "../outcome.ts";
import { Cluster } from "./cluster.ts";
import {
  batchMsOf,
  eatingMsOf,
  finishRun,
  type GcmRunOptions,
  type GcmRunResult,
  listenerFaultsOf,
} from "./plain_run.ts";
import { realBackend } from "./real_backend.ts";

const MODES: ViewMode[] = ["three-phase", "three-phase", "three-phase", "two-phase", "every-token"];

/** Outcome of one partition run: a {@link GcmRunResult} plus the merge times measured in it. */
export interface PartitionRunResult extends GcmRunResult {
  /** Virtual ms from the final heal to one committed view of every live node. */
  mergeMs: number;
}

/** Runs one partition seed. */
export async function runPartitionSeed(
  seed: number,
  opts: Omit<GcmRunOptions, "net"> = {},
): Promise<PartitionRunResult> {
  const pick = (seed * 2246822519) >>> 0;
  const mode = opts.mode ?? MODES[pick % MODES.length];
  const q = (pick >>> 8) % 3;
  const link = [
    { loss: 0.01, duplicate: 0.01, reorder: 0.01 },
    { loss: 0.03, duplicate: 0.02, reorder: 0.05 },
    { loss: 0.06, duplicate: 0.03, reorder: 0.05 },
  ][q];
  const c = new Cluster({
    seed: seed + 1_000_000,
    mode,
    backend: realBackend(link),
    listenerFaults: opts.listenerFaults ?? listenerFaultsOf(pick),
    batchMs: opts.batchMs ?? batchMsOf(pick),
    eatingMs: opts.eatingMs ?? eatingMsOf(pick),
  });
  const r = c.faults;
  const { events, log } = scheduleLog(c.clock, opts.verbose);
  const n = r.between(4, 8);
  const ids = Array.from({ length: n }, (_, i) => `n${String(i).padStart(2, "0")}`);
  log(
    `boot ${ids.join(",")} mode=${mode} batchMs=${c.batchMs} eatingMs=${c.eatingMs} link=${
      JSON.stringify(link)
    }`,
  );
  await c.boot(ids);
  const violations = (): string[] => c.failures;

  // Group label per node; a link is up iff both ends have one label and no extra cut holds it.
  const group = new Map<string, number>(ids.map((id) => [id, 0]));
  const extra = new Set<string>(); // "a>b": one-way or flapping cut a→b on top of the partition
  let over = false; // after the final heal, pending fault timers do nothing
  const apply = (a: string, b: string): void => {
    if (over) return;
    if (group.get(a) !== group.get(b)) {
      c.backend.cut(a, b);
      return;
    }
    c.backend.heal(a, b);
    if (extra.has(`${a}>${b}`)) c.backend.cut(a, b, true);
    if (extra.has(`${b}>${a}`)) c.backend.cut(b, a, true);
  };
  const applyAll = (): void => {
    for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) apply(ids[i], ids[j]);
  };
  const groupsText = (): string => {
    const by = new Map<number, string[]>();
    for (const [id, g] of group) by.set(g, [...(by.get(g) ?? []), id]);
    return [...by.values()].map((m) => `{${m.join(",")}}`).join(" ");
  };
  const partition = (): void => {
    if (over) return;
    const k = Math.min(r.between(2, 4), ids.length);
    const shuffled = ids.slice();
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = r.int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    shuffled.forEach((id, i) => group.set(id, i < k ? i + 1 : r.between(1, k)));
    applyAll();
    log(`partition into ${k}: ${groupsText()}`);
  };
  const healOne = (): boolean => {
    const labels = [...new Set(group.values())];
    if (labels.length < 2) return false;
    const a = r.pick(labels);
    const b = r.pick(labels.filter((x) => x !== a));
    for (const [id, g] of group) if (g === b) group.set(id, a);
    applyAll();
    log(`heal groups -> ${groupsText()}`);
    return true;
  };

  const faultEnd = c.clock.now() + (opts.faultMs ?? 4000);
  const crashed: string[] = [];
  while (c.clock.now() < faultEnd && violations().length === 0) {
    await c.run(r.between(10, 150));
    const liveIds = c.live().map((x) => x.id);
    const roll = r.int(100);
    if (roll < 40) {
      for (let i = r.between(1, 4); i > 0 && liveIds.length > 0; i--) {
        c.send(r.pick(liveIds), r.chance(0.3) ? "safe" : "agreed");
      }
    } else if (roll < 47) {
      if (liveIds.length > 0) c.critical(r.pick(liveIds));
    } else if (roll < 57) {
      partition();
    } else if (roll < 70) {
      if (healOne() && r.chance(0.3)) {
        // A partition during the merge that just started.
        const ms = r.between(5, 200);
        c.clock.setTimer(ms, () => {
          if (over) return;
          partition();
          log(`(re-partition during merge, ${ms}ms after heal)`);
        });
      }
    } else if (roll < 77) {
      // Asymmetric link: a hears b, b does not hear a.
      const a = r.pick(ids);
      const b = r.pick(ids.filter((x) => x !== a));
      const ms = r.between(50, 800);
      extra.add(`${a}>${b}`);
      apply(a, b);
      log(`one-way cut ${a}->${b} for ${ms}ms`);
      c.clock.setTimer(ms, () => {
        extra.delete(`${a}>${b}`);
        apply(a, b);
      });
    } else if (roll < 83) {
      // Flapping link: down and up several times in quick succession.
      const a = r.pick(ids);
      const b = r.pick(ids.filter((x) => x !== a));
      const flaps = r.between(2, 6);
      const period = r.between(10, 120);
      log(`flapping ${a}-${b}: ${flaps} x ${period}ms`);
      for (let i = 0; i < flaps * 2; i++) {
        c.clock.setTimer(period * (i + 1), () => {
          const down = i % 2 === 0;
          for (const k of [`${a}>${b}`, `${b}>${a}`]) down ? extra.add(k) : extra.delete(k);
          apply(a, b);
        });
      }
    } else if (roll < 86) {
      if (liveIds.length > 2) {
        const v = r.pick(liveIds);
        c.crash(v);
        crashed.push(v);
        log(`crash ${v}`);
      }
    } else if (roll < 90) {
      if (crashed.length > 0) {
        const id = crashed.splice(r.int(crashed.length), 1)[0];
        c.start(id, ids.filter((p) => p !== id));
        apply(id, id === ids[0] ? ids[1] : ids[0]);
        applyAll();
        log(`restart ${id}`);
      }
    }
  }

  // ---- heal in a random order, then everything ---------------------------------------------------
  while (violations().length === 0 && healOne()) await c.run(r.between(0, 300));
  extra.clear();
  over = true;
  c.backend.healAll();
  c.backend.calm();
  const healedAt = c.clock.now();
  log("heal all, no more loss");
  let mergeMs = -1;
  if (violations().length === 0) {
    if (await c.runUntil(() => c.converged(), 30_000)) mergeMs = c.clock.now() - healedAt;
    if (!(await c.settle(30_000))) c.failures.push("Termination: no single group after healing");
  }
  const result = await finishRun(c, seed, mode, events);
  return { ...result, stats: { ...result.stats, mergeMs: Math.max(0, mergeMs) }, mergeMs };
}
