/**
 * The token (3.5, figure 6) and the multicast entries it carries (3.8).
 *
 * Figure 6 fields: signature (the codec's kind byte), sequence number, nodelist, pointer to the
 * current node, pointer to the destination node, global view number. Added fields, each for a
 * reason given where it is used:
 * - `ringId`   — names the token lineage; a node that is not lone accepts only its own ring's token
 *                (see `ring.ts`, "foreign token").
 * - `parentRingId`, `forkSeq` — a token that may have a live twin (regenerated after a 911 round,
 *                or rerouted around a node that may in fact have received it) starts a new lineage;
 *                these name the lineage it forked from and the last sequence number they share, so
 *                that exactly the nodes that saw nothing past the fork follow it (`ring.ts`, FIX-12).
 * - `rsv`      — the globalView index reserved in the current reservation round (three-phase mode),
 *                so every node of one round reserves the same index (fix of 3.5, see `ring.ts`).
 * - `flags`    — bit 0 `TOKEN_FLAG_TBM` is reserved for the To-Be-Merged token of 3.7.3; bit 1
 *                `TOKEN_FLAG_TRANSITION` says the token left the regular configuration named by `cfg`
 *                (the nodelist changed, it forked, or a member did not install `cfg`): no new
 *                messages are ordered on it until a new view is committed (extended virtual synchrony).
 * - `cfg`, `mseq` — the regular view whose messages the token orders, and the last message number
 *                given out in it: every message gets the next number when it is appended, and that
 *                number is its place in the one total order (`multicast.ts`).
 * - `rsvTag`   — names the reservation round of `rsv` (three-phase), so that every member that commits
 *                in that round commits one view identifier, `${rsv}:${rsvTag}`.
 * - `trans`    — while the membership changes, what each member brings from the view it leaves (its
 *                view ID, how far it delivered, how far it knows every member held everything), so that
 *                the members moving together compute one transitional configuration and one split.
 * - `entries`  — multicast messages riding on the token, in the order of their numbers.
 * - `addrs`    — members' declared addresses on their way round the ring (joins, address changes;
 *                `addresses.ts`), so that a member learns where the others are from the token itself.
 * @module
 */
import type { AddressNote } from "./addresses.ts";
import type { Member } from "./types.ts";

/** Token flag: To-Be-Merged token of 3.7.3 (extension point; not produced yet). */
export const TOKEN_FLAG_TBM = 1;
/** Token flag: the token is not in regular operation of its `cfg` (see the module comment). */
export const TOKEN_FLAG_TRANSITION = 2;
/**
 * Token flag: the sender dropped entries held by the receiver (they had been round the ring), so the
 * receiver counts the visit as traffic although they are gone (`Multicast.shed`).
 */
export const TOKEN_FLAG_SHED = 4;

/** A multicast message on the token. */
export interface Entry {
  /** Regular view (configuration) the message was ordered in. */
  cfg: string;
  /** Its number in that view's total order (1, 2, …). */
  gseq: number;
  /** Node ID of the sending process. */
  originId: string;
  /** Incarnation of the sending process. */
  originInc: number;
  /** Per-sender sequence number (FIFO and exactly-once per origin process). */
  seq: number;
  /** True for `safe` delivery. */
  safe: boolean;
  /**
   * Node ID that removes this entry when the token brings it back: the node that appended it (the
   * origin, or a member retransmitting it during recovery), or the node that took custody when that
   * node left the ring (`ring.ts`, custody).
   */
  holder: string;
  /** Open-group send (3.8): the non-member that handed this message to its origin, or "". */
  fwd: string;
  /** Stream of the message (0: the application's; layers above the GCM use others). */
  stream: number;
  /** Payload. */
  data: Uint8Array;
}

/** What one member brings into a membership change from the regular view it leaves. */
export interface TransitionInfo {
  /** The member. */
  member: Member;
  /** ID of the last regular view it installed. */
  from: string;
  /** Highest message number of that view it delivered there. */
  delivered: number;
  /** Every member of that view held every message up to this number (as far as it knows). */
  stable: number;
}

/** The token. */
export interface Token {
  /** Lineage name: set when a ring is created (a lone node) and on every fork (FIX-12). */
  ringId: string;
  /** Lineage this one forked from, or "" for a new ring. */
  parentRingId: string;
  /** Last sequence number this lineage shares with its parent. */
  forkSeq: number;
  /** Sequence number; incremented on every pass. */
  seq: number;
  /** Cyclic ordered list of the nodes the token traversed in its last pass. */
  nodelist: Member[];
  /** Pointer (index into nodelist) to the node that sent it. */
  current: number;
  /** Pointer (index into nodelist) to the destination. */
  dest: number;
  /** Largest index in the committed global view sequence known to the ring. */
  gvn: number;
  /** Index reserved in the current reservation round, 0 when none. */
  rsv: number;
  /** Flag bits ({@link TOKEN_FLAG_TBM}, {@link TOKEN_FLAG_TRANSITION}). */
  flags: number;
  /** Regular view whose messages this token orders ("" before the first commit of a ring). */
  cfg: string;
  /** Last message number given out in `cfg`. */
  mseq: number;
  /** Tag of the reservation round of `rsv` ("" when none). */
  rsvTag: string;
  /** Transition information of the members during a membership change (empty otherwise). */
  trans: TransitionInfo[];
  /** Multicast entries in the order of their numbers (per configuration). */
  entries: Entry[];
  /** Members' declared addresses riding on the token (`addresses.ts`). */
  addrs: AddressNote[];
}

/** A shallow copy with fresh arrays, so that editing the copy never changes the original. */
export function copyToken(t: Token): Token {
  return {
    ...t,
    nodelist: t.nodelist.slice(),
    entries: t.entries.slice(),
    trans: t.trans.slice(),
    addrs: t.addrs.slice(),
  };
}

/** Payload bytes of the message entries on a token (for the flow-control cap). */
export function entryBytes(t: Token): number {
  let n = 0;
  for (const e of t.entries) n += e.data.length + 28;
  return n;
}
