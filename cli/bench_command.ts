/**
 * `raincore bench …`: the benchmarks as commands. Each prints its JSON result lines on stdout and
 * progress on stderr.
 * @module
 */

import { type FailoverTrial, percentile, runFailoverBench, TUNED_FLAGS } from "../bench/failover.ts";
import { runMulticastBench } from "../bench/multicast.ts";
import { numberFlag, parseFlags, requiredFlag, UsageError } from "./args.ts";
import type { Command } from "./commands.ts";

const usage = `raincore bench — run a benchmark on this machine (members are OS processes on UDP loopback)

usage:
  raincore bench multicast --nodes N --senders S --size B --count C [--rate R] [--eating-ms N]
      N members, S of them send C messages of B bytes (flooding, or R msgs/s per sender);
      prints one JSON line per member: msgs_per_s, MB_per_s, latency p50/p99, fifo_ok, order_hash
  raincore bench failover [--trials 20] [--tuned]
      4 members; SIGKILL/restart and SIGSTOP/SIGCONT one per trial; prints p50/p99 of each time`;

/** The `bench` subcommand. */
export const benchCommand: Command = {
  summary: "run a benchmark (multicast, failover)",
  usage,
  async run(argv) {
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
      "eating-ms": {},
    });
    const int = (name: string, min: number) => {
      const v = numberFlag(flags, name, undefined, min);
      if (v === undefined) requiredFlag(flags, name);
      return v as number;
    };
    const results = await runMulticastBench({
      nodes: int("nodes", 1),
      senders: int("senders", 1),
      size: int("size", 16),
      count: int("count", 1),
      rate: numberFlag(flags, "rate", 0),
      eatingMs: numberFlag(flags, "eating-ms"),
    });
    for (const r of results) console.log(JSON.stringify(r));
    const ok = results.every((r) => r.fifo_ok === true) &&
      new Set(results.map((r) => r.order_hash)).size === 1;
    if (!ok) console.error("raincore bench: members disagree on the delivery order or FIFO was violated");
    return ok ? 0 : 1;
  },
};

async function failover(argv: readonly string[]): Promise<number> {
  const flags = parseFlags(argv, { trials: {}, tuned: { value: false } });
  const tuned = flags.has("tuned");
  const trials = await runFailoverBench({
    trials: numberFlag(flags, "trials", 20, 1)!,
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
  console.log(JSON.stringify(summary));
  return 0;
}
