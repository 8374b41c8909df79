/**
 * One shard of the simulator's seeds as a vitest test (the shard files in tests/sim/ are generated:
 * `node --import tsx scripts/sim-shards.ts`). Shard `index` of `count` runs its slice of the seeds
 * `SIM_FROM … SIM_FROM + SIM_SEEDS - 1`, so raising the count never overlaps or leaves gaps.
 * Environment, the same for every kind:
 * - `SIM_SEEDS=N`: seeds per kind (default: the kind's CI share, sim/kinds.ts);
 * - `SIM_FROM=F`: the first seed (default 1);
 * - `SIM_SEED=S`: every shard runs seed S only.
 * A failing seed prints its violations and the `raincore sim` line that replays it (a GDM run's
 * violations include the Jepsen-style checker's verdict on its client history, `sim/jepsen/`).
 * @module
 */
import { expect, it } from "vitest";
import { describeFailure } from "../../sim/batch.ts";
import { shardSeeds, SIM_KINDS, type SimKindName } from "../../sim/kinds.ts";

const env = process.env;

function integerEnv(name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === "") return undefined;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new RangeError(`${name} must be an integer, got "${text}"`);
  return n;
}

/** Failing seeds reported in full before the shard stops. */
const FAILURES_SHOWN = 5;

/** Registers the test of shard `index` (1-based) of `count` of `kind`. */
export function simShard(kindName: SimKindName, index: number, count: number): void {
  const kind = SIM_KINDS[kindName];
  if (count !== kind.shards) {
    throw new Error(
      `${kindName} has ${kind.shards} shards in sim/kinds.ts, this file says ${count}: regenerate`,
    );
  }
  const one = integerEnv("SIM_SEED");
  const seeds = one !== undefined
    ? [one]
    : shardSeeds(integerEnv("SIM_FROM") ?? 1, integerEnv("SIM_SEEDS") ?? kind.ciSeeds, index, count);
  const range = seeds.length === 1 ? `seed ${seeds[0]}` : `seeds ${seeds[0]}..${seeds.at(-1)}`;
  it(`${kind.title} (${range}, shard ${index}/${count})`, async () => {
    expect(seeds.length).toBeGreaterThan(0);
    const failures: string[] = [];
    const stats: Record<string, number> = {};
    for (const seed of seeds) {
      const outcome = await kind.run(seed, {});
      for (const [k, v] of Object.entries(outcome.stats)) stats[k] = (stats[k] ?? 0) + v;
      if (!outcome.ok) {
        failures.push(describeFailure(kind, outcome).join("\n"));
        if (failures.length >= FAILURES_SHOWN) break;
      }
    }
    if (failures.length > 0) console.error(failures.join("\n\n"));
    expect(failures).toEqual([]);
    expect(kind.assess(stats, seeds.length)).toEqual([]);
  }, 900_000);
}
