/**
 * Fail-over benchmark: four `raincore node` processes on UDP loopback. Each trial SIGKILLs (or
 * SIGSTOPs) one member and measures the time until every survivor has committed the view without
 * it, then restarts (or SIGCONTs) it and measures the time until all four share a view again.
 * Times come from the processes' own event stamps (`t`, ms since the epoch).
 *
 *   npm run bench -- failover [--trials 20] [--tuned]
 * @module
 */

import { type JsonChild, killAll, startRaincore, waitUntil } from "../tools/json_child.ts";
import { freeUdpPorts } from "../tools/ports.ts";
import { epochMs } from "../runtime/json_out.ts";

/**
 * Timeouts used by `--tuned` (fast failure detection on a quiet LAN or loopback). A dead member is
 * failed after 5 sends at 4, 8, 8, 8, 8 ms = 36 ms (at most 40 ms when load lifts the measured
 * timeout to its 8 ms ceiling); a live one silent that long is suspected too. 5, 8, 8, 8 ms (29 ms)
 * suspected live members in 2 of 20 trials at load average 5.4 on the 2-core bench machine.
 */
export const TUNED_FLAGS = [
  "--eating-ms",
  "2",
  "--hungry-ms",
  "300",
  "--starving-ms",
  "100",
  "--rto-min-ms",
  "4",
  "--rto-max-ms",
  "8",
  "--retries",
  "4",
];

/** One trial's measurements, in ms. */
export interface FailoverTrial {
  /** SIGKILL → all survivors committed the view without the victim. */
  killMs: number;
  /** Restarted process ready (socket bound) → all four in one view. */
  rejoinMs: number;
  /** Restart command → all four in one view (includes the process start). */
  restartTotalMs: number;
  /** SIGSTOP → all others committed the view without it. */
  stopMs: number;
  /** SIGCONT → all four in one view. */
  contMs: number;
  /**
   * Views member f0 (never signalled) committed from this trial's SIGKILL until the next trial's:
   * 4 expected (without the victim, with it, without, with). More are spurious view changes, e.g.
   * a live member falsely suspected; a restarted member that merges in two steps also shows here.
   */
  views: number;
}

/** Options of {@link runFailoverBench}. */
export interface FailoverOptions {
  trials: number;
  /** Extra `raincore node` flags (e.g. {@link TUNED_FLAGS}); none = the defaults. */
  flags: readonly string[];
  /** Progress output. @default {console.error} */
  progress?: (line: string) => void;
}

const N = 4;
const DEADLINE_MS = 30_000;
/** Wait after the last trial, so that its view count sees a late spurious change too. */
const SETTLE_MS = 1_000;

/** Runs the trials; resolves with one record per trial. */
export async function runFailoverBench(o: FailoverOptions): Promise<FailoverTrial[]> {
  const progress = o.progress ?? ((line: string) => console.error(line));
  const ids = Array.from({ length: N }, (_, i) => `f${i}`);
  const ports = await freeUdpPorts(N);
  const peers = ids.flatMap((id, i) => ["--peer", `${id}=udp://127.0.0.1:${ports[i]}`]);
  const start = (i: number) =>
    startRaincore(ids[i], [
      "node",
      "--id",
      ids[i],
      "--listen",
      `udp://127.0.0.1:${ports[i]}`,
      ...peers,
      ...o.flags,
    ]);
  const nodes = ids.map((_, i) => start(i));
  const trials: FailoverTrial[] = [];
  const viewsOfF0 = () => nodes[0].lines.filter((l) => l.event === "view");
  try {
    await commonView(nodes, ids, 0);
    let viewsBefore = viewsOfF0().length;
    const record = () => { // closes the previous trial's view count (views until now)
      const views = viewsOfF0();
      const t = trials.at(-1);
      if (t !== undefined) {
        t.views = views.length - viewsBefore;
        if (t.views !== 4) {
          const seen = views.slice(viewsBefore).map((v) => `${v.t}:${(v.members as string[]).join(",")}`);
          progress(`  trial ${trials.length}: ${t.views} views at f0, 4 expected: ${seen.join(" ")}`);
        }
      }
      viewsBefore = views.length;
    };
    for (let trial = 0; trial < o.trials; trial++) {
      record();
      const victim = 1 + (trial % (N - 1)); // never the lowest ID, so merges are not what we time
      const survivors = nodes.filter((_, i) => i !== victim);
      const survivorIds = ids.filter((_, i) => i !== victim);

      const killAt = epochMs();
      nodes[victim].signal("SIGKILL");
      const killMs = (await commonView(survivors, survivorIds, killAt)) - killAt;
      await nodes[victim].exit;

      const restartAt = epochMs();
      nodes[victim] = start(victim);
      const ready = await nodes[victim].waitFor((l) => l.event === "ready", DEADLINE_MS);
      const joinedAt = await commonView(nodes, ids, restartAt);
      const rejoinMs = joinedAt - (ready.t as number);

      const stopAt = epochMs();
      nodes[victim].signal("SIGSTOP");
      const stopMs = (await commonView(survivors, survivorIds, stopAt)) - stopAt;
      const contAt = epochMs();
      nodes[victim].signal("SIGCONT");
      const contMs = (await commonView(nodes, ids, contAt)) - contAt;

      trials.push({ killMs, rejoinMs, restartTotalMs: joinedAt - restartAt, stopMs, contMs, views: 0 });
      progress(
        `  trial ${trial + 1}/${o.trials}: kill ${killMs.toFixed(0)} ms, rejoin ${
          rejoinMs.toFixed(0)
        } ms, stop ${stopMs.toFixed(0)} ms, cont ${contMs.toFixed(0)} ms`,
      );
    }
    // The last trial's count includes a settling time in which a false suspicion would show.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    record();
    return trials;
  } finally {
    await killAll(nodes);
  }
}

/**
 * Waits until every child committed, after `since`, a view with exactly `ids`, and all of them the
 * same view; resolves with the latest commit time among them.
 */
export async function commonView(
  children: readonly JsonChild[],
  ids: readonly string[],
  since: number,
  deadlineMs: number = DEADLINE_MS,
): Promise<number> {
  const want = [...ids].sort().join(",");
  const last = (c: JsonChild) => c.lines.findLast((l) => l.event === "view");
  const ok = () => {
    const views = children.map(last);
    return views.every((v) =>
      v !== undefined && (v.t as number) >= since && [...(v.members as string[])].sort().join(",") === want
    ) &&
      new Set(views.map((v) => v!.index)).size === 1;
  };
  await waitUntil(
    children,
    ok,
    deadlineMs,
    () => children.map((c) => `${c.name}: ${JSON.stringify(last(c))}`).join("; "),
  );
  return Math.max(...children.map((c) => last(c)!.t as number));
}

/** p-th percentile (0..1) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}
