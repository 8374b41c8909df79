/**
 * The kinds of simulated run — one per layer, and the GCM's partition schedules — with what the
 * command and the test shards need of each: how to run a seed, how many seeds CI runs in how many
 * shard files, and the sanity checks of a batch (a run must exercise what its properties are about).
 * @module
 */

import type { ViewMode } from "../gcm/types.ts";
import type { SeedOutcome } from "./outcome.ts";

/** Names of the kinds. */
export type SimKindName = "tm" | "gcm" | "partitions" | "gdm";

/** A simulated layer. */
export type SimLayer = "tm" | "gcm" | "gdm";

/** Options a kind may take (the command's flags). */
export interface SimRunOptions {
  /** GCM view mode. @default {drawn from the seed} */
  mode?: ViewMode;
  /** GCM plain runs: the message layer. @default {"real"} */
  net?: "fake" | "real";
  /** GCM runs: application listeners that throw. @default {drawn from the seed} */
  listenerFaults?: boolean;
  /** Print each run's schedule as it happens. @default {false} */
  verbose?: boolean;
}

/** One kind of simulated run. */
export interface SimKind {
  name: SimKindName;
  layer: SimLayer;
  /** Split/heal schedules (GCM only). */
  partitions: boolean;
  /** What a passing batch shows, for test titles. */
  title: string;
  /** Seeds CI runs (`SIM_SEEDS` overrides). */
  ciSeeds: number;
  /** Shard files CI splits them over. */
  shards: number;
  /** Runs one seed. */
  run(seed: number, opts: SimRunOptions): Promise<SeedOutcome>;
  /** Failures of a batch as a whole, from its summed stats. */
  assess(stats: Readonly<Record<string, number>>, seeds: number): string[];
}

const none = (): string[] => [];

/** Every kind, by name. */
export const SIM_KINDS: Readonly<Record<SimKindName, SimKind>> = {
  tm: {
    name: "tm",
    layer: "tm",
    partitions: false,
    title:
      "Transport Manager: every send is delivered exactly once or rejected, under loss, cuts and restarts",
    ciSeeds: 1000,
    shards: 1,
    run: async (seed, opts) => (await import("./tm/run.ts")).runTmSeed(seed, opts),
    assess(stats, seeds) {
      const out: string[] = [];
      // Liveness sanity: most sends get through despite the faults.
      if (stats.sends > 0 && stats.resolved / stats.sends <= 0.7) {
        out.push(`only ${stats.resolved} of ${stats.sends} sends resolved`);
      }
      // Nodes learned joiners' addresses from their packets and reached them.
      if (seeds >= 100 && !(stats.toJoinerResolved > 0)) out.push("no send to a joiner resolved");
      return out;
    },
  },
  gcm: {
    name: "gcm",
    layer: "gcm",
    partitions: false,
    title: "GCM: seeded fault schedules on the real stack hold properties 1–8",
    ciSeeds: 2000,
    shards: 4,
    run: async (seed, opts) => (await import("./gcm/plain_run.ts")).runGcmSeed(seed, opts),
    assess: none,
  },
  partitions: {
    name: "partitions",
    layer: "gcm",
    partitions: true,
    title: "GCM partitions: seeded split/heal schedules hold properties 1–8 and end in one group",
    ciSeeds: 1000,
    shards: 4,
    run: async (seed, opts) => (await import("./gcm/partition_run.ts")).runPartitionSeed(seed, opts),
    assess: none,
  },
  gdm: {
    name: "gdm",
    layer: "gdm",
    partitions: false,
    title:
      "GDM: seeded runs keep convergence, durability, lock exclusion, atomicity, exact transfer, no divergence, and 1–8",
    ciSeeds: 2000,
    shards: 4,
    run: async (seed, opts) =>
      (await import("./gdm/run.ts")).runGdmSeed(seed, { mode: opts.mode, verbose: opts.verbose }),
    assess(stats, seeds) {
      const out: string[] = [];
      // The runs must exercise state transfer, or exact transfer proves nothing; both view modes the
      // GDM takes, the quorum policy and disks must be drawn.
      if (seeds >= 50 && !(stats.transfers > seeds / 5)) {
        out.push(`only ${stats.transfers} state transfers in ${seeds} seeds`);
      }
      if (seeds >= 100) {
        for (const k of ["mode three-phase", "mode two-phase", "quorum", "disks"]) {
          if (!(stats[k] > 0)) out.push(`no seed drew ${k}`);
        }
      }
      return out;
    },
  },
};

/** The kind a layer and the partitions flag name. */
export function kindOf(layer: SimLayer, partitions: boolean): SimKind {
  return partitions ? SIM_KINDS.partitions : SIM_KINDS[layer];
}

/** The command that replays one seed of a kind with the given options. */
export function replayLine(kind: SimKind, seed: number, opts: SimRunOptions = {}): string {
  const flags = [`--layer ${kind.layer}`, `--seed ${seed}`];
  if (kind.partitions) flags.push("--partitions");
  if (opts.mode !== undefined) flags.push(`--mode ${opts.mode}`);
  if (opts.net === "fake") flags.push("--net fake");
  if (opts.listenerFaults !== undefined) {
    flags.push(`--listener-faults ${opts.listenerFaults ? "on" : "off"}`);
  }
  return `npx raincore sim ${flags.join(" ")}`;
}

/**
 * Seeds of shard `index` (1-based) of `count` over the seeds `from … from + total - 1`: contiguous
 * slices that cover every seed once, whatever `total` is.
 */
export function shardSeeds(from: number, total: number, index: number, count: number): number[] {
  const first = Math.floor(((index - 1) * total) / count);
  const end = Math.floor((index * total) / count);
  return Array.from({ length: end - first }, (_, i) => from + first + i);
}
