/**
 * The round of a view: how members that come from different places learn who holds what. When a view
 * is not a plain continuation (some member did not move from the same view as the others, or one of
 * them was still without the group's data), every member multicasts a `hello` bound to the view: its
 * epoch (the class of its replica, see `epoch.ts`), how far its history goes, its locks and sessions.
 * The hellos travel in the total order, so the round completes — the last member's hello is delivered
 * in the view — at the same point for every member, and {@link decideRound}, a pure function of the
 * hellos, gives every member the same answer:
 * - the *kept* class: the replica the group goes on with — the class whose history went furthest
 *   (most operations applied), then the one with the most members, the most items, the lowest epoch;
 * - every other member *pulls* a snapshot of the kept replica, taken at this point of the order, from
 *   a member of the kept class (pullers are spread over them); a puller that held items of its own
 *   merges back afterwards the versions the group lacks;
 * - locks and sessions of every class merge into the kept replica at this point (so no lock is granted
 *   twice and no operation applied twice), and the Lamport clock rises to the highest announced.
 * @module
 */
import { mergeLockStates } from "./locks.ts";
import type { LockState } from "./model.ts";
import type { HelloOp } from "./operations.ts";
import { mergeSessions, type SessionRecord, type Sessions } from "./sessions.ts";

/** The outcome of a round, the same at every member. */
export interface RoundDecision {
  /** The view. */
  readonly view: string;
  /** Epoch of the kept class, or null when no member had a usable replica (all start empty). */
  readonly keptEpoch: string | null;
  /** Members that keep their replica (sorted). */
  readonly kept: readonly string[];
  /** Members that pull a snapshot (sorted). */
  readonly pullers: readonly string[];
  /** The member of the kept class each puller pulls from first. */
  readonly sourceOf: ReadonlyMap<string, string>;
  /** The locks of the kept replica after the merge. */
  readonly locks: ReadonlyMap<string, LockState>;
  /** Sessions after the merge. */
  readonly sessions: Sessions;
  /** The Lamport clock after the round. */
  readonly clock: number;
  /** Epochs whose members announced different digests: replicas that should be equal are not (a bug). */
  readonly diverged: readonly string[];
}

interface Class {
  epoch: string;
  members: string[];
  first: HelloOp;
}

/** Decides a complete round: one hello per member of the view. */
export function decideRound(view: string, hellos: readonly HelloOp[]): RoundDecision {
  const sorted = [...hellos].sort((a, b) => (a.member < b.member ? -1 : a.member > b.member ? 1 : 0));
  const classes = new Map<string, Class>();
  const diverged: string[] = [];
  let clock = 0;
  for (const h of sorted) {
    if (h.clock > clock) clock = h.clock;
    if (h.epoch === null) continue;
    const c = classes.get(h.epoch);
    if (c === undefined) classes.set(h.epoch, { epoch: h.epoch, members: [h.member], first: h });
    else {
      c.members.push(h.member);
      if (h.digest !== c.first.digest && !diverged.includes(h.epoch)) diverged.push(h.epoch);
    }
  }
  const ranked = [...classes.values()].sort((a, b) =>
    b.first.applied - a.first.applied || b.members.length - a.members.length ||
    b.first.items - a.first.items || (a.epoch < b.epoch ? -1 : a.epoch > b.epoch ? 1 : 0)
  );
  const best = ranked[0];
  if (best === undefined) {
    return {
      view,
      keptEpoch: null,
      kept: sorted.map((h) => h.member),
      pullers: [],
      sourceOf: new Map(),
      locks: new Map(),
      sessions: new Map(),
      clock,
      diverged,
    };
  }
  const pullers = sorted.filter((h) => h.epoch !== best.epoch).map((h) => h.member);
  const sourceOf = new Map<string, string>();
  pullers.forEach((p, i) => sourceOf.set(p, best.members[i % best.members.length]));
  const others = ranked.slice(1).map((c) => c.first);
  return {
    view,
    keptEpoch: best.epoch,
    kept: best.members,
    pullers,
    sourceOf,
    locks: mergeLocks(best.first.locks, others.map((h) => h.locks)),
    sessions: mergeAllSessions([best.first.sessions, ...others.map((h) => h.sessions)]),
    clock,
    diverged,
  };
}

function mergeLocks(
  kept: readonly (readonly [string, LockState])[],
  others: readonly (readonly (readonly [string, LockState])[])[],
): Map<string, LockState> {
  const keptMap = new Map(kept);
  const names = new Set(keptMap.keys());
  const otherMaps = others.map((o) => new Map(o));
  for (const m of otherMaps) for (const n of m.keys()) names.add(n);
  const out = new Map<string, LockState>();
  for (const name of [...names].sort()) {
    const rest: LockState[] = [];
    for (const m of otherMaps) {
      const s = m.get(name);
      if (s !== undefined) rest.push(s);
    }
    out.set(name, rest.length === 0 ? keptMap.get(name)! : mergeLockStates(keptMap.get(name), rest));
  }
  return out;
}

function mergeAllSessions(all: readonly (readonly (readonly [string, SessionRecord])[])[]): Sessions {
  const out: Sessions = new Map();
  for (const s of all) mergeSessions(out, s);
  return out;
}
