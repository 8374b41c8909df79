/**
 * The timing flags of programs on raincore (`raincore node`, the benchmark members): one flag per
 * `TimingOptions` setting, named after it (`--eating-ms` is `eatingMs`, `--rto-min-ms` is
 * `rtoMinMs`), checked with the same rules as `createNode` — a broken rule is a {@link UsageError}
 * that says which flag to change.
 * @module
 */

import { TimingError } from "../gcm/errors.ts";
import { resolveTiming, type TimingOptions } from "../gcm/timing.ts";
import { type FlagSpec, numberFlag, type NumberRule, type ParsedFlags, UsageError } from "./args.ts";

const MS = (min: number, max: number): NumberRule => ({ min, max, integer: false });

/** Each timing flag, the setting it sets and the values it takes. */
const FLAGS: ReadonlyArray<readonly [flag: string, setting: keyof TimingOptions, rule: NumberRule]> = [
  ["eating-ms", "eatingMs", MS(0, 60_000)],
  ["batch-ms", "batchMs", MS(0, 60_000)],
  ["idle-round-ms", "idleRoundMs", MS(1, 600_000)],
  ["hungry-ms", "hungryMs", MS(1, 600_000)],
  ["starving-ms", "starvingMs", MS(1, 600_000)],
  ["join-retry-ms", "joinRetryMs", MS(1, 600_000)],
  ["rto-initial-ms", "rtoInitialMs", MS(1, 60_000)],
  ["rto-min-ms", "rtoMinMs", MS(1, 60_000)],
  ["rto-max-ms", "rtoMaxMs", MS(1, 600_000)],
  ["retries", "retries", { min: 1, max: 1000, integer: true }],
];

/** The flag specs, for `parseFlags`. */
export const TIMING_FLAG_SPECS: Readonly<Record<string, FlagSpec>> = Object.freeze(
  Object.fromEntries(FLAGS.map(([flag]) => [flag, {}])),
);

/** Help text of the timing flags (defaults included). */
export const TIMING_USAGE =
  `timing (each flag sets the createNode timing setting of its name; defaults derive from each other):
  --eating-ms N           most time an idle member keeps the token, 0..60000 ms (default 20)
  --batch-ms N            with traffic, most time a member keeps the token to gather more messages
                          (fewer visits, less CPU per message, more latency), 0..60000 ms (default 0)
  --idle-round-ms N       longest idle round: an idle member keeps the token at most N / ring size (default 250)
  --hungry-ms N           floor of the wait for the token before suspecting it lost; must exceed the
                          Transport Manager's failure time (default: derived from the measured round trips
                          and round time)
  --starving-ms N         911 resend period while the token is missing, 1..600000 ms (default 300)
  --join-retry-ms N       hand-shake period to members outside the ring (default --starving-ms)
  --rto-initial-ms N      retransmission timeout before a round trip was measured (default 200)
  --rto-min-ms N          floor of the adaptive retransmission timeout (default 12)
  --rto-max-ms N          ceiling of the retransmission timeout, back-off included (default 1000)
  --retries N             resends per address before a member counts as failed, 1..1000 (default 4)`;

/**
 * The timing the flags set, checked: a value out of range or a broken rule between the settings is a
 * {@link UsageError} naming the flag.
 */
export function timingFromFlags(flags: ParsedFlags): TimingOptions {
  const timing: TimingOptions = {};
  for (const [flag, setting, rule] of FLAGS) {
    const v = numberFlag(flags, flag, rule);
    if (v !== undefined) timing[setting] = v;
  }
  try {
    resolveTiming(timing);
  } catch (error) {
    if (!(error instanceof TimingError) && !(error instanceof RangeError)) throw error;
    const setting = error instanceof TimingError ? error.setting : "";
    const flag = FLAGS.find(([, s]) => s === setting)?.[0];
    const message = flagNames(error.message);
    // The message names the flag already when the rule is about it; else say which flag broke it.
    const named = flag === undefined || message.startsWith(`--${flag}`);
    throw new UsageError(named ? message : `--${flag}: ${message}`);
  }
  return timing;
}

/** The error's setting names written as the flags that set them. */
function flagNames(message: string): string {
  let out = message;
  for (const [flag, setting] of FLAGS) out = out.replaceAll(`'${setting}'`, `--${flag}`);
  for (const [flag, setting] of FLAGS) out = out.replaceAll(new RegExp(`\\b${setting}\\b`, "g"), `--${flag}`);
  return out;
}
