/**
 * Which operations a replica has applied, per issuer (the client sessions of Raft's state machines):
 * applying an operation a second time is refused, and the outcome of a failed one is kept, so that
 * an issuer that sends an operation again — its copy was dropped where it was delivered, but may have
 * been applied elsewhere — learns what happened instead of applying it twice. Merged with other
 * replicas' records (union) when a round brings sides together. Records are immutable objects; the
 * map is copied for a snapshot.
 * @module
 */
import type { Failure } from "./model.ts";

/** What one issuer's operations did on a replica. */
export interface SessionRecord {
  /** Every operation number up to this one was applied. */
  readonly upTo: number;
  /** Numbers above `upTo` also applied (sorted; few: a gap is an operation dropped and not yet sent again). */
  readonly above: readonly number[];
  /** Outcomes of the last failed operations, by number. */
  readonly failures: readonly (readonly [number, Failure])[];
  /** Lamport clock when it last applied one of them (the oldest issuers are forgotten first). */
  readonly last: number;
}

/** Failures kept per issuer. */
const KEPT_FAILURES = 64;
/** Issuers kept; beyond it the ones silent the longest are forgotten. */
export const KEPT_ISSUERS = 4096;

const EMPTY: SessionRecord = { upTo: 0, above: [], failures: [], last: 0 };

/** The applied operations of every issuer. */
export type Sessions = Map<string, SessionRecord>;

/** Whether operation `n` of `issuer` was applied. */
export function wasApplied(sessions: Sessions, issuer: string, n: number): boolean {
  const r = sessions.get(issuer);
  return r !== undefined && (n <= r.upTo || r.above.includes(n));
}

/** The failure of operation `n` of `issuer`, if it was applied and failed. */
export function failureOf(sessions: Sessions, issuer: string, n: number): Failure | undefined {
  return sessions.get(issuer)?.failures.find(([m]) => m === n)?.[1];
}

/** Records that operation `n` of `issuer` was applied at Lamport clock `clock` (and how it failed). */
export function recordApplied(
  sessions: Sessions,
  issuer: string,
  n: number,
  clock: number,
  failure?: Failure,
): void {
  const r = sessions.get(issuer) ?? EMPTY;
  const failures = failure === undefined
    ? r.failures
    : [...r.failures, [n, failure] as const].slice(-KEPT_FAILURES);
  sessions.set(issuer, normalize(r.upTo, [...r.above, n], failures, Math.max(r.last, clock)));
  if (sessions.size > KEPT_ISSUERS) forgetOldest(sessions);
}

/** Merges `other` into `sessions`: what either applied counts as applied (commutative, idempotent). */
export function mergeSessions(
  sessions: Sessions,
  other: Iterable<readonly [string, SessionRecord]>,
): void {
  for (const [issuer, o] of other) {
    const r = sessions.get(issuer);
    if (r === undefined) {
      sessions.set(issuer, o);
      continue;
    }
    const failures = new Map<number, Failure>(r.failures);
    for (const [n, f] of o.failures) if (!failures.has(n)) failures.set(n, f);
    const kept = [...failures].sort((a, b) => a[0] - b[0]).slice(-KEPT_FAILURES);
    sessions.set(
      issuer,
      normalize(Math.max(r.upTo, o.upTo), [...r.above, ...o.above], kept, Math.max(r.last, o.last)),
    );
  }
  if (sessions.size > KEPT_ISSUERS) forgetOldest(sessions);
}

function normalize(
  upTo: number,
  above: number[],
  failures: readonly (readonly [number, Failure])[],
  last: number,
): SessionRecord {
  const rest = [...new Set(above.filter((n) => n > upTo))].sort((a, b) => a - b);
  while (rest.length > 0 && rest[0] === upTo + 1) {
    upTo++;
    rest.shift();
  }
  return { upTo, above: rest, failures, last };
}

/** Drops the issuers silent the longest (by clock, then by name: the same everywhere). */
function forgetOldest(sessions: Sessions): void {
  const order = [...sessions].sort((a, b) => a[1].last - b[1].last || (a[0] < b[0] ? -1 : 1));
  for (const [issuer] of order.slice(0, sessions.size - KEPT_ISSUERS)) sessions.delete(issuer);
}
