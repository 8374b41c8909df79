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
 * - `flags`    — bit 0 `TOKEN_FLAG_TBM` is reserved for the To-Be-Merged token of 3.7.3 (partition
 *                merge, a later issue); decoders keep unknown bits so old and new nodes interoperate.
 * - `entries`  — multicast messages and acknowledgements riding on the token, in token order.
 * @module
 */
import type { Member } from "./types.ts";

/** Token flag: To-Be-Merged token of 3.7.3 (extension point; not produced yet). */
export const TOKEN_FLAG_TBM = 1;

/** Entry kind: an application message. */
export const ENTRY_MSG = 0;
/** Entry kind: acknowledgement "every member holds `origin`'s messages up to `seq`" (3.8). */
export const ENTRY_ACK = 1;

/** A multicast message or acknowledgement on the token. */
export interface Entry {
  /** {@link ENTRY_MSG} or {@link ENTRY_ACK}. */
  kind: number;
  /** Node ID of the sending process. */
  originId: string;
  /** Incarnation of the sending process. */
  originInc: number;
  /** Per-sender sequence number (MSG), or the highest acknowledged one (ACK). */
  seq: number;
  /** True for `safe` delivery (MSG only). */
  safe: boolean;
  /**
   * Node ID that removes this entry when the token brings it back a second time: the origin, or
   * the node that took custody when the origin left the ring (`ring.ts`, custody).
   */
  holder: string;
  /** Open-group send (3.8): the non-member that handed this message to its origin, or "". */
  fwd: string;
  /** Payload (MSG); empty for ACK. */
  data: Uint8Array;
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
  /** Flag bits ({@link TOKEN_FLAG_TBM}). */
  flags: number;
  /** Multicast entries in token order. */
  entries: Entry[];
}

/** A shallow copy with fresh arrays, so that editing the copy never changes the original. */
export function copyToken(t: Token): Token {
  return { ...t, nodelist: t.nodelist.slice(), entries: t.entries.slice() };
}

/** Payload bytes of the message entries on a token (for the flow-control cap). */
export function entryBytes(t: Token): number {
  let n = 0;
  for (const e of t.entries) n += e.data.length + 24;
  return n;
}
