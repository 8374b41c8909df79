/**
 * Seeds that once failed, each a named regression test: every property the checker knows must hold on
 * each of them. The first four are issue 13's (the GCM before extended virtual synchrony broke all
 * four); GDM seed 584 (with wake-ups in the GCM) had a member alone resolve a lock grant that the
 * primary component never applied, so the same fencing token was granted twice; 11063 and 11498 (the
 * long run after that fix) and 4270 (after the Transport Manager's congestion control) a compare-and-set
 * against a member's own unconfirmed write: refused on it (a GDM fault, fixed) or judged by the checker as if
 * the group had had it (a checker fault, fixed); partition seed 10109 (the 20,000-seed run after that) a
 * two-phase commit after one round of a nodelist its lowest member had just grown.
 */
import { describe, expect, it } from "vitest";
import { describeFailure } from "../../sim/batch.ts";
import { SIM_KINDS, type SimKindName, type SimRunOptions } from "../../sim/kinds.ts";

const seeds: Array<[string, SimKindName, number, SimRunOptions]> = [
  ["GDM layer: one view committed at different indices leaves a replica empty", "gdm", 7001420, {}],
  ["three-phase: a node re-commits the same membership alone at two indices", "gcm", 8000360, {
    mode: "three-phase",
  }],
  ["plain: a live sender never delivers its own message that others delivered", "gcm", 7100016, {}],
  ["partitions: two messages delivered in opposite orders by two members", "partitions", 7100051, {}],
  ["GDM quorum: a grant applied only by the member that left is not reported as granted", "gdm", 584, {}],
  [
    "GDM quorum: a compare refused on state the primary never had is not reported as refused",
    "gdm",
    11063,
    {},
  ],
  ["GDM quorum: a write taken in after a compare that expected it failed is no anomaly", "gdm", 11498, {}],
  [
    "GDM quorum: a member's read of its own write lost in a whole-cluster crash is no lost update",
    "gdm",
    4270,
    {},
  ],
  [
    "two-phase: a commit one round after the nodelist grew, a safe message not yet held",
    "partitions",
    10109,
    {},
  ],
];

describe("regression seeds", () => {
  for (const [what, kindName, seed, opts] of seeds) {
    const kind = SIM_KINDS[kindName];
    it(`${kindName} seed ${seed}: ${what}`, async () => {
      const outcome = await kind.run(seed, opts);
      const report = describeFailure(kind, outcome, opts).join("\n");
      expect(outcome.violations, report).toEqual([]);
    }, 60_000);
  }
});
