/**
 * Rings of 100+ (issue 15, item 4), in the simulator: 128 members that know only the first one's
 * address boot to one view, fail over after a crash and take the restarted member back — and the
 * 911s and hand-shakes of each event grow with N, not N² (a boot of 128 used to send 23,457).
 * Times are the scaling benchmark's business (bench/scale.ts); here only that it converges and what
 * it costs in messages.
 */
import { describe, expect, it } from "vitest";
import { runScale } from "../../bench/scale_run.ts";

describe("a ring of 128 simulated members", () => {
  it("boots, fails over and rejoins with O(N) 911s per event", () => {
    const n = 128;
    const r = runScale({ size: n, contacts: "first", seed: 3 });
    for (const event of [r.boot, r.failover, r.join]) {
      expect(event.ms).toBeGreaterThan(0); // -1: it never converged
      expect(event.messages911).toBeLessThan(8 * n);
    }
    expect(r.idleRoundMs).toBeGreaterThan(0);
  }, 120_000);
});
