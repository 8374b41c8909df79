import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { barDiagramSvg, cyclicMasks, disjointPaths } from "../../min/mod.ts";
import { type MinCliIo, minUsage, runMinCli } from "../../min/cli.ts";
import { figureSvg } from "../../examples/min/figure.ts";

const net = { n: 3, t: 2, masks: cyclicMasks(3, 1) };

describe("barDiagramSvg", () => {
  it("draws one bar per switch, the paths, and broken bars for faults", () => {
    const paths = disjointPaths(net, [0, 0, 0], [0, 1, 1]);
    const svg = barDiagramSvg(net, { paths, faults: [{ stage: 0, node: [0, 0, 0] }], title: "a < b" });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("a &lt; b");
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    // 4 stages × 4 switches: 15 whole bars + 1 broken bar drawn as two dashed halves.
    expect(svg.match(/<line x1="[\d.]+" y1="[\d.]+" x2="[\d.]+" y2="[\d.]+" stroke="#333"/g)).toHaveLength(
      15,
    );
    expect(svg.match(/stroke="#d62728" stroke-width="2.5" stroke-dasharray/g)!.length).toBeGreaterThanOrEqual(
      2,
    );
    expect(svg).toContain("broken at stage 1");
    expect(svg).toContain("survives");
    for (const label of ["000", "110", "111"]) expect(svg).toContain(`>${label}</text>`);
  });

  it("rejects invalid paths and networks too large to draw", () => {
    expect(() =>
      barDiagramSvg(net, {
        paths: [{ modes: [1, 0, 0, 0], nodes: [[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]] }],
      })
    )
      .toThrow(/paths\[0\]/);
    expect(() => barDiagramSvg({ n: 9, t: 2, masks: cyclicMasks(9, 0) })).toThrow(RangeError);
  });

  it("docs/min-example.svg is up to date with examples/min/figure.ts", () => {
    const file = readFileSync(new URL("../../docs/min-example.svg", import.meta.url), "utf8");
    expect(file.trimEnd()).toBe(figureSvg().trimEnd());
  });
});

/** Captures what the CLI prints and writes. */
function capture(): MinCliIo & { out: string[]; err: string[]; files: Map<string, string> } {
  const out: string[] = [];
  const err: string[] = [];
  const files = new Map<string, string>();
  return {
    out,
    err,
    files,
    log: (line) => out.push(line),
    error: (line) => err.push(line),
    writeFile: (path, text) => {
      files.set(path, text);
      return Promise.resolve();
    },
  };
}

describe("runMinCli", () => {
  it("prints tolerance, tag, disjoint paths, route and writes the SVG", async () => {
    const io = capture();
    const code = await runMinCli(
      [
        "--n",
        "3",
        "--f",
        "1",
        "--t",
        "2",
        "--from",
        "000",
        "--to",
        "110",
        "--fault",
        "1:000",
        "--svg",
        "out.svg",
      ],
      io,
    );
    expect(code).toBe(0);
    const text = io.out.join("\n");
    expect(text).toContain("masks 001 010 100 001");
    expect(text).toContain("tolerated faults: 1");
    expect(text).toContain("routing tag 000 → 110 over stages 1..3: 0 1 1");
    expect(text).toContain("1: modes 1 1 1 1   000 → 001 → 011 → 111 → 110   broken at stage 1");
    expect(text).toContain("2: modes 0 1 1 0   000 → 000 → 010 → 110 → 110   survives");
    expect(text).toContain("route avoiding the faults: modes 0 1 1 0");
    expect(io.files.get("out.svg")).toMatch(/^<svg/);
  });

  it("explains networks that miss the condition, with a smallest cut", async () => {
    const io = capture();
    expect(await runMinCli(["--masks", "001,100,100,010", "--to", "110"], io)).toBe(0);
    expect(io.out.join("\n")).toMatch(
      /tolerated faults: 0 \(the masks of stages 1\.\.3 do not span; exact search\)/,
    );
    expect(io.out.join("\n")).toMatch(/smallest cut: 4:/);
  });

  it("--help prints the usage; mistakes exit 2 with a message", async () => {
    const io = capture();
    expect(await runMinCli(["--help"], io)).toBe(0);
    expect(io.out[0]).toBe(minUsage);
    for (
      const args of [["--bogus"], ["--n"], ["--n", "0"], ["--from", "012"], ["--fault", "9:000"], [
        "--fault",
        "x",
      ], ["--f", "1", "--masks", "001"]]
    ) {
      const bad = capture();
      expect(await runMinCli(args, bad), args.join(" ")).toBe(2);
      expect(bad.err[0]).toMatch(/^raincore min: /);
    }
  });
});
