/**
 * The timing flags the `raincore node` process tests run with: a fast ring (a 5 ms idle hold, a
 * 400 ms Hungry floor, 911s every 100 ms) and a Transport Manager that starts from a 10 ms timeout,
 * so a SIGKILLed member is out within about half a second even on a loaded 2-core machine.
 */
export const TEST_TIMING_FLAGS: readonly string[] = [
  "--eating-ms",
  "5",
  "--hungry-ms",
  "400",
  "--starving-ms",
  "100",
  "--rto-initial-ms",
  "10",
  "--rto-min-ms",
  "10",
  "--retries",
  "4",
];

/** {@link TEST_TIMING_FLAGS} with a 100 ms timeout ceiling: partitions are detected in ~1 s, not ~4 s. */
export const TEST_TIMING_FLAGS_SHORT_CEILING: readonly string[] = [
  ...TEST_TIMING_FLAGS,
  "--rto-max-ms",
  "100",
];
