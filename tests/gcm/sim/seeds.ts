/**
 * Runs a range of simulator seeds inside a vitest test; a failing seed prints its replay command.
 * `GCM_SIM_SEEDS=N` / `GCM_PARTITION_SEEDS=N` scale the count per file; `SEED=S` replays one seed.
 */
import { expect, it } from "vitest";
import { runSeed } from "./run.ts";
import { runPartitionSeed } from "./partition_run.ts";

interface SeedKind {
  title: string;
  countEnv: string;
  run: (seed: number) => Promise<{ ok: boolean; mode: string; nodes: number; violations: string[] }>;
  replayFlags: string;
}

function seedRange(kind: SeedKind, from: number, count: number): void {
  const only = process.env.SEED;
  const n = Number(process.env[kind.countEnv] ?? count);
  const seeds = only !== undefined ? [Number(only)] : Array.from({ length: n }, (_, i) => from + i);
  it(
    kind.title.replace("%d", String(seeds.length)),
    async () => {
      const failures: string[] = [];
      for (const seed of seeds) {
        const res = await kind.run(seed);
        if (!res.ok) {
          failures.push(
            `seed ${seed} (${res.mode}, ${res.nodes} nodes):\n    ${
              res.violations.slice(0, 5).join("\n    ")
            }\n` +
              `  replay: node scripts/run.mjs scripts/sim.ts${kind.replayFlags} --seed ${seed} --verbose`,
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

/** Registers one test that runs GCM simulator seeds [from, from + count). */
export function simSeeds(from: number, count: number): void {
  seedRange(
    {
      title: "GCM simulator: %d seeded fault schedules on the real stack hold properties 1–6",
      countEnv: "GCM_SIM_SEEDS",
      run: (seed) => runSeed(seed),
      replayFlags: "",
    },
    from,
    count,
  );
}

/** Registers one test that runs partition-simulator seeds [from, from + count). */
export function partitionSeeds(from: number, count: number): void {
  seedRange(
    {
      title: "GCM partitions: %d seeded split/heal schedules hold properties 1–6 and end in one group",
      countEnv: "GCM_PARTITION_SEEDS",
      run: (seed) => runPartitionSeed(seed),
      replayFlags: " --partitions",
    },
    from,
    count,
  );
}
