/**
 * Where members are reached: every member declares its own addresses (every backend's: `udp://…`,
 * `ws://…`, `relay+ws://hub/#id`, `webrtc+ws://hub/#id`), and those declarations travel with the
 * join — on hand-shakes and 911s ({@link MemberAddresses}) and on the token ({@link AddressNote}) —
 * so a member that knew only one address of one member learns everyone's, and everyone learns its.
 *
 * On the token a note rides until its holder sees it again: the member that adds new members puts
 * their notes on with itself as holder (one round: every member learns the newcomers), and the notes
 * of the members already there with the last newcomer as holder (only the newcomers, placed right
 * after it, need those). A member whose own addresses change (a tab that reconnected elsewhere)
 * puts its note on at its next visit, with a higher version. {@link AddressBook} keeps the newest
 * declaration of each member; the core tells the layer below whenever one changes.
 * @module
 */
import type { Member } from "./types.ts";

/** A member's addresses as it declared them. */
export interface MemberAddresses {
  /** The member (an address set belongs to one process incarnation). */
  member: Member;
  /** Grows each time the member's addresses change (within one incarnation). */
  version: number;
  /** Its addresses, preferred first. */
  addresses: string[];
}

/** A declaration riding on the token. */
export interface AddressNote extends MemberAddresses {
  /** Node ID that takes the note off the token when the token reaches it. */
  holder: string;
}

/** Most addresses kept per member (more are cut off: a failed send tries every address in turn). */
export const MAX_ADDRESSES = 16;
/** Longest address kept, in UTF-8 bytes. */
export const MAX_ADDRESS_BYTES = 1024;

const utf8 = new TextEncoder();

/** The addresses as a declaration may carry them: at most 16, each at most 1 KiB, no duplicates. */
export function boundAddresses(addresses: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of addresses) {
    if (out.length >= MAX_ADDRESSES) break;
    if (a === "" || out.includes(a) || utf8.encode(a).length > MAX_ADDRESS_BYTES) continue;
    out.push(a);
  }
  return out;
}

/** The newest declared addresses of every member this node heard of, its own included. */
export class AddressBook {
  readonly #me: Member;
  readonly #book = new Map<string, MemberAddresses>();

  /** A book whose own entry is `own` (version 1). */
  constructor(me: Member, own: readonly string[]) {
    this.#me = me;
    this.#book.set(me.id, { member: me, version: 1, addresses: boundAddresses(own) });
  }

  /** This node's own declaration. */
  get own(): MemberAddresses {
    return this.#book.get(this.#me.id)!;
  }

  /** Replaces this node's own addresses; true when they changed (the version then grows). */
  setOwn(addresses: readonly string[]): boolean {
    const next = boundAddresses(addresses);
    const cur = this.own;
    if (sameAddresses(cur.addresses, next)) return false;
    this.#book.set(this.#me.id, { member: this.#me, version: cur.version + 1, addresses: next });
    return true;
  }

  /** The declaration of node `id`, if any. */
  get(id: string): MemberAddresses | undefined {
    return this.#book.get(id);
  }

  /**
   * Takes a declaration if it is newer than the one kept (a later incarnation, or a higher version of
   * the same); returns it when it was taken (the layer below must hear of it), else undefined.
   */
  learn(d: MemberAddresses): MemberAddresses | undefined {
    if (d.member.id === this.#me.id) return undefined;
    const cur = this.#book.get(d.member.id);
    if (
      cur !== undefined &&
      (cur.member.inc > d.member.inc || (cur.member.inc === d.member.inc && cur.version >= d.version))
    ) {
      return undefined;
    }
    const taken = { member: d.member, version: d.version, addresses: boundAddresses(d.addresses) };
    this.#book.set(d.member.id, taken);
    return taken;
  }

  /** The declarations of `members` this book holds (for a hand-shake or a join). */
  of(members: readonly Member[]): MemberAddresses[] {
    const out: MemberAddresses[] = [];
    for (const m of members) {
      const d = this.#book.get(m.id);
      if (d !== undefined && d.member.inc === m.inc && d.addresses.length > 0) out.push(d);
    }
    return out;
  }
}

function sameAddresses(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
