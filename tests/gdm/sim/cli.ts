/**
 * Long-running GDM simulator (used by tests/gdm/sim/main.ts and `scripts/sim.ts --layer gdm`):
 * node scripts/run.mjs tests/gdm/sim/main.ts [--seeds N] [--from F]
 *   [--seed S] [--verbose]
 * Prints failing seeds with their last events and a summary; exits 1 if any seed failed.
 */
import { runGdmSeed } from "./run.ts";

/** Runs the seeds named by `argv` flags; resolves with the exit code. */
export async function gdmSimMain(argv: readonly string[]): Promise<number> {
  const arg = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const verbose = argv.includes("--verbose");
  const single = arg("seed");
  const from = Number(arg("from") ?? 1);
  const count = Number(arg("seeds") ?? 1000);
  const seeds = single !== undefined ? [Number(single)] : Array.from({ length: count }, (_, i) => from + i);
  const t0 = performance.now();
  let failed = 0, transfers = 0, writes = 0, diverged = 0;
  for (const seed of seeds) {
    const res = await runGdmSeed(seed, { verbose });
    transfers += res.transfers;
    writes += res.writes;
    diverged += res.diverged;
    if (!res.ok) {
      failed++;
      console.log(`FAIL seed ${seed} (${res.nodes} nodes): ${res.violations.join(" | ")}`);
      if (!verbose) { for (const e of res.events.slice(-15)) console.log(`  | ${e}`); }
      console.log(`replay: node scripts/run.mjs tests/gdm/sim/main.ts --seed ${seed} --verbose`);
    }
    const done = seeds.indexOf(seed) + 1;
    if (seeds.length > 1 && (done % 500 === 0 || done === seeds.length)) {
      console.log(
        `${done}/${seeds.length} seeds, ${failed} failed (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );
    }
  }
  console.log(
    `summary: ${seeds.length} GDM seeds, ${failed} failed, ${writes} writes, ${transfers} state transfers, ${diverged} diverged replicas repaired, ${
      ((performance.now() - t0) / 1000).toFixed(1)
    } s`,
  );
  return failed === 0 ? 0 : 1;
}
