/**
 * The multicast and fail-over benchmarks as one command, in a checkout of the repository (they
 * start member processes from the TypeScript sources, so the npm package does not ship them):
 *   npm run bench -- multicast --nodes 4 --senders 4 --size 100 --count 20000
 *   npm run bench -- failover --trials 20 --tuned
 * Each prints its JSON result lines on stdout and progress on stderr.
 * @module
 */

import { numberFlag, parseFlags, requiredFlag, UsageError } from "../runtime/args.ts";
import { type FailoverTrial, percentile, runFailoverBench, TUNED_FLAGS } from "./failover.ts";
import { runMulticastBench } from "./multicast.ts";
import { TIMING_FLAG_SPECS, timingFromFlags } from "../runtime/timing_flags.ts";

const usage = `npm run bench -- <benchmark> [flags]   (members are OS processes on UDP loopback)

  multicast --nodes N --senders S --size B --count C [--rate R] [--warmup W] [timing flags, e.g. --eating-ms N]
      N members, S of them send C messages of B bytes (flooding, or R msgs/s per sender), after W
      unmeasured messages per sender that compile the code and grow the heaps (default 0: a cold run);
      prints one JSON line per member: msgs_per_s, MB_per_s, latency p50/p99, fifo_ok, order_hash
  failover [--trials 20] [--tuned]
      4 members; SIGKILL/restart and SIGSTOP/SIGCONT one per trial; prints p50/p99 of each time
      and extra_views (views beyond the 4 each trial causes: false suspicions)`;

/** Runs one benchmark; resolves with the exit code. */
async function bench(argv: readonly string[]): Promise<number> {
  {
    const [which, ...rest] = argv;
    if (which === "failover") return await failover(rest);
    if (which !== "multicast") {
      throw new UsageError(which === undefined ? "name a benchmark" : `unknown benchmark "${which}"`);
    }
    const flags = parseFlags(rest, {
      nodes: {},
      senders: {},
      size: {},
      count: {},
      rate: {},
      warmup: {},
      ...TIMING_FLAG_SPECS,
    });
    const int = (name: string, min: number) => {
      requiredFlag(flags, name);
      return numberFlag(flags, name, { min, max: 1e9, integer: true })!;
    };
    const results = await runMulticastBench({
      nodes: int("nodes", 1),
      senders: int("senders", 1),
      size: int("size", 16),
      count: int("count", 1),
      rate: numberFlag(flags, "rate", { min: 0, max: 1e9 }) ?? 0,
      warmup: numberFlag(flags, "warmup", { min: 0, max: 1e9, integer: true }) ?? 0,
      timing: { eatingMs: 1, ...timingFromFlags(flags) },
    });
    for (const r of results) console.log(JSON.stringify(r));
    const ok = results.every((r) => r.fifo_ok === true) &&
      new Set(results.map((r) => r.order_hash)).size === 1;
    if (!ok) console.error("bench: members disagree on the delivery order or FIFO was violated");
    return ok ? 0 : 1;
  }
}

async function failover(argv: readonly string[]): Promise<number> {
  const flags = parseFlags(argv, { trials: {}, tuned: { value: false } });
  const tuned = flags.has("tuned");
  const trials = await runFailoverBench({
    trials: numberFlag(flags, "trials", { min: 1, max: 10_000, integer: true }) ?? 20,
    flags: tuned ? TUNED_FLAGS : [],
  });
  const summary: Record<string, unknown> = {
    bench: "failover",
    timeouts: tuned ? "tuned" : "default",
    trials: trials.length,
  };
  for (const key of ["killMs", "rejoinMs", "restartTotalMs", "stopMs", "contMs"] as const) {
    const values = trials.map((t: FailoverTrial) => t[key]);
    summary[`${key}_p50`] = percentile(values, 0.5);
    summary[`${key}_p99`] = percentile(values, 0.99);
  }
  // Views beyond the 4 a trial causes: false suspicions of live members (0 expected).
  summary.extra_views = trials.reduce((n, t) => n + Math.max(0, t.views - 4), 0);
  summary.views_per_trial = trials.map((t) => t.views);
  console.log(JSON.stringify(summary));
  return 0;
}

const argv = process.argv.slice(2);
if (argv.length === 0 || argv.includes("--help")) {
  console.log(usage);
  process.exitCode = argv.length === 0 ? 2 : 0;
} else {
  try {
    process.exitCode = await bench(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`bench: ${error.message}\n\n${usage}`);
    process.exitCode = 2;
  }
}
