/**
 * Runs a range of GDM simulator seeds inside a vitest test; a failing seed prints its replay
 * command. `GDM_SIM_SEEDS=N` sets the count per file (long mode: e.g. 5000); `SEED=S` replays one.
 */
import { expect, it } from "vitest";
import { runGdmSeed } from "./run.ts";

/** Registers one test that runs seeds [from, from + count). */
export function gdmSimSeeds(from: number, count: number): void {
  const only = process.env.SEED;
  const n = Number(process.env.GDM_SIM_SEEDS ?? count);
  const seeds = only !== undefined ? [Number(only)] : Array.from({ length: n }, (_, i) => from + i * 1);
  it(
    `GDM simulator: ${seeds.length} seeded runs (crashes, restarts, joins, isolation, health-check leaves) keep convergence, durability, lock exclusion, atomicity, exact transfer`,
    async () => {
      const failures: string[] = [];
      let transfers = 0;
      for (const seed of seeds) {
        const res = await runGdmSeed(seed);
        transfers += res.transfers;
        if (!res.ok) {
          failures.push(
            `seed ${seed} (${res.nodes} nodes):\n    ${res.violations.slice(0, 3).join("\n    ")}\n` +
              `  replay: node scripts/run.mjs scripts/sim.ts --layer gdm --seed ${seed} --verbose` +
              `   (or SEED=${seed} npx vitest run tests/gdm/sim)`,
          );
          if (failures.length >= 5) break;
        }
      }
      if (failures.length > 0) console.error(failures.join("\n"));
      expect(failures).toEqual([]);
      console.log(`GDM sim: ${seeds.length} seeds, ${transfers} state transfers`);
      // The runs must exercise state transfer, or property 5 proves nothing.
      if (seeds.length >= 50) expect(transfers).toBeGreaterThan(seeds.length / 5);
    },
    600_000,
  );
}
