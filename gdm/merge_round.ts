/**
 * Merge rounds: how the members of a new view find out who must fetch a snapshot and who brings
 * data of its own. On every view change each member multicasts a `hello` naming the view, the side
 * it comes from (its previous view) and how many items it holds. The hellos travel in the total
 * order, so the round completes — the last member's hello is delivered — at the same point on
 * every node, and {@link decideRound} (a pure function of the hellos) gives every node the same
 * answer:
 * - the *primary* is the member with the most items (lowest ID on a tie);
 * - a member *pulls* (state transfer at one point of the order) unless it and the primary were in
 *   each other's previous views, or it has no usable state yet (`d = -1`) — then it always pulls;
 * - a pulling member that holds items *reconciles*: the lowest-ID member of each such side
 *   multicasts its side's items so every replica merges them (highest stamp wins);
 * - a member whose items are a stale copy (`st`: kept from before a health-check leave) is not the
 *   primary while another member holds a current copy: it pulls like a joiner, after bringing its
 *   copy back (quietly, see the `rc` operation's `q`: it may hold writes the group lost). When only
 *   stale copies hold data, they count as ordinary data.
 * @module
 */
import type { Op } from "./ops.ts";

/** A `hello` operation. */
export type Hello = Extract<Op, { t: "hello" }>;

/** The outcome of a round, the same on every node. */
export interface RoundDecision {
  /** The member every puller fetches from (`id#inc`), or undefined when nobody holds data. */
  primary: string | undefined;
  /** Members that must fetch a snapshot (`id#inc`). */
  pullers: Set<string>;
  /** Members that multicast their own items for reconciliation (`id#inc`). */
  reconcilers: Set<string>;
}

/** Key of the round of a view (members and index). */
export function roundKey(members: readonly string[], vi: number): string {
  return `${vi}|${members.join(",")}`;
}

/** Node ID of an `id#inc` member string. */
export function idOf(member: string): string {
  return member.slice(0, member.lastIndexOf("#"));
}

/** Decides a complete round (one hello per member of the view). */
export function decideRound(hellos: readonly Hello[]): RoundDecision {
  const sorted = [...hellos].sort((a, b) => (a.me < b.me ? -1 : a.me > b.me ? 1 : 0));
  const current = sorted.some((h) => h.d > 0 && h.st !== true);
  let primary: Hello | undefined;
  for (const h of sorted) {
    if (h.d > 0 && !(current && h.st === true) && (primary === undefined || h.d > primary.d)) primary = h;
  }
  const pullers = new Set<string>();
  const reconcilers = new Set<string>();
  if (primary === undefined) {
    // Nobody holds items: nothing to transfer, except to members with no usable state yet, which
    // then start from empty like everybody else.
    return { primary: undefined, pullers, reconcilers };
  }
  const sidesSeen = new Set<string>();
  for (const h of sorted) {
    if (h.me === primary.me) continue;
    const mutual = primary.side.includes(h.me) && h.side.includes(primary.me);
    const stale = current && h.st === true;
    if (h.d >= 0 && mutual && !stale) continue;
    pullers.add(h.me);
    if (h.d > 0) {
      const sig = [...h.side].sort().join(",");
      if (!sidesSeen.has(sig)) {
        sidesSeen.add(sig);
        reconcilers.add(h.me);
      }
    }
  }
  return { primary: primary.me, pullers, reconcilers };
}
