/**
 * What every simulated run reports, whatever its layer: whether the seed held its properties, the
 * violations, the fault schedule, and counters the command sums over seeds.
 * @module
 */

/** The outcome of one seed. */
export interface SeedOutcome {
  seed: number;
  ok: boolean;
  /** One line per violated property (empty when ok). */
  violations: string[];
  /** A few words on the run, e.g. "three-phase, 5 nodes". */
  summary: string;
  /** The fault schedule, one line per event, with its virtual time. */
  events: string[];
  /** Counters summed over seeds, e.g. `deliveries`, `virtualMs`, `mode three-phase`. */
  stats: Record<string, number>;
}

/** A run's fault schedule: lines stamped with virtual time, printed as they happen when `verbose`. */
export interface ScheduleLog {
  events: string[];
  log(line: string): void;
}

/** A {@link ScheduleLog} on `clock`. */
export function scheduleLog(clock: { now(): number }, verbose = false): ScheduleLog {
  const events: string[] = [];
  return {
    events,
    log(line) {
      events.push(`t=${clock.now()} ${line}`);
      if (verbose) console.log(events[events.length - 1]);
    },
  };
}
