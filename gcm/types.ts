/**
 * Shared vocabulary of the Group Communication Manager: members, view modes, the View and Token
 * states of 3.5 (figures 9 and 10), delivery levels of 3.8.
 * @module
 */

/**
 * One process in a ring: a node ID plus the incarnation of that process. A restarted node gets a
 * new incarnation, so the ring sees it as a new member (its old self is removed, the new one joins
 * through the 911 path) and histories of the two processes never mix.
 */
export interface Member {
  /** Node ID. Ordering between IDs ("lowest ID") is plain JavaScript string comparison (`a < b`). */
  readonly id: string;
  /** Incarnation of the process (a non-negative integer below 2^53; greater for a later process). */
  readonly inc: number;
}

/**
 * How views are committed (3.5, 3.7.1).
 * - `three-phase`: Chaos → Reserve → Agreement; consistent history of the globalView vector.
 * - `two-phase`: Chaos → Agreement; faster (two rounds), no consistent-history guarantee on indices.
 * - `every-token`: commit the nodelist every time the token brings a different one (fastest fail-over,
 *   no agreement before commit).
 */
export type ViewMode = "three-phase" | "two-phase" | "every-token";

/** View State of figure 9. */
export const ViewState = { Agreement: 0, Chaos: 1, Reserve: 2 } as const;
/** One of the {@link ViewState} values. */
export type ViewState = (typeof ViewState)[keyof typeof ViewState];

/** Token State of figure 10. */
export const TokenState = { Eating: 0, Hungry: 1, Starving: 2 } as const;
/** One of the {@link TokenState} values. */
export type TokenState = (typeof TokenState)[keyof typeof TokenState];

/** Delivery level of a multicast message (3.8). */
export type DeliveryLevel = "agreed" | "safe";

/** A committed global view. */
export interface View {
  /** Identifier: the same at every member that installs this view, different for every other view. */
  readonly id: string;
  /** Index in the globalView vector (part of the identifier; a member's views have rising indices). */
  readonly index: number;
  /** Members in ring order. */
  readonly members: readonly Member[];
}

/** True when two members are the same process. */
export function sameMember(a: Member, b: Member): boolean {
  return a.id === b.id && a.inc === b.inc;
}

/** True when two nodelists are equal in content and cyclic order starting at index 0. */
export function sameList(a: readonly Member[], b: readonly Member[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i].id !== b[i].id || a[i].inc !== b[i].inc) return false;
  return true;
}

/** Index of a member in a list, or -1. */
export function indexOfMember(list: readonly Member[], m: Member): number {
  for (let i = 0; i < list.length; i++) if (list[i].id === m.id && list[i].inc === m.inc) return i;
  return -1;
}

/** Index of the first member with this node ID, or -1. */
export function indexOfId(list: readonly Member[], id: string): number {
  for (let i = 0; i < list.length; i++) if (list[i].id === id) return i;
  return -1;
}
