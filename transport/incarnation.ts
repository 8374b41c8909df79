/**
 * Default incarnation numbers. An incarnation tells a restarted node from its old self, so a new
 * one must compare greater than every earlier one of the same node ID: wall-clock milliseconds in
 * the high bits (restarts are further apart than a millisecond) and 11 random bits below them so two
 * processes started in the same millisecond still differ. This is the one place in the transport
 * core that reads the wall clock, and only once per manager.
 * @module
 */

/** Milliseconds are counted from 2024-01-01T00:00:00Z so that 42 bits last until the year 2163. */
const EPOCH_MS = 1_704_067_200_000;

/**
 * A fresh incarnation in [1, 2^53): `(Date.now() − 2024-01-01) × 2048 + 11 random bits + 1`.
 * Greater than any earlier one from the same wall clock, as long as that clock does not step back.
 */
export function newIncarnation(): number {
  const bits = new Uint16Array(1);
  globalThis.crypto.getRandomValues(bits);
  return Math.max(0, Date.now() - EPOCH_MS) * 2048 + (bits[0] & 0x7ff) + 1;
}
