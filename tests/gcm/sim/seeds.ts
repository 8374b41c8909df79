/**
 * Runs a range of simulator seeds inside a vitest test; a failing seed prints its replay command.
 * `GCM_SIM_SEEDS=N` scales the count per file; `SEED=S` replays one seed.
 */
import { expect, it } from "vitest";
import { runSeed } from "./run.ts";

/** Registers one test that runs seeds [from, from + count). */
export function simSeeds(from: number, count: number): void {
  const only = process.env.SEED;
  const n = Number(process.env.GCM_SIM_SEEDS ?? count);
  const seeds = only !== undefined ? [Number(only)] : Array.from({ length: n }, (_, i) => from + i);
  it(
    `GCM simulator: ${seeds.length} seeded fault schedules on the real stack hold properties 1–6`,
    async () => {
      const failures: string[] = [];
      for (const seed of seeds) {
        const res = await runSeed(seed);
        if (!res.ok) {
          failures.push(
            `seed ${seed} (${res.mode}, ${res.nodes} nodes):\n    ${
              res.violations.slice(0, 5).join("\n    ")
            }\n` +
              `  replay: node scripts/run.mjs scripts/sim.ts --seed ${seed} --verbose` +
              `   (or SEED=${seed} npx vitest run tests/gcm/sim)`,
          );
          if (failures.length >= 5) break;
        }
      }
      if (failures.length > 0) console.error(failures.join("\n"));
      expect(failures).toEqual([]);
    },
    600_000,
  );
}
