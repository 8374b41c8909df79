/**
 * Lamport stamps (Lamport 1978): a counter plus the writer's node ID as tie-break, so every two
 * writes compare the same way on every node.
 * @module
 */

/** A Lamport stamp: `[counter, nodeId]`. */
export type Stamp = readonly [counter: number, node: string];

/** Orders stamps: counter first, then node ID (plain string comparison). Returns <0, 0 or >0. */
export function compareStamps(a: Stamp, b: Stamp): number {
  if (a[0] !== b[0]) return a[0] - b[0];
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

/** True when two stamps are equal (both undefined counts as equal). */
export function sameStamp(a: Stamp | undefined, b: Stamp | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a[0] === b[0] && a[1] === b[1];
}
