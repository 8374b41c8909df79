/**
 * Long-running GCM simulator: node scripts/run.mjs scripts/sim.ts --seeds N [--seed S] [--from F]
 *   [--layer gcm] [--net real|fake] [--mode three-phase|two-phase|every-token] [--partitions] [--verbose]
 * `--partitions` runs the partition schedules of tests/gcm/sim/partition_run.ts instead (splits into
 * 2–4 groups healed in random orders, re-partitions during merges, one-way cuts, flapping links).
 * Runs seeded fault schedules (crashes, restarts, loss, duplication, cuts, false suspicions, joins,
 * leaves, token loss in a view change, traffic, critical sections) and checks DESIGN.md properties
 * 1–6. Prints progress and a summary; exits 1 on the first failing seed, with its replay command —
 * or, with `--keep-going`, runs every seed and lists all failing ones at the end.
 */
import { runSeed } from "../tests/gcm/sim/run.ts";
import { runPartitionSeed } from "../tests/gcm/sim/partition_run.ts";
import type { ViewMode } from "../gcm/types.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const verbose = process.argv.includes("--verbose");
const keepGoing = process.argv.includes("--keep-going");
const layer = arg("layer") ?? "gcm";
if (layer === "gdm") {
  // GDM simulator (tests/gdm/sim): same flags --seeds/--from/--seed/--verbose.
  const { gdmSimMain } = await import("../tests/gdm/sim/cli.ts");
  process.exit(await gdmSimMain(process.argv.slice(2)));
}
if (layer !== "gcm") {
  console.error(`--layer ${layer}: only "gcm" is simulated by this script`);
  process.exit(2);
}
const net = (arg("net") ?? "real") as "real" | "fake";
const mode = arg("mode") as ViewMode | undefined;
const partitions = process.argv.includes("--partitions");
const single = arg("seed");
const from = Number(arg("from") ?? 1);
const count = Number(arg("seeds") ?? 1000);
const seeds = single !== undefined ? [Number(single)] : Array.from({ length: count }, (_, i) => from + i);

const t0 = performance.now();
let done = 0;
let delivered = 0;
const failed: number[] = [];
let virtualMs = 0;
const byMode = new Map<string, number>();
for (const seed of seeds) {
  const res = partitions
    ? await runPartitionSeed(seed, { mode, verbose })
    : await runSeed(seed, { net, mode, verbose });
  done++;
  delivered += res.delivered;
  virtualMs += res.virtualMs;
  byMode.set(res.mode, (byMode.get(res.mode) ?? 0) + 1);
  if (!res.ok) {
    console.log(`\nFAIL seed ${seed} (${res.mode}, ${res.nodes} nodes)`);
    for (const v of res.violations) console.log(`  ${v}`);
    if (!verbose) { for (const e of res.events.slice(-30)) console.log(`  | ${e}`); }
    console.log(
      `replay: node scripts/run.mjs scripts/sim.ts --seed ${seed}${
        partitions ? " --partitions" : ` --net ${net}`
      }${mode ? ` --mode ${mode}` : ""} --verbose`,
    );
    if (!keepGoing) process.exit(1);
    failed.push(seed);
  }
  if (seeds.length > 1 && (done % 100 === 0 || done === seeds.length)) {
    const s = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(`${done}/${seeds.length} seeds run, ${failed.length} failed (${s} s)`);
  }
}
const secs = (performance.now() - t0) / 1000;
if (failed.length > 0) {
  console.log(`FAILED ${failed.length} of ${done} seeds: ${failed.join(" ")}`);
  process.exit(1);
}
console.log(
  `summary: ${done} ${partitions ? "partition " : ""}seeds passed on the ${
    partitions ? "real" : net
  } stack in ${secs.toFixed(1)} s; ` +
    `${(virtualMs / 1000).toFixed(0)} s simulated, ${delivered} deliveries checked; modes ` +
    [...byMode].map(([m, n]) => `${m}=${n}`).join(" "),
);
