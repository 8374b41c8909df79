/**
 * The 911 message (3.5, figure 7): token regeneration request, join request, and (status REJECT)
 * the refusal of a token.
 *
 * Figure 7 fields: signature (codec kind byte), sequence number (of the originator's last token),
 * nodelist, pointers to the originating, current and destination nodes, status YES/NO/REJECT.
 * Added: `ringId` (lineage of the originator's token), `flags` (`F911_JOIN`: an explicit join
 * request from a lone node, see `ring.ts`) and `addrs` (the declared addresses of the members the
 * message brings in, so that the receiver can reach them: `addresses.ts`).
 * @module
 */
import type { MemberAddresses } from "./addresses.ts";
import type { Member } from "./types.ts";

/** Status: the originator may regenerate the token (so far nobody vetoed). */
export const STATUS_YES = 0;
/** Status: vetoed — someone holds a newer token. */
export const STATUS_NO = 1;
/**
 * Status: a token was refused (it names a process that is not the receiver, or comes from a foreign
 * ring). Figure 7 lists REJECT without a use in the pseudo-code; we give it this one: the sender of
 * the refused token treats it like a token delivery failure and routes around the refuser.
 */
export const STATUS_REJECT = 2;

/** 911 flag: join request from a node that holds a ring of its own (lone). */
export const F911_JOIN = 1;
/**
 * Flag of a REJECT 911: the sender does not count the receiver as eligible (3.7.3) and will not
 * carry its token; a node cut off this way gives up its ring and goes on alone.
 */
export const F911_NOT_ELIGIBLE = 2;

/** A 911 message. */
export interface Message911 {
  /** Lineage of the originator's last token. */
  ringId: string;
  /** Sequence number of the originator's last token (REJECT: of the refused token). */
  seq: number;
  /** The originator's localView; the 911 travels along it. */
  nodelist: Member[];
  /** Pointer to the originating node in nodelist. */
  orig: number;
  /** Pointer to the node that sent this copy. */
  current: number;
  /** Pointer to the destination. */
  dest: number;
  /** {@link STATUS_YES}, {@link STATUS_NO} or {@link STATUS_REJECT}. */
  status: number;
  /** Flag bits ({@link F911_JOIN}). */
  flags: number;
  /** Declared addresses of the originator (of its whole ring, on a hand-shake). */
  addrs: MemberAddresses[];
}
