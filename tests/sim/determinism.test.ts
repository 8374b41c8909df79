/**
 * Every simulated run is a pure function of its seed: the same seed replays the same schedule with
 * the same verdict, for every kind; another seed gives another schedule.
 */
import { describe, expect, it } from "vitest";
import { SIM_KINDS } from "../../sim/kinds.ts";

describe("simulator determinism", () => {
  for (const kind of Object.values(SIM_KINDS)) {
    it(`${kind.name}: the same seed replays the same schedule and verdict`, async () => {
      for (const seed of [3, 17, 1234]) {
        const first = await kind.run(seed, {});
        const again = await kind.run(seed, {});
        expect(first.events.length).toBeGreaterThan(1);
        expect(again.events).toEqual(first.events);
        expect(again.violations).toEqual(first.violations);
        expect(again.stats).toEqual(first.stats);
        expect((await kind.run(seed + 1, {})).events).not.toEqual(first.events);
      }
    }, 120_000);
  }
});
