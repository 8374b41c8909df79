/**
 * Default incarnation numbers. An incarnation tells a restarted node from its old self, so a new
 * one must compare greater than every earlier one of the same node ID: wall-clock milliseconds in
 * the high bits (restarts are further apart than a millisecond) and 12 random bits below them so two
 * processes started in the same millisecond still differ. This is the one place in the transport
 * core that reads the wall clock, and only once per manager.
 * @module
 */

/**
 * A fresh incarnation: `Date.now() * 4096 + 12 random bits` (< 2^53 until the year 36812).
 */
export function newIncarnation(): number {
  const bits = new Uint16Array(1);
  globalThis.crypto.getRandomValues(bits);
  return Date.now() * 4096 + (bits[0] & 0xfff);
}
