/**
 * Scaling benchmark: how a ring's costs grow with its size.
 *
 * 1. Simulated (`bench/scale_run.ts`): N members built with `createNode` and default timing on a
 *    SimNetwork with 1–3 ms hops, each told only the first member's address; per N (several seeds):
 *    boot to one view, an idle round, fail-over after a crash, rejoin of the restarted member, and the
 *    bytes and 911 messages of each event. Virtual time, so the numbers are exact and repeatable.
 * 2. Real processes (`--processes N`): N `raincore node` processes on UDP loopback with default flags,
 *    each given only the first one's address (`--join`): spawn to one view, then `--trials` times a
 *    SIGKILL of one member to the view without it, and its restart to one view of all again (from the
 *    processes' own event stamps).
 *
 *   node --import tsx bench/scale.ts [--sizes 4,8,16,32,64,128,256] [--seeds 3] [--processes 64 [--trials 5]]
 *
 * Prints a table and writes bench/results/scale.json.
 * @module
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { numberFlag, parseFlags, stringFlag } from "../runtime/args.ts";
import { epochMs } from "../runtime/json_out.ts";
import { type EventCost, runScale, type ScaleResult } from "./scale_run.ts";
import { type JsonChild, killAll, repoRoot, startRaincore } from "../tools/json_child.ts";
import { freeUdpPorts } from "../tools/ports.ts";
import { commonView, percentile } from "./failover.ts";

/** One row of the simulated table: medians over the seeds (max in brackets where it matters). */
export interface SimRow {
  size: number;
  seeds: number;
  bootMs: number;
  idleRoundMs: number;
  failoverMs: number;
  failoverMaxMs: number;
  joinMs: number;
  bytes: { boot: number; failover: number; join: number };
  messages911: { boot: number; failover: number; join: number };
  /** Seeds whose events all converged. */
  converged: number;
}

/** What the process run measured. */
export interface ProcessRun {
  processes: number;
  /** Spawn of the first process → every process committed one view of all. */
  formMs: number;
  /** Per trial: SIGKILL → every survivor committed the view without the victim. */
  killMs: number[];
  /** Per trial: the victim restarted (ready) → every process committed one view of all again. */
  rejoinMs: number[];
  loadAverage: number;
}

const median = (v: number[]) => percentile(v, 0.5);

/** Runs the simulated rows. */
export function simulatedRows(sizes: readonly number[], seeds: number, log: (l: string) => void): SimRow[] {
  return sizes.map((size) => {
    const runs: ScaleResult[] = [];
    for (let s = 1; s <= seeds; s++) runs.push(runScale({ size, seed: s, contacts: "first" }));
    const ok = runs.filter((r) => [r.boot, r.failover, r.join].every((e) => e.ms >= 0));
    const of = (pick: (r: ScaleResult) => EventCost) => ok.map(pick);
    const row: SimRow = {
      size,
      seeds,
      bootMs: median(of((r) => r.boot).map((e) => e.ms)),
      idleRoundMs: median(ok.map((r) => r.idleRoundMs)),
      failoverMs: median(of((r) => r.failover).map((e) => e.ms)),
      failoverMaxMs: Math.max(...of((r) => r.failover).map((e) => e.ms)),
      joinMs: median(of((r) => r.join).map((e) => e.ms)),
      bytes: {
        boot: median(of((r) => r.boot).map((e) => e.bytes)),
        failover: median(of((r) => r.failover).map((e) => e.bytes)),
        join: median(of((r) => r.join).map((e) => e.bytes)),
      },
      messages911: {
        boot: median(of((r) => r.boot).map((e) => e.messages911)),
        failover: median(of((r) => r.failover).map((e) => e.messages911)),
        join: median(of((r) => r.join).map((e) => e.messages911)),
      },
      converged: ok.length,
    };
    log(`${size} members: ${JSON.stringify(row)}`);
    return row;
  });
}

/**
 * Spawns `n` CLI members that know only the first one's address; measures forming, then `trials`
 * times a SIGKILL of one member (never the first) and its restart.
 */
export async function processRun(n: number, trials: number, log: (l: string) => void): Promise<ProcessRun> {
  const ids = Array.from({ length: n }, (_, i) => `p${String(i).padStart(3, "0")}`);
  const ports = await freeUdpPorts(n);
  const start = (i: number) =>
    startRaincore(ids[i], [
      "node",
      "--id",
      ids[i],
      "--listen",
      `udp://127.0.0.1:${ports[i]}`,
      ...(i === 0 ? [] : ["--join", `udp://127.0.0.1:${ports[0]}`]),
    ]);
  const spawnAt = epochMs();
  const nodes: JsonChild[] = [];
  try {
    for (let i = 0; i < n; i++) nodes.push(start(i));
    const formedAt = await commonView(nodes, ids, spawnAt, 120_000);
    log(`${n} processes: one view ${(formedAt - spawnAt).toFixed(0)} ms after the first spawn`);
    const killMs: number[] = [];
    const rejoinMs: number[] = [];
    for (let t = 0; t < trials; t++) {
      const victim = 1 + ((t * 17 + Math.floor(n / 2)) % (n - 1));
      const survivors = nodes.filter((_, i) => i !== victim);
      const killAt = epochMs();
      nodes[victim].signal("SIGKILL");
      const goneAt = await commonView(survivors, ids.filter((_, i) => i !== victim), killAt, 60_000);
      killMs.push(goneAt - killAt);
      await nodes[victim].exit;
      nodes[victim] = start(victim);
      const ready = await nodes[victim].waitFor((l) => l.event === "ready", 60_000);
      const backAt = await commonView(nodes, ids, ready.t as number, 60_000);
      rejoinMs.push(backAt - (ready.t as number));
      log(
        `${n} processes, trial ${t + 1}: SIGKILL ${ids[victim]} → view without it ${
          killMs[t].toFixed(0)
        } ms; restarted → one view of all ${rejoinMs[t].toFixed(0)} ms`,
      );
    }
    return { processes: n, formMs: formedAt - spawnAt, killMs, rejoinMs, loadAverage: loadavg()[0] };
  } finally {
    await killAll(nodes);
  }
}

const fmt = (ms: number) => (ms < 0 ? "—" : `${Math.round(ms).toLocaleString("en-US")} ms`);
const kb = (b: number) => `${(b / 1024).toFixed(b < 10_240 ? 1 : 0)} KB`;

/** The README table of the simulated rows. */
export function table(rows: readonly SimRow[]): string {
  const lines = [
    "| members | idle round | boot (one view) | fail-over p50 / max | rejoin | bytes: boot / fail-over / rejoin | 911s: boot / fail-over / rejoin |",
    "| ------: | ---------: | --------------: | ------------------: | -----: | -------------------------------: | ------------------------------: |",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.size} | ${fmt(r.idleRoundMs)} | ${fmt(r.bootMs)} | ${fmt(r.failoverMs)} / ${
        fmt(r.failoverMaxMs)
      } | ${fmt(r.joinMs)} | ${kb(r.bytes.boot)} / ${kb(r.bytes.failover)} / ${
        kb(r.bytes.join)
      } | ${r.messages911.boot} / ${r.messages911.failover} / ${r.messages911.join} |`,
    );
  }
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const flags = parseFlags(process.argv.slice(2), { sizes: {}, seeds: {}, processes: {}, trials: {} });
  const sizes = (stringFlag(flags, "sizes") ?? "4,8,16,32,64,128,256").split(",").map(Number);
  const seeds = numberFlag(flags, "seeds", { min: 1, max: 100, integer: true }) ?? 3;
  const processes = numberFlag(flags, "processes", { min: 2, max: 512, integer: true });
  const trials = numberFlag(flags, "trials", { min: 1, max: 100, integer: true }) ?? 5;
  const log = (l: string) => console.error(l);
  const rows = simulatedRows(sizes, seeds, log);
  const proc = processes === undefined ? undefined : await processRun(processes, trials, log);
  console.log(table(rows));
  if (proc !== undefined) {
    const p50 = (v: number[]) => fmt(median(v));
    const max = (v: number[]) => fmt(Math.max(...v));
    console.log(
      `\n${proc.processes} raincore node processes (default flags, --join the first): one view ${
        fmt(proc.formMs)
      } after the first spawn; over ${proc.killMs.length} trials, the view without a SIGKILLed member ${
        p50(proc.killMs)
      } p50 / ${max(proc.killMs)} max after the kill, the restarted one back in ${p50(proc.rejoinMs)} p50 / ${
        max(proc.rejoinMs)
      } max (load ${proc.loadAverage.toFixed(1)})`,
    );
  }
  const result = { bench: "scale", date: new Date().toISOString(), hopMs: "1–3", rows, processes: proc };
  writeFileSync(join(repoRoot, "bench", "results", "scale.json"), JSON.stringify(result, null, 2) + "\n");
}
