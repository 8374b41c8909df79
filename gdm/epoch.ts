/**
 * Epochs: the identity of a replica's class. Members with the same epoch hold the same replica (at the
 * same point of the order), so only members of different epochs need a transfer or a merge when they
 * meet. The rule that keeps this true, by extended virtual synchrony: members that move together from
 * view V to view W (one transitional configuration T) deliver the same messages in V and in T, so a
 * member's epoch after T is a function of its epoch before and of T alone ({@link nextEpoch}). A member
 * whose replica came from elsewhere (a transfer, storage, a stale copy) takes an epoch no other
 * replica has ({@link originEpoch}). Epochs are hashes (two 53-bit halves): equal inputs, equal epochs.
 * @module
 */

/** A 53-bit string hash (cyrb53). */
function hash53(s: string, seed: number): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

function digest(s: string): string {
  return hash53(s, 1).toString(36).padStart(11, "0") + hash53(s, 2).toString(36).padStart(11, "0");
}

/** The epoch after transitional configuration `transitional` (see the module comment). */
export function nextEpoch(epoch: string, transitional: string): string {
  return digest(`${epoch}>${transitional}`);
}

/**
 * The epoch of a replica that no other replica shares: `why` names its origin (`stored`, `stale`,
 * `alone`, `empty`) and `where` makes it unique (a member, or a view every member of a class agrees on).
 */
export function originEpoch(why: string, where: string): string {
  return digest(`${why}@${where}`);
}
