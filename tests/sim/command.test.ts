/**
 * `raincore sim`: flags are checked with usage errors; a batch prints progress and a summary and exits
 * 0 when every seed held; a failing seed is reported with its violations and one replay line.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { main } from "../../cli.ts";
import { describeFailure } from "../../sim/batch.ts";
import { SIM_KINDS } from "../../sim/kinds.ts";

function capture(): { lines: string[]; errors: string[] } {
  const out = { lines: [] as string[], errors: [] as string[] };
  vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.lines.push(a.join(" ")));
  vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void out.errors.push(a.join(" ")));
  return out;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("raincore sim", () => {
  it("rejects flags that do not fit, naming them", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["--layer", "min", "--seed", "1"], /--layer must be tm, gcm or gdm/],
      [["--layer", "gcm"], /give --seed S or --seeds N/],
      [["--seed", "1", "--seeds", "2"], /give --seed S or --seeds N/],
      [["--layer", "gdm", "--seed", "1", "--partitions"], /--partitions applies to --layer gcm only/],
      [["--seed", "1", "--mode", "four-phase"], /--mode must be one of/],
      [["--seed", "1", "--from", "3"], /--from goes with --seeds/],
      [["--seed", "1.5"], /--seed must be an integer/],
      [["--seed", "1", "--listener-faults", "maybe"], /--listener-faults must be on or off/],
    ];
    for (const [argv, message] of cases) {
      const out = capture();
      expect(await main(["sim", ...argv]), argv.join(" ")).toBe(2);
      expect(out.errors.join("\n"), argv.join(" ")).toMatch(message);
      vi.restoreAllMocks();
    }
  });

  it("runs a batch of seeds with progress and a summary, exit code 0", async () => {
    const out = capture();
    expect(await main(["sim", "--layer", "tm", "--seeds", "101", "--from", "7"])).toBe(0);
    expect(out.lines.filter((l) => /^100\/101 tm seeds, 0 failed \(\d+\.\d s\)$/.test(l))).toHaveLength(1);
    expect(out.lines.at(-1)).toMatch(/^summary: 101 tm seeds, 0 failed, .* sends=\d+/);
  }, 120_000);

  it("reports a failing seed with its violations, the end of its schedule and one replay line", () => {
    const lines = describeFailure(SIM_KINDS.partitions, {
      seed: 7100051,
      ok: false,
      violations: [
        "[2 one order] n01#1 has message x before message y, n02#1 has message y before message x",
      ],
      summary: "three-phase, 6 nodes",
      events: Array.from({ length: 40 }, (_, i) => `t=${i} event ${i}`),
      stats: {},
    }, { mode: "two-phase" });
    expect(lines[0]).toBe("FAIL partitions seed 7100051 (three-phase, 6 nodes)");
    expect(lines[1]).toContain("[2 one order]");
    expect(lines).toContain("  | t=39 event 39");
    expect(lines).not.toContain("  | t=9 event 9");
    expect(lines.filter((l) => l.startsWith("replay: "))).toEqual([
      "replay: npx raincore sim --layer gcm --seed 7100051 --partitions --mode two-phase",
    ]);
  });
});
