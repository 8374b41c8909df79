/**
 * One simulated GDM run from a seed: a GCM cluster on the real stack (TransportManager over a lossy
 * SimNetwork) with a GDM per node, in a view mode drawn from the seed (three-phase or two-phase),
 * with or without the quorum policy, with or without a disk per node. Random writes, patches,
 * deletes, compare-and-sets, set adds, atomic pairs, local reads and locks run while nodes crash,
 * restart (from their disk), join, get cut off and fail a health check for a while. Then heal, wait
 * for quiescence and check:
 * 1. convergence — every live replica holds identical items (values and stamps);
 * 2. durability — an acknowledged write of a process that is alive at the end (or, with disks, whose
 *    node came back from its disk) is on every replica, or a newer version is; and every request of
 *    a live process settles (none hangs after a view change);
 * 3. lock exclusion — within one connected group whose round is done, no two nodes hold one lock;
 * 4. atomicity — `tx/a` and `tx/b` are written together: no replica ever shows them apart;
 * 5. exact state transfer — joiners and restarted nodes end identical to the others (1);
 * 6. no divergence — replicas of one class never announce different digests (by construction; a
 *    divergence is a failure);
 * and the GCM's history (the GDM's own messages included) against the EVS properties 1–8; and its client
 * history ({@link OpHistory}, also returned) by the Jepsen-style checker in `sim/jepsen/`.
 * `raincore sim --layer gdm`.
 * @module
 */
import type { ViewMode } from "../../gcm/types.ts";
import type { GroupDataManager } from "../../gdm/manager.ts";
import { compareStamps, type Stamp } from "../../gdm/stamp.ts";
import { scheduleLog, type SeedOutcome } from "../outcome.ts";
import { GdmCluster } from "./cluster.ts";
import type { HistoryOp, OpHistory, Version } from "./op_history.ts";
import { checkOpHistory, formatAnomalies } from "../jepsen/checker.ts";

/** Options of one GDM run. */
export interface GdmRunOptions {
  /** View mode. @default {drawn from the seed: three-phase in 2 of 3 seeds, else two-phase} */
  mode?: ViewMode;
  /** Quorum policy. @default {drawn from the seed: on in 1 of 4} */
  quorum?: boolean;
  /** A disk per node (restarts load it; writes are acknowledged once on it). @default {drawn: 1 of 2} */
  disks?: boolean;
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
  /** The client history, for the Jepsen-style checker. */
  history: OpHistory;
}

const LOCKS = ["L0", "L1"];
const MODES: ViewMode[] = ["three-phase", "three-phase", "two-phase"];

/** The settings a seed draws (bits of its hash nothing else uses). */
export function gdmRunSettings(
  seed: number,
  opts: GdmRunOptions = {},
): { mode: ViewMode; quorum: boolean; disks: boolean } {
  const pick = (seed * 2654435761) >>> 0;
  const quorum = opts.quorum ?? ((pick >>> 4) & 3) === 0;
  return {
    mode: opts.mode ?? MODES[pick % MODES.length],
    quorum,
    // The quorum policy's promises (fencing tokens, no lost update) need the members' disks.
    disks: opts.disks ?? (quorum || ((pick >>> 6) & 1) === 0),
  };
}

/** Runs one seed. */
export async function runGdmSeed(seed: number, opts: GdmRunOptions = {}): Promise<GdmRunResult> {
  const { mode, quorum, disks } = gdmRunSettings(seed, opts);
  // The group size the quorum policy expects is drawn before the cluster exists (its own draw).
  const n = 2 + (((seed * 2246822519) >>> 0) % 3);
  const g = new GdmCluster({
    seed,
    mode,
    disks,
    gcm: quorum ? { expectedSize: n } : undefined,
    gdm: { quorum },
  });
  const c = g.c;
  const r = c.faults;
  const { events, log } = scheduleLog(c.clock, opts.verbose);
  const violations: string[] = [];
  const ops: HistoryOp[] = [];
  let nextId = 0;
  const newId = () => `n${String(nextId++).padStart(2, "0")}`;
  const ids = Array.from({ length: n }, newId);
  for (const id of ids) await g.start(id, ids.filter((p) => p !== id));
  log(`boot ${ids.join(",")} mode=${mode}${quorum ? " quorum" : ""}${disks ? " disks" : ""}`);
  if (!(await g.settle(15_000))) violations.push("boot did not settle");

  /** The process of a GDM: its node and the incarnation the harness started it with. */
  const processOf = (id: string) => `${id}#${c.nodes.get(id)!.inc}`;
  const resolved: Array<{ process: string; key: string; s: Stamp }> = [];
  let writes = 0;
  /** Requests made and not yet settled, per process. */
  const unsettled = new Map<string, number>();
  let txn = 0;
  let unique = 0;
  const checkStep = () => {
    // 3. lock exclusion within connected, settled groups; 4. transaction atomicity.
    const groups = new Map<string, string[]>();
    for (const { node, gdm } of g.live()) {
      if (!node.gcm.agreed || !gdm.settled) continue;
      const key = node.gcm.view.id;
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
  /** Records an operation and tracks its settling. */
  const track = <T>(process: string, op: HistoryOp, p: Promise<T>, done: (v: T) => void) => {
    ops.push(op);
    unsettled.set(process, (unsettled.get(process) ?? 0) + 1);
    p.then((v) => {
      op.complete = c.clock.now();
      op.outcome = "ok";
      done(v);
    }, (err: Error) => {
      op.complete = c.clock.now();
      op.outcome =
        err.name === "TransactionAbortedError" && (err as { reason?: string }).reason === "conflict"
          ? "fail"
          : "info";
    }).finally(() => unsettled.set(process, unsettled.get(process)! - 1));
  };
  /** Requests that are not in the history (patches): only their settling is tracked. */
  const trackUnrecorded = <T>(process: string, p: Promise<T>, done: (v: T) => void) => {
    unsettled.set(process, (unsettled.get(process) ?? 0) + 1);
    p.then(done, () => {}).finally(() => unsettled.set(process, unsettled.get(process)! - 1));
  };
  const version = (gdm: GroupDataManager, key: string): Version => gdm.item(key)?.stamp ?? null;
  /** The stamp each (unique) register value was written with, as replicas applied it. */
  const stampOfValue = new Map<string, Stamp>();
  const watch = (gdm: GroupDataManager) =>
    gdm.on("change", (e) => {
      if (!e.transfer && typeof e.new === "string" && !stampOfValue.has(e.new)) {
        stampOfValue.set(e.new, e.stamp);
      }
    });
  for (const x of g.gdms.values()) watch(x);
  const valueOf = (gdm: GroupDataManager, key: string): string | null => {
    const v = gdm.get(key);
    return typeof v === "string" ? v : v === undefined ? null : JSON.stringify(v);
  };

  const faultEnd = c.clock.now() + (opts.faultMs ?? 1500);
  const crashed: string[] = [];
  let cutNode: string | undefined;
  const unhealthy = new Set<string>();
  let checks = 0;
  while (c.clock.now() < faultEnd && violations.length === 0) {
    await c.run(r.between(5, 80));
    checkStep();
    const live = g.live();
    if (live.length === 0) break;
    const pick = r.pick(live);
    const gdm = pick.gdm;
    const process = processOf(pick.node.id);
    const now = c.clock.now();
    const roll = r.int(100);
    try {
      if (roll < 22) {
        const key = `k${r.int(12)}`;
        const value = `${process}:${++unique}`;
        const op: HistoryOp = { f: "write", process, key, value, invoke: now, outcome: "info" };
        writes++;
        track(process, op, gdm.set(key, value), (s) => {
          op.version = s;
          resolved.push({ process, key, s });
        });
      } else if (roll < 27) {
        const key = `k${r.int(12)}`;
        const op: HistoryOp = { f: "write", process, key, value: null, invoke: now, outcome: "info" };
        writes++;
        track(process, op, gdm.delete(key), (s) => {
          op.version = s;
          resolved.push({ process, key, s });
        });
      } else if (roll < 32) {
        const key = `p${r.int(4)}`;
        writes++;
        const p = gdm.patch(key, { path: ["f", String(r.int(5))], value: r.int(100) });
        trackUnrecorded(process, p, (s) => resolved.push({ process, key, s }));
      } else if (roll < 36) {
        const key = `b${r.int(2)}`;
        void gdm.patch(key, { offset: r.int(16), bytes: new Uint8Array([r.int(256), r.int(256)]) }).catch(
          () => {},
        );
      } else if (roll < 44) {
        // Compare-and-set: read locally, write a new value if the version is unchanged at the commit.
        const key = `c${r.int(3)}`;
        const value = `${process}:${++unique}`;
        const expected = version(gdm, key);
        const op: HistoryOp = { f: "cas", process, key, expected, value, invoke: now, outcome: "info" };
        track(
          process,
          op,
          gdm.transaction((tx) => {
            tx.get(key);
            tx.set(key, value);
          }, { compare: true }),
          () => {},
        );
      } else if (roll < 50) {
        const set = "s";
        const element = `${process}:${++unique}`;
        writes++;
        track(
          process,
          { f: "add", process, set, element, invoke: now, outcome: "info" },
          gdm.set(`s/${element}`, 1),
          () => {},
        );
      } else if (roll < 56) {
        const t = ++txn;
        void gdm.transaction((tx) => {
          tx.set("tx/a", t);
          tx.set("tx/b", t);
        }, { compare: r.chance(0.5) }).catch(() => {});
      } else if (roll < 62) {
        // Local reads: a register, a compare-and-set register, or the set.
        const which = r.int(3);
        if (which === 2) {
          ops.push({
            f: "read-set",
            process,
            set: "s",
            invoke: now,
            complete: now,
            outcome: "ok",
            elements: gdm.keys("s/").map((k) => k.slice(2)),
          });
        } else {
          const key = which === 0 ? `k${r.int(12)}` : `c${r.int(3)}`;
          ops.push({
            f: "read",
            process,
            key,
            invoke: now,
            complete: now,
            outcome: "ok",
            value: valueOf(gdm, key),
            version: version(gdm, key),
          });
        }
      } else if (roll < 68) {
        const L = r.pick(LOCKS);
        const op: HistoryOp = { f: "acquire", process, lock: L, invoke: now, outcome: "info" };
        track(process, op, gdm.lock(L, { timeoutMs: r.between(100, 1500) }), (token) => {
          op.token = token;
          c.clock.setTimer(r.between(10, 200), () => {
            const rel: HistoryOp = {
              f: "release",
              process,
              lock: L,
              token,
              invoke: c.clock.now(),
              outcome: "info",
            };
            if (!g.c.nodes.get(pick.node.id)!.alive) return;
            track(process, rel, gdm.unlock(L), () => {});
          });
        });
      } else if (roll < 73) {
        if (live.length > 1) {
          g.crash(pick.node.id);
          crashed.push(pick.node.id);
          log(`crash ${pick.node.id}`);
        }
      } else if (roll < 78) {
        if (crashed.length > 0) {
          const id = crashed.splice(r.int(crashed.length), 1)[0];
          watch(await g.start(id, c.ids.filter((p) => p !== id)));
          log(`restart ${id}`);
        }
      } else if (roll < 83) {
        // With the quorum policy the group never grows beyond the size it expects: with more nodes
        // than that, two majorities could meet apart (the README says so).
        if (c.nodes.size < 7 && !quorum) {
          const id = newId();
          // Every running node, those out for a health check included (they rejoin).
          watch(await g.start(id, [...c.nodes.values()].filter((x) => x.alive).map((x) => x.id)));
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
          const off = pick.node.gcm.addHealthCheck(`h${++checks}`, () => c.clock.now() >= until, {
            intervalMs: 25,
          });
          log(`unhealthy ${id} for ${ms}ms`);
          c.clock.setTimer(ms + 100, () => {
            off();
            unhealthy.delete(id);
          });
        }
      } else if (roll < 93 && disks) {
        // Whole-cluster crash: every process dies at once (writes on their way to disk are lost),
        // then all come back from their disks.
        const all = live.map((x) => x.node.id);
        for (const id of all) g.crash(id);
        log(`crash all (${all.join(",")})`);
        await c.run(r.between(20, 300));
        for (const id of all) watch(await g.start(id, c.ids.filter((p) => p !== id)));
        log(`restart all`);
      }
    } catch {
      // A node that just left or crashed refuses requests: fine.
    }
  }
  c.backend.healAll();
  cutNode = undefined;
  log("heal all");
  // With disks, every crashed node comes back from its disk (a whole-cluster restart, for those that
  // all went down): what they acknowledged must come back with them — and the quorum policy's group
  // regains its majority, so that the end state is one the checks can hold to account.
  if (disks) {
    for (const id of crashed.splice(0)) {
      watch(await g.start(id, c.ids.filter((p) => p !== id)));
      log(`restart ${id}`);
    }
  }
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
  const live = g.live();
  // With the quorum policy, a last view that is not a primary component applies nothing: requests wait.
  const applying = live.length > 0 && (!quorum || live[0].node.gcm.inQuorum);
  /** Processes whose acknowledged operations are promised (see OpHistory.survivors). */
  const survivors = new Set(live.map((x) => processOf(x.node.id)));
  if (disks) {
    for (const p of new Set(ops.map((o) => o.process))) {
      const [id, inc] = [p.slice(0, p.lastIndexOf("#")), Number(p.slice(p.lastIndexOf("#") + 1))];
      const node = c.nodes.get(id)!;
      if (node.alive && node.inc > inc) survivors.add(p);
    }
  }
  if (violations.length === 0) {
    c.beginQuietTail();
    await c.run(1000);
    checkStep();
    // 1. convergence
    const ref = GdmCluster.dump(live[0].gdm);
    for (const x of live.slice(1)) {
      const mine = GdmCluster.dump(x.gdm);
      if (mine !== ref) {
        const a = new Set(ref.split("\n")), b = new Set(mine.split("\n"));
        const short = (l: string) => l.replace(/=[0-9a-f]{40,}/, "=…");
        violations.push(
          `convergence: ${x.node.id} differs from ${live[0].node.id}: ${live[0].node.id} has ${
            [...a].filter((l) => !b.has(l)).slice(0, 3).map(short).join(" ")
          }; ${x.node.id} has ${[...b].filter((l) => !a.has(l)).slice(0, 3).map(short).join(" ")}`,
        );
        break;
      }
    }
    // 2'. liveness: every request of a live process has settled (none hangs)
    for (const { node } of live) {
      const left = unsettled.get(processOf(node.id)) ?? 0;
      if (left > 0 && applying) {
        const gdm = g.gdms.get(node.id)!;
        violations.push(
          `liveness: ${left} request(s) of ${processOf(node.id)} never settled: ${
            JSON.stringify(gdm.pending)
          }`,
        );
        break;
      }
    }
    // 2. durability of acknowledged writes by processes whose acknowledgements are promised
    for (const w of resolved) {
      if (!survivors.has(w.process) || w.s[1] === "") continue;
      const it = live[0].gdm.item(w.key);
      if (it === undefined || compareStamps(it.stamp, w.s) < 0) {
        violations.push(
          `durability: ${w.process}'s write of ${w.key} @${w.s.join(".")} lost (now ${
            it ? it.stamp.join(".") : "absent"
          })`,
        );
        break;
      }
    }
  }
  // 6. no divergence; then the EVS properties of the whole run.
  violations.push(...g.divergences.map((d) => `divergence: ${d}`), ...c.check({ end: true }));
  let transfers = 0;
  for (const x of g.gdms.values()) transfers += x.stats.received;
  for (const op of ops) {
    if (op.f === "cas" && op.outcome === "ok") op.version = stampOfValue.get(op.value) ?? null;
  }
  const final: OpHistory["final"] = live.map((x) => {
    const registers: Record<string, { value: string | null; version: Version }> = {};
    for (const key of [...Array.from({ length: 12 }, (_, i) => `k${i}`), "c0", "c1", "c2"]) {
      registers[key] = { value: valueOf(x.gdm, key), version: version(x.gdm, key) };
    }
    return { process: processOf(x.node.id), registers, sets: { s: x.gdm.keys("s/").map((k) => k.slice(2)) } };
  });
  // The clients' view: the Jepsen-style checker judges what they invoked and saw.
  const history: OpHistory = { ops, final, oneComponent: quorum, durable: disks, survivors: [...survivors] };
  violations.push(...formatAnomalies(checkOpHistory(history)).map((l) => `history: ${l}`));
  return {
    seed,
    ok: violations.length === 0,
    violations,
    summary: `${mode}${quorum ? ", quorum" : ""}${
      disks ? ", disks" : ""
    }, ${c.nodes.size} nodes, ${writes} writes, ${transfers} transfers`,
    events,
    stats: {
      writes,
      transfers,
      virtualMs: c.clock.now(),
      [`mode ${mode}`]: 1,
      ...(quorum ? { quorum: 1 } : {}),
      ...(disks ? { disks: 1 } : {}),
      "history ops checked": ops.filter((o) => o.outcome === "ok").length,
    },
    nodes: c.nodes.size,
    writes,
    transfers,
    history,
  };
}
