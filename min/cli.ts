/**
 * `raincore min`: a small command line over the min module — builds a network (the (n, f) cyclic
 * one, or explicit masks), prints how many faults it tolerates, the routing tag, the `f + 1`
 * disjoint paths between two nodes and a route avoiding the given faults, and can write the bar
 * diagram as SVG. Labels and stage numbers are written as in the thesis: most significant digit
 * first, stages counted from 1.
 * @module
 */

import { formatLabel, parseLabel } from "./labels.ts";
import { cyclicMasks, nonSpanningWindow } from "./masks.ts";
import { broadcastTree } from "./broadcast.ts";
import { minimumCut, toleratedFaults } from "./faults.ts";
import { disjointPaths, switchKey } from "./paths.ts";
import { route } from "./route.ts";
import { routingTag, spans } from "./span.ts";
import { barDiagramSvg } from "./svg.ts";
import type { Label, Network, Path, Switch } from "./types.ts";
import { MAX_NODES } from "./_compiled.ts";

/** Usage text of `raincore min`. */
export const minUsage = `raincore min — fault-tolerant multistage interconnection networks (thesis chapter 5)

usage: raincore min [--n N] [--t T] [--f F | --masks LIST] [--from LABEL] [--to LABEL]
                    [--fault STAGE:LABEL ...] [--svg FILE]

  --n N              dimension: labels have N digits, t^N nodes            (default 3)
  --t T              switch size: T×T switches, digits mod T                (default 2)
  --f F              extra stages of the (N, F) cyclic network              (default 1)
  --masks LIST       comma-separated stage masks instead, e.g. 001,010,100,111
  --from LABEL       source node                                            (default 0…0)
  --to LABEL         destination node                                       (default (t-1)…(t-1))
  --fault S:LABEL    the switch of stage S carrying LABEL is stuck straight; repeatable
  --svg FILE         write the bar diagram (faults, disjoint paths, route) to FILE
  --help             this text

Labels are written most significant digit first and stages are numbered from 1, as in the
thesis: "--fault 1:010" is the switch of the first stage that carries node 010.

example: raincore min --n 3 --f 1 --from 000 --to 110 --fault 1:000 --svg min.svg`;

/** Where {@link runMinCli} writes; tests pass their own. */
export interface MinCliIo {
  /** One line of normal output. @default console.log */
  log(line: string): void;
  /** One line of error output. @default console.error */
  error(line: string): void;
  /** Writes a text file. @default node:fs/promises writeFile */
  writeFile(path: string, text: string): Promise<void>;
}

const defaultIo: MinCliIo = {
  log: (line) => console.log(line),
  error: (line) => console.error(line),
  writeFile: async (path, text) => {
    // Imported lazily so the rest of min/ stays free of node: builtins (Deno supports node:fs too).
    const fs = await import("node:fs/promises");
    await fs.writeFile(path, text);
  },
};

class UsageMistake extends Error {}

const FLAGS = new Set(["n", "t", "f", "masks", "from", "to", "fault", "svg", "help"]);

function parse(args: readonly string[]): Map<string, string[]> {
  const flags = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "-h") {
      flags.set("help", ["true"]);
      continue;
    }
    if (!arg.startsWith("--")) throw new UsageMistake(`unexpected argument "${arg}"`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (!FLAGS.has(name)) throw new UsageMistake(`unknown flag --${name}`);
    let value = "true";
    if (name !== "help") {
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (i + 1 < args.length) value = args[++i];
      else throw new UsageMistake(`--${name} needs a value`);
    }
    if (flags.has(name) && name !== "fault") throw new UsageMistake(`--${name} given twice`);
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return flags;
}

function integer(flags: Map<string, string[]>, name: string, fallback: number, min: number): number {
  const text = flags.get(name)?.[0];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new UsageMistake(`--${name} must be an integer ≥ ${min}, got "${text}"`);
  }
  return value;
}

function label(text: string, n: number, t: number, what: string): number[] {
  try {
    return parseLabel(text, n, t);
  } catch (e) {
    throw new UsageMistake(`${what}: ${(e as Error).message}`);
  }
}

/**
 * Runs `raincore min` with `args` (the words after `min`); resolves with the exit code: 0 on
 * success, 2 for a usage mistake (printed with the usage), 1 when writing the SVG fails.
 */
export async function runMinCli(args: string[], io: MinCliIo = defaultIo): Promise<number> {
  let net: Network;
  let from: Label;
  let to: Label;
  let faults: Switch[];
  let svgPath: string | undefined;
  try {
    const flags = parse(args);
    if (flags.has("help")) {
      io.log(minUsage);
      return 0;
    }
    const n = integer(flags, "n", 3, 1);
    const t = integer(flags, "t", 2, 2);
    const maskList = flags.get("masks")?.[0];
    if (maskList !== undefined && flags.has("f")) throw new UsageMistake("give --f or --masks, not both");
    const masks = maskList !== undefined
      ? maskList.split(",").map((m, i) => label(m.trim(), n, t, `--masks entry ${i + 1}`))
      : cyclicMasks(n, integer(flags, "f", 1, 0), t);
    net = { n, t, masks };
    if (t ** n > MAX_NODES) {
      throw new UsageMistake(`t^n = ${t ** n} nodes is more than this command handles (${MAX_NODES})`);
    }
    from = label(flags.get("from")?.[0] ?? "0".repeat(n), n, t, "--from");
    to = label(flags.get("to")?.[0] ?? formatLabel(new Array<number>(n).fill(t - 1), t), n, t, "--to");
    faults = (flags.get("fault") ?? []).map((text) => {
      const m = /^(\d+):(.+)$/.exec(text);
      if (m === null) throw new UsageMistake(`--fault must be STAGE:LABEL (e.g. 1:010), got "${text}"`);
      const stage = Number(m[1]);
      if (stage < 1 || stage > masks.length) {
        throw new UsageMistake(
          `--fault stage must be in 1..${masks.length} (stages count from 1), got ${stage}`,
        );
      }
      return { stage: stage - 1, node: label(m[2], n, t, "--fault") };
    });
    svgPath = flags.get("svg")?.[0];
  } catch (e) {
    if (!(e instanceof UsageMistake || e instanceof RangeError || e instanceof TypeError)) throw e;
    io.error(`raincore min: ${(e as Error).message}\n\n${minUsage}`);
    return 2;
  }

  const { n, t, masks } = net;
  const L = masks.length;
  const fmt = (x: Label) => formatLabel(x, t);
  const faultKeys = new Set(faults.map((f) => switchKey(net, f)));
  const brokenAt = (p: Path) =>
    p.modes.findIndex((s, i) => s !== 0 && faultKeys.has(switchKey(net, { stage: i, node: p.nodes[i] })));

  io.log(`network: n = ${n}, t = ${t}, ${L} stages, masks ${masks.map(fmt).join(" ")}`);
  const bad = nonSpanningWindow(net);
  // toleratedFaults would run the same search as minimumCut: run it once when it is needed.
  const cut = bad === -1 || !spans(masks, n, t) ? null : minimumCut(net);
  const tolerated = cut === null ? toleratedFaults(net) : cut.faults.length - 1;
  if (bad === -1) {
    io.log(
      `tolerated faults: ${tolerated} (every ${n} consecutive masks span: theorems 6.2–6.4 give ${L} - ${n})`,
    );
  } else if (cut === null || tolerated < 0) {
    io.log(`tolerated faults: none — some pairs are not connected even without faults`);
  } else {
    const why = bad === -2
      ? `fewer than ${n} stages`
      : `the masks of stages ${bad + 1}..${bad + n} do not span`;
    io.log(`tolerated faults: ${tolerated} (${why}; exact search)`);
    io.log(
      `  smallest cut: ${cut.faults.map((f) => `${f.stage + 1}:${fmt(f.node)}`).join(" ")} disconnects ${
        fmt(cut.from)
      } → ${fmt(cut.to)}`,
    );
  }
  const tag = L >= n ? routingTag(masks.slice(0, n), from, to, t) : null;
  io.log(
    `routing tag ${fmt(from)} → ${fmt(to)} over stages 1..${n}: ${
      tag === null ? "none (those masks do not reach it)" : tag.join(" ")
    }`,
  );

  let paths: Path[] = [];
  if (bad === -1) {
    paths = disjointPaths(net, from, to);
    io.log(`${paths.length} disjoint paths (theorem ${t === 2 ? "6.2" : "6.4"}):`);
    paths.forEach((p, k) => {
      const b = brokenAt(p);
      const state = faults.length === 0 ? "" : b >= 0 ? `   broken at stage ${b + 1}` : "   survives";
      io.log(`  ${k + 1}: modes ${p.modes.join(" ")}   ${p.nodes.map(fmt).join(" → ")}${state}`);
    });
  }
  if (faults.length > 0) io.log(`faults: ${faults.map((f) => `${f.stage + 1}:${fmt(f.node)}`).join(" ")}`);
  const r = route(net, from, to, faults);
  io.log(
    r === null
      ? `route avoiding the faults: none`
      : `route avoiding the faults: modes ${r.modes.join(" ")}   ${r.nodes.map(fmt).join(" → ")}`,
  );
  const tree = broadcastTree(net, from, faults);
  io.log(
    `broadcast from ${fmt(from)}: ${
      tree === null
        ? "impossible, some node is unreachable"
        : `a consistent tree reaches all ${tree.length} other nodes`
    }`,
  );

  if (svgPath !== undefined) {
    const drawn = paths.length > 0 ? paths : r !== null ? [r] : [];
    const title = `n = ${n}, t = ${t}, masks ${masks.map(fmt).join(" ")}: ${fmt(from)} → ${fmt(to)}`;
    try {
      await io.writeFile(svgPath, barDiagramSvg(net, { faults, paths: drawn, title }));
    } catch (e) {
      io.error(`raincore min: cannot write ${svgPath}: ${(e as Error).message}`);
      return 1;
    }
    io.log(`bar diagram written to ${svgPath}`);
  }
  return 0;
}
