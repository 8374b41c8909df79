/**
 * One simulated GDM run from a seed: a GCM cluster on the real stack (TransportManager over a lossy
 * SimNetwork) with a GDM per node; random writes, patches, deletes, transactions and locks while
 * nodes crash, restart, join, get cut off and fail a health check for a while (the GCM leaves and
 * rejoins as a new incarnation; the same GDM goes on); then heal, wait for quiescence and check:
 * 1. convergence — every live replica holds identical items (values and stamps);
 * 2. durability — a write whose promise resolved on a node alive at the end is not lost: every
 *    replica's version of the key has that stamp or a higher one; and every write of such a node
 *    settles (none hangs after a view change);
 * 3. lock exclusion — at every step, within one connected group (same agreed view, round settled)
 *    no two nodes hold the same lock;
 * 4. atomicity — transactions write `tx/a` and `tx/b` together: no replica ever shows them apart;
 * 5. exact state transfer — joiners (and restarted nodes) end identical to the others (1) and
 *    received their data by a transfer;
 * 6. no digest repair — replicas that applied the same operations in one order never diverge, so
 *    every repair is a failure, printed with the keys that differed and the messages behind it;
 * and the GCM's history (the GDM's own messages included) against the EVS properties 1–8.
 * `raincore sim --layer gdm`.
 * @module
 */
import { compareStamps, type Stamp } from "../../gdm/stamp.ts";
import { scheduleLog, type SeedOutcome } from "../outcome.ts";
import { GdmCluster } from "./cluster.ts";

/** Options of one GDM run. */
export interface GdmRunOptions {
  /** Length of the fault phase in virtual ms. @default {1500} */
  faultMs?: number;
  /** Print the schedule as it happens. @default {false} */
  verbose?: boolean;
}

/** Outcome of one GDM run. */
export interface GdmRunResult extends SeedOutcome {
  nodes: number;
  writes: number;
  /** State transfers received. */
  transfers: number;
  /** Digest repairs (each one is also a violation). */
  repairs: number;
}

const LOCKS = ["L0", "L1"];

/** Runs one seed. */
export async function runGdmSeed(seed: number, opts: GdmRunOptions = {}): Promise<GdmRunResult> {
  const g = new GdmCluster({ seed });
  const c = g.c;
  const r = c.faults;
  const { events, log } = scheduleLog(c.clock, opts.verbose);
  const violations: string[] = [];
  const n = r.between(2, 4);
  let nextId = 0;
  const newId = () => `n${String(nextId++).padStart(2, "0")}`;
  const ids = Array.from({ length: n }, newId);
  for (const id of ids) await g.start(id, ids.filter((p) => p !== id));
  log(`boot ${ids.join(",")}`);
  if (!(await g.settle(15_000))) violations.push("boot did not settle");

  const resolved: Array<{ id: string; inc: number; key: string; s: Stamp }> = [];
  let writes = 0;
  /** Writes issued and not yet settled, per node incarnation. */
  const unsettled = new Map<string, number>();
  let txn = 0;
  const checkStep = () => {
    // 3. lock exclusion within connected, settled groups; 4. transaction atomicity.
    const groups = new Map<string, string[]>();
    for (const { node, gdm } of g.live()) {
      if (!node.gcm.agreed || !gdm.settled) continue;
      const key = node.gcm.view.detail.map((m) => `${m.id}#${m.inc}`).sort().join(",");
      const arr = groups.get(key) ?? [];
      arr.push(node.id);
      groups.set(key, arr);
      if (gdm.get("tx/a") !== gdm.get("tx/b")) {
        violations.push(`atomicity: ${node.id} shows tx/a=${gdm.get("tx/a")} tx/b=${gdm.get("tx/b")}`);
      }
    }
    for (const members of groups.values()) {
      for (const L of LOCKS) {
        const holders = members.filter((id) => g.gdms.get(id)!.holds(L));
        if (holders.length > 1) violations.push(`lock ${L} held by ${holders.join(",")} in one group`);
      }
    }
  };

  const faultEnd = c.clock.now() + (opts.faultMs ?? 1500);
  const crashed: string[] = [];
  let cutNode: string | undefined;
  const unhealthy = new Set<string>();
  /**
   * Nodes that rejoined after a health check are not restarted once crashed: the harness numbers
   * a node's incarnations 1, 2, … and the GCM's rejoin takes the next number, so a restart would
   * reuse an incarnation the group has seen (real processes draw random incarnations).
   */
  const rejoined = new Set<string>();
  let checks = 0;
  while (c.clock.now() < faultEnd && violations.length === 0) {
    await c.run(r.between(5, 80));
    checkStep();
    const live = g.live();
    if (live.length === 0) break;
    const pick = r.pick(live);
    const gdm = pick.gdm;
    const roll = r.int(100);
    const track = (key: string) => (p: Promise<Stamp>) => {
      writes++;
      const tag = `${pick.node.id}#${pick.node.inc}`;
      unsettled.set(tag, (unsettled.get(tag) ?? 0) + 1);
      const settle = () => unsettled.set(tag, unsettled.get(tag)! - 1);
      p.then((s) => {
        settle();
        resolved.push({ id: pick.node.id, inc: pick.node.inc, key, s });
      }, settle);
    };
    try {
      if (roll < 30) {
        const key = `k${r.int(12)}`;
        track(key)(gdm.set(key, { v: r.int(1000), by: pick.node.id, blob: "x".repeat(r.int(200)) }));
      } else if (roll < 38) {
        const key = `k${r.int(12)}`;
        track(key)(gdm.delete(key));
      } else if (roll < 46) {
        const key = `p${r.int(4)}`;
        track(key)(gdm.patch(key, { path: ["f", String(r.int(5))], value: r.int(100) }));
      } else if (roll < 52) {
        const key = `b${r.int(2)}`;
        track(key)(
          gdm.patch(key, { offset: r.int(16), bytes: new Uint8Array([r.int(256), r.int(256)]) }).catch(() =>
            [0, ""] as Stamp
          ),
        );
      } else if (roll < 60) {
        const t = ++txn;
        gdm.transaction((tx) => {
          tx.set("tx/a", t);
          tx.set("tx/b", t);
        }, { compare: r.chance(0.5) }).catch(() => {});
      } else if (roll < 68) {
        const L = r.pick(LOCKS);
        gdm.lock(L, { timeoutMs: r.between(100, 1500) }).then(
          () => c.clock.setTimer(r.between(10, 200), () => void gdm.unlock(L).catch(() => {})),
          () => {},
        );
      } else if (roll < 73) {
        if (live.length > 1) {
          c.crash(pick.node.id);
          void gdm.close();
          if (!rejoined.has(pick.node.id)) crashed.push(pick.node.id);
          log(`crash ${pick.node.id}`);
        }
      } else if (roll < 78) {
        if (crashed.length > 0) {
          const id = crashed.splice(r.int(crashed.length), 1)[0];
          await g.start(id, c.ids.filter((p) => p !== id));
          log(`restart ${id}`);
        }
      } else if (roll < 83) {
        if (c.nodes.size < 7) {
          const id = newId();
          // Every running node, those out for a health check included (they rejoin).
          await g.start(id, [...c.nodes.values()].filter((x) => x.alive).map((x) => x.id));
          log(`join ${id}`);
        }
      } else if (roll < 87) {
        if (cutNode === undefined && live.length > 2) {
          cutNode = pick.node.id;
          for (const o of live) if (o.node.id !== cutNode) c.backend.cut(cutNode, o.node.id);
          const ms = r.between(100, 900);
          log(`isolate ${cutNode} for ${ms}ms`);
          const victim = cutNode;
          c.clock.setTimer(ms, () => {
            c.backend.healAll();
            if (cutNode === victim) cutNode = undefined;
          });
        }
      } else if (roll < 91) {
        // Critical resources: a health check fails for a while, so the GCM leaves and then rejoins.
        const id = pick.node.id;
        if (live.length > 1 && !unhealthy.has(id)) {
          const ms = r.between(50, 1200);
          const until = c.clock.now() + ms;
          unhealthy.add(id);
          rejoined.add(id);
          const off = pick.node.gcm.addHealthCheck(`h${++checks}`, () => c.clock.now() >= until, {
            intervalMs: 25,
          });
          log(`unhealthy ${id} for ${ms}ms`);
          c.clock.setTimer(ms + 100, () => {
            off();
            unhealthy.delete(id);
          });
        }
      }
    } catch {
      // A node that just left or crashed refuses writes: fine.
    }
  }
  c.backend.healAll();
  cutNode = undefined;
  log("heal all");
  if (violations.length === 0 && !(await g.settle(40_000))) {
    const why = c.converged()
      ? `GDM not synced: ${
        g.live().filter((x) => !x.gdm.synced).map((x) =>
          `${x.node.id}#${x.node.inc}<-${JSON.stringify(x.gdm.transfer)}`
        ).join(",")
      } view ${g.live()[0].node.gcm.view.detail.map((m) => `${m.id}#${m.inc}`).join(",")}`
      : `GCM not converged: ${
        g.live().map((x) =>
          `${x.node.id}:${x.node.gcm.view.members.join("+")}${x.node.gcm.agreed ? "" : "(chaos)"}`
        ).join(" ")
      }`;
    violations.push(`no quiescence after healing (${why})`);
  }
  if (violations.length === 0) {
    c.beginQuietTail();
    await c.run(1000);
    checkStep();
    const live = g.live();
    // 1. convergence
    const ref = GdmCluster.dump(live[0].gdm);
    for (const x of live.slice(1)) {
      const mine = GdmCluster.dump(x.gdm);
      if (mine !== ref) {
        const a = new Set(ref.split("\n")), b = new Set(mine.split("\n"));
        const onlyRef = [...a].filter((l) => !b.has(l)).slice(0, 3).map((l) =>
          l.replace(/=[0-9a-f]{40,}/, "=…")
        );
        const onlyMine = [...b].filter((l) => !a.has(l)).slice(0, 3).map((l) =>
          l.replace(/=[0-9a-f]{40,}/, "=…")
        );
        violations.push(
          `convergence: ${x.node.id} differs from ${live[0].node.id}: ${live[0].node.id} has ${
            onlyRef.join(" ")
          }; ${x.node.id} has ${onlyMine.join(" ")}`,
        );
        break;
      }
    }
    // 2'. liveness: every write of a node alive at the end has settled (none hangs)
    for (const { node } of live) {
      const n = unsettled.get(`${node.id}#${node.inc}`) ?? 0;
      if (n > 0) {
        violations.push(`liveness: ${n} write(s) of ${node.id}#${node.inc} never settled`);
        break;
      }
    }
    // 2. durability of resolved writes by nodes still alive (same incarnation)
    for (const w of resolved) {
      const node = c.nodes.get(w.id)!;
      if (!node.alive || node.inc !== w.inc || w.s[1] === "") continue;
      const it = live[0].gdm.item(w.key);
      if (it === undefined || compareStamps(it.s, w.s) < 0) {
        violations.push(
          `durability: ${w.id}'s write of ${w.key} @${w.s.join(".")} lost (now ${
            it ? it.s.join(".") : "absent"
          })`,
        );
        break;
      }
    }
  }
  // 6. no digest repair; then the EVS properties of the whole run.
  violations.push(...g.repairs.repairs, ...c.check({ end: true }));
  let transfers = 0;
  for (const x of g.gdms.values()) transfers += x.stats.received;
  return {
    seed,
    ok: violations.length === 0,
    violations,
    summary: `${c.nodes.size} nodes, ${writes} writes, ${transfers} transfers`,
    events,
    stats: {
      writes,
      transfers,
      repairs: g.repairs.repairs.length,
      virtualMs: c.clock.now(),
    },
    nodes: c.nodes.size,
    writes,
    transfers,
    repairs: g.repairs.repairs.length,
  };
}
