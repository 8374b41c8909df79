/**
 * One simulated GCM run from a seed: boot a cluster, inject a random fault schedule (crashes — the
 * token holder in a view change preferred —, restarts, loss, duplication, cuts, false suspicions,
 * joins, leaves) with traffic and critical sections, heal, wait for convergence, send a quiet tail
 * of traffic, and check the history against properties 1–8. `raincore sim --layer gcm`.
 * @module
 */
import type { ViewMode } from "../../gcm/types.ts";
import { scheduleLog, type SeedOutcome } from "../outcome.ts";
import { Cluster } from "./cluster.ts";
import { realBackend } from "./real_backend.ts";

/** Options of one GCM run. */
export interface GcmRunOptions {
  /** `fake` = message-level fake TM; `real` = GCM → TransportManager → SimNetwork. @default {"real"} */
  net?: "fake" | "real";
  /** View mode. @default {drawn from the seed: three-phase in 3 of 5 seeds, two-phase, every-token} */
  mode?: ViewMode;
  /** Application listeners that throw (property 7). @default {drawn from the seed: 1 in 4} */
  listenerFaults?: boolean;
  /** `timing.batchMs` of every node. @default {drawn from the seed: 4 ms in 1 of 4 seeds, else 0} */
  batchMs?: number;
  /** `timing.eatingMs` of every node. @default {drawn from the seed: 40 ms in 1 of 4 seeds, else 10} */
  eatingMs?: number;
  /** Length of the fault phase in virtual ms. @default {3000} */
  faultMs?: number;
  /** Print the fault schedule as it happens. @default {false} */
  verbose?: boolean;
}

/** Outcome of one GCM run. */
export interface GcmRunResult extends SeedOutcome {
  mode: ViewMode;
  nodes: number;
  /** The cluster, for debugging. */
  cluster: Cluster;
}

const MODES: ViewMode[] = ["three-phase", "three-phase", "three-phase", "two-phase", "every-token"];

/** Whether a seed runs with listener faults by default (bits of the seed's hash that nothing else uses). */
export function listenerFaultsOf(pick: number): boolean {
  return ((pick >>> 12) & 3) === 0;
}

/** A seed's default `batchMs` (other bits of the seed's hash): token holds with traffic in 1 of 4 seeds. */
export function batchMsOf(pick: number): number {
  return ((pick >>> 16) & 3) === 0 ? 4 : 0;
}

/** A seed's default `eatingMs` (more bits of the seed's hash): long idle holds, and wake-ups, in 1 of 4 seeds. */
export function eatingMsOf(pick: number): number {
  return ((pick >>> 18) & 3) === 0 ? 40 : 10;
}

/** Runs one seed. */
export async function runGcmSeed(seed: number, opts: GcmRunOptions = {}): Promise<GcmRunResult> {
  const pick = (seed * 2654435761) >>> 0;
  const mode = opts.mode ?? MODES[pick % MODES.length];
  // Link quality drawn from the seed: up to 10 % loss, 5 % duplication, 10 % reordering.
  const q = (pick >>> 8) % 4;
  const link = [
    { loss: 0.01, duplicate: 0.01, reorder: 0.01 },
    { loss: 0.03, duplicate: 0.02, reorder: 0.05 },
    { loss: 0.06, duplicate: 0.05, reorder: 0.1 },
    { loss: 0.1, duplicate: 0.02, reorder: 0.02 },
  ][q];
  const c = new Cluster({
    seed,
    mode,
    backend: opts.net === "fake" ? undefined : realBackend(link),
    listenerFaults: opts.listenerFaults ?? listenerFaultsOf(pick),
    batchMs: opts.batchMs ?? batchMsOf(pick),
    eatingMs: opts.eatingMs ?? eatingMsOf(pick),
  });
  const r = c.faults;
  const { events, log } = scheduleLog(c.clock, opts.verbose);
  const n = r.between(2, 6);
  let nextId = 0;
  const newId = () => `n${String(nextId++).padStart(2, "0")}`;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(newId());
  log(
    `boot ${ids.join(",")} mode=${mode} batchMs=${c.batchMs} eatingMs=${c.eatingMs} link=${
      JSON.stringify(link)
    }`,
  );
  await c.boot(ids);
  const violations = (): string[] => c.failures;

  // ---- fault phase --------------------------------------------------------------------------------
  const faultEnd = c.clock.now() + (opts.faultMs ?? 3000);
  let cutUntil = 0;
  const crashed: string[] = [];
  while (c.clock.now() < faultEnd && violations().length === 0) {
    await c.run(r.between(5, 120));
    const live = c.live();
    const liveIds = live.map((x) => x.id);
    const roll = r.int(100);
    if (roll < 40) {
      const k = r.between(1, 4);
      for (let i = 0; i < k && live.length > 0; i++) {
        c.send(r.pick(liveIds), r.chance(0.3) ? "safe" : "agreed");
      }
    } else if (roll < 50) {
      if (live.length > 0) c.critical(r.pick(liveIds));
    } else if (roll < 57) {
      if (live.length > 1) {
        // Crash, preferably the token holder during a view change (token loss in Chaos).
        const inChaos = live.find((x) => x.gcm.holdsToken && !x.gcm.agreed);
        const victim = inChaos !== undefined && r.chance(0.5) ? inChaos.id : r.pick(liveIds);
        c.crash(victim);
        crashed.push(victim);
        log(`crash ${victim}${inChaos?.id === victim ? " (token holder in chaos)" : ""}`);
      }
    } else if (roll < 63) {
      if (crashed.length > 0) {
        const id = crashed.splice(r.int(crashed.length), 1)[0];
        c.start(id, c.ids.filter((p) => p !== id));
        log(`restart ${id} inc=${c.nodes.get(id)!.inc}`);
      }
    } else if (roll < 71) {
      if (live.length > 2 && c.clock.now() >= cutUntil) {
        const a = r.pick(liveIds);
        const b = r.pick(liveIds.filter((x) => x !== a));
        const ms = r.between(50, 800);
        c.backend.cut(a, b);
        cutUntil = c.clock.now() + ms;
        log(`cut ${a}-${b} for ${ms}ms`);
        c.clock.setTimer(ms, () => c.backend.heal(a, b));
      }
    } else if (roll < 77) {
      if (live.length > 1 && c.clock.now() >= cutUntil) {
        // False suspicion: the return path fails for a while, so acks are lost.
        const a = r.pick(liveIds);
        const b = r.pick(liveIds.filter((x) => x !== a));
        const ms = r.between(50, 400);
        c.backend.cut(b, a, true);
        cutUntil = c.clock.now() + ms;
        log(`one-way cut ${b}->${a} for ${ms}ms`);
        c.clock.setTimer(ms, () => c.backend.heal(b, a));
      }
    } else if (roll < 83) {
      if (c.nodes.size < 9) {
        const k = r.chance(0.3) ? 2 : 1;
        for (let i = 0; i < k; i++) {
          const id = newId();
          // Half the joiners know only the live members, the others every node ever started. (A
          // joiner whose every contact dies before it is heard of cannot join in any protocol; the
          // single-contact join is a scenario test.)
          const nowLive = c.live().map((x) => x.id); // includes a joiner started just before
          const peers = r.chance(0.5) && nowLive.length > 0 ? nowLive : c.ids;
          c.start(id, peers);
          log(`join ${id} via ${peers.join(",")}`);
        }
      }
    } else if (roll < 87) {
      if (live.length > 1) {
        const id = r.pick(liveIds);
        void c.nodes.get(id)!.gcm.leave();
        log(`leave ${id}`);
      }
    }
  }

  // ---- heal and converge -------------------------------------------------------------------------
  c.backend.healAll();
  c.backend.calm();
  log("heal all, no more loss");
  if (violations().length === 0 && !(await c.settle(30_000))) {
    c.failures.push("Termination: no convergence after healing");
  }
  return finishRun(c, seed, mode, events);
}

/**
 * The end of every simulated GCM run: once the cluster converged, a quiet tail of traffic that must
 * reach everyone and a critical section per node; then the whole history is checked.
 */
export async function finishRun(
  c: Cluster,
  seed: number,
  mode: ViewMode,
  events: string[],
): Promise<GcmRunResult> {
  if (c.failures.length === 0) {
    c.beginQuietTail();
    for (const node of c.live()) for (let i = 0; i < 3; i++) c.send(node.id, i === 1 ? "safe" : "agreed");
    for (const node of c.live()) c.critical(node.id);
    await c.run(3000);
  }
  const violations = c.check({ end: true });
  const history = c.history();
  let deliveries = 0;
  for (const p of history.procs) for (const item of p.items) if (item.kind === "deliver") deliveries++;
  return {
    seed,
    ok: violations.length === 0,
    violations,
    summary: `${mode}, ${c.nodes.size} nodes${c.throws > 0 ? `, ${c.throws} listener faults` : ""}${
      c.batchMs > 0 ? `, batchMs ${c.batchMs}` : ""
    }${c.eatingMs !== 10 ? `, eatingMs ${c.eatingMs}` : ""}`,
    events,
    stats: {
      deliveries,
      virtualMs: c.clock.now(),
      listenerFaults: c.throws,
      [`mode ${mode}`]: 1,
      batching: c.batchMs > 0 ? 1 : 0,
      wakes: c.wakesSent(),
    },
    mode,
    nodes: c.nodes.size,
    cluster: c,
  };
}
