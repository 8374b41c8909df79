/**
 * The output of member processes (the CLI, the benchmarks): one JSON object per line, each
 * stamped with `t`, milliseconds since the epoch (fractional), so lines from several processes on
 * one machine can be compared.
 * @module
 */

/** Wall-clock milliseconds since the epoch, with sub-millisecond precision. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Prints `{"t":…, "event":…, …fields}` as one line on stdout. */
export function emitLine(event: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ t: epochMs(), event, ...fields }));
}
