/**
 * `raincore sim`: the deterministic simulator from the command line — seeded fault schedules for
 * one layer, checked against that layer's properties; a failing seed prints the line that replays it.
 * The work is done by sim/ (loaded only when this command runs).
 * @module
 */

import type { ViewMode } from "../gcm/types.ts";
import { numberFlag, parseFlags, stringFlag, UsageError } from "../runtime/args.ts";
import type { Command } from "./commands.ts";

const usage = `raincore sim — run the deterministic simulator (seeded fault schedules, properties checked)

usage:
  raincore sim [--layer tm|gcm|gdm] (--seed S | --seeds N [--from F]) [--partitions]
      [--mode three-phase|two-phase|every-token] [--net real|fake] [--listener-faults on|off]
      [--keep-going] [--verbose]

  --layer            tm: Transport Manager sends; gcm: membership and multicast (EVS properties 1–8);
                     gdm: replicated data on the GCM. Default gcm.
  --seed S           run one seed (a failure prints this form of command to replay it)
  --seeds N          run N seeds from --from (default 1); prints progress and a summary
  --partitions       gcm: split/heal schedules instead of crash/restart/loss ones
  --mode M           gcm, gdm: the view mode (default: drawn from the seed)
  --net fake         gcm plain runs: a message-level fake Transport Manager (default real: TM over SimNetwork)
  --listener-faults  gcm: application listeners that throw on some events (default: drawn from the seed)
  --keep-going       run every seed and list the failing ones, instead of stopping at the first
  --verbose          print each run's schedule as it happens

Exit code 0 when every seed held its properties, 1 otherwise.
In a checkout, \`npm run sim -- …\` runs the same command from the sources (npx raincore runs dist/).`;

const MODES: readonly ViewMode[] = ["three-phase", "two-phase", "every-token"];

/** The `sim` subcommand. */
export const simCommand: Command = {
  summary: "run the deterministic simulator: seeded fault schedules, properties checked, replay lines",
  usage,
  async run(argv) {
    const flags = parseFlags(argv, {
      layer: {},
      seed: {},
      seeds: {},
      from: {},
      partitions: { value: false },
      mode: {},
      net: {},
      "listener-faults": {},
      "keep-going": { value: false },
      verbose: { value: false },
    });
    const layer = stringFlag(flags, "layer", "gcm")!;
    if (layer !== "tm" && layer !== "gcm" && layer !== "gdm") {
      throw new UsageError(`--layer must be tm, gcm or gdm, got "${layer}"`);
    }
    const partitions = flags.has("partitions");
    const mode = stringFlag(flags, "mode") as ViewMode | undefined;
    const net = stringFlag(flags, "net");
    const faults = stringFlag(flags, "listener-faults");
    if (layer !== "gcm") {
      for (const f of ["partitions", "net", "listener-faults"]) {
        if (flags.has(f)) throw new UsageError(`--${f} applies to --layer gcm only`);
      }
      if (layer === "tm" && flags.has("mode")) throw new UsageError("--mode applies to --layer gcm and gdm");
    }
    if (mode !== undefined && !MODES.includes(mode)) {
      throw new UsageError(`--mode must be one of ${MODES.join(", ")}, got "${mode}"`);
    }
    if (layer === "gdm" && mode === "every-token") {
      throw new UsageError(
        "--mode every-token cannot carry a GDM (it refuses such a GCM); use three-phase or two-phase",
      );
    }
    if (net !== undefined && net !== "real" && net !== "fake") {
      throw new UsageError(`--net must be real or fake, got "${net}"`);
    }
    if (net === "fake" && partitions) throw new UsageError("--partitions runs on the real stack only");
    if (faults !== undefined && faults !== "on" && faults !== "off") {
      throw new UsageError(`--listener-faults must be on or off, got "${faults}"`);
    }
    const whole = { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true };
    const seed = numberFlag(flags, "seed", whole);
    const count = numberFlag(flags, "seeds", { ...whole, min: 1 });
    if ((seed === undefined) === (count === undefined)) throw new UsageError("give --seed S or --seeds N");
    if (seed !== undefined && flags.has("from")) throw new UsageError("--from goes with --seeds");
    const from = numberFlag(flags, "from", whole) ?? 1;
    const { kindOf } = await import("../sim/kinds.ts");
    const { runBatch } = await import("../sim/batch.ts");
    const seeds = seed !== undefined ? [seed] : Array.from({ length: count! }, (_, i) => from + i);
    const result = await runBatch(kindOf(layer, partitions), seeds, {
      mode,
      net: net as "real" | "fake" | undefined,
      listenerFaults: faults === undefined ? undefined : faults === "on",
      keepGoing: flags.has("keep-going"),
      verbose: flags.has("verbose"),
    });
    return result.failed.length === 0 && result.batchFailures.length === 0 ? 0 : 1;
  },
};
