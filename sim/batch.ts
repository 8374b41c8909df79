/**
 * Runs many seeds of one kind, as `raincore sim` does: progress on long runs, every failing seed with
 * its violations, the end of its schedule and one replay line, then a summary of the summed stats.
 * @module
 */

import { replayLine, type SimKind, type SimRunOptions } from "./kinds.ts";
import type { SeedOutcome } from "./outcome.ts";

/** Options of a batch. */
export interface BatchOptions extends SimRunOptions {
  /** Run every seed and list the failing ones at the end, instead of stopping at the first. @default {false} */
  keepGoing?: boolean;
  /** Where lines go. @default {console.log} */
  print?: (line: string) => void;
}

/** Outcome of a batch. */
export interface BatchResult {
  runs: number;
  /** Failing seeds. */
  failed: number[];
  /** Failures of the batch as a whole ({@link SimKind.assess}). */
  batchFailures: string[];
  stats: Record<string, number>;
}

/** Schedule lines shown with a failure when the run was not verbose. */
const EVENTS_SHOWN = 30;
/** A progress line at least every this many seeds… */
const PROGRESS_SEEDS = 100;
/** …or this many ms. */
const PROGRESS_MS = 15_000;

/** The report of one failing seed: header, violations, the end of its schedule, the replay line. */
export function describeFailure(kind: SimKind, outcome: SeedOutcome, opts: SimRunOptions = {}): string[] {
  const lines = [`FAIL ${kind.name} seed ${outcome.seed} (${outcome.summary})`];
  for (const v of outcome.violations.slice(0, 12)) lines.push(`  ${v}`);
  if (outcome.violations.length > 12) lines.push(`  … ${outcome.violations.length - 12} more`);
  if (opts.verbose !== true) {
    const tail = outcome.events.slice(-EVENTS_SHOWN);
    if (tail.length < outcome.events.length) lines.push(`  | … (--verbose prints the whole schedule)`);
    for (const e of tail) lines.push(`  | ${e}`);
  }
  lines.push(`replay: ${replayLine(kind, outcome.seed, opts)}`);
  return lines;
}

/** Runs `seeds` of `kind`. */
export async function runBatch(
  kind: SimKind,
  seeds: readonly number[],
  opts: BatchOptions = {},
): Promise<BatchResult> {
  const print = opts.print ?? ((line: string) => console.log(line));
  const runOptions: SimRunOptions = {
    mode: opts.mode,
    net: opts.net,
    listenerFaults: opts.listenerFaults,
    verbose: opts.verbose,
  };
  const t0 = performance.now();
  let lastProgress = t0;
  const failed: number[] = [];
  const stats: Record<string, number> = {};
  let runs = 0;
  for (const seed of seeds) {
    const outcome = await kind.run(seed, runOptions);
    runs++;
    for (const [k, v] of Object.entries(outcome.stats)) stats[k] = (stats[k] ?? 0) + v;
    if (!outcome.ok) {
      failed.push(seed);
      for (const line of describeFailure(kind, outcome, runOptions)) print(line);
      if (opts.keepGoing !== true) break;
    }
    const now = performance.now();
    if (seeds.length > 1 && (runs % PROGRESS_SEEDS === 0 || now - lastProgress >= PROGRESS_MS)) {
      lastProgress = now;
      print(`${runs}/${seeds.length} ${kind.name} seeds, ${failed.length} failed (${seconds(t0)} s)`);
    }
  }
  const batchFailures = failed.length === 0 ? kind.assess(stats, runs) : [];
  for (const f of batchFailures) print(`FAIL ${kind.name} batch of ${runs} seeds: ${f}`);
  const counters = Object.entries(stats).map(([k, v]) => `${k}=${Math.round(v)}`).join(" ");
  if (failed.length > 0) print(`FAILED ${failed.length} of ${runs} ${kind.name} seeds: ${failed.join(" ")}`);
  print(
    `summary: ${runs} ${kind.name} seeds, ${failed.length} failed, ${seconds(t0)} s; ${counters}`,
  );
  return { runs, failed, batchFailures, stats };
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}
