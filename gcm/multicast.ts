/**
 * Reliable multicast on the token (3.8) with extended virtual synchrony (EVS, as in Totem): the
 * message bookkeeping of one member. The ring core (`ring.ts`) calls it on every token visit.
 *
 * **Order.** A member in regular operation of its view appends its pending messages to the token and
 * gives each the next number of the view (`token.mseq`). That number is the message's place in the one
 * total order of the view, for both levels. Only a token in regular operation of a view ever numbers
 * messages of it, and such a token has no twin: every fork, every nodelist change and every member that
 * is not in the view marks the token `TOKEN_FLAG_TRANSITION`, and only a new commit clears the flag. So a
 * number names one message wherever it is seen.
 *
 * **Delivery in a regular view.** Messages are delivered in number order without holes: an `agreed`
 * message as soon as it and everything before it is here (the sender delivers its own when it appends
 * it), a `safe` one once every member holds it. A message leaves the token when it is back at its holder
 * after one round, so every number below the lowest still on a regular token is held by every member
 * (the *stable* mark); a waiting `safe` message holds back everything behind it (as in Totem).
 *
 * **Membership changes.** Each member keeps the messages of its view it has not seen become stable (the
 * {@link RetainedLog}). When it first handles a token that is not in regular operation of its view it
 * stops delivering, writes on the token what it brings (view ID, how far it delivered, its stable mark)
 * and appends the kept messages above its stable mark that the token does not carry — the members
 * moving together retransmit among themselves. A new view is committed only after a round in which the
 * nodelist did not change, so when a member installs the new view W the token has shown it everything
 * every member of W coming from its view V holds, and the same facts about each of them. From those it
 * computes, like every such member: V's messages are delivered in V up to the first hole or the first
 * `safe` message nobody knew stable (everything up to the highest point any of them delivered is among
 * those); then the transitional configuration (the members moving from V to W) is delivered, then the
 * rest of V's messages in number order, then W. Members that move from V to W together thus deliver the
 * same messages in V and in the transitional configuration, at the same points of the stream.
 * @module
 */
import { RetainedLog } from "./retained_log.ts";
import {
  type Entry,
  type Token,
  TOKEN_FLAG_SHED,
  TOKEN_FLAG_TRANSITION,
  type TransitionInfo,
} from "./token.ts";
import { indexOfMember, type Member, type View } from "./types.ts";

/** A message handed to the application. */
export interface Delivery {
  /** Node ID of the origin. */
  from: string;
  /** Incarnation of the origin. */
  fromIncarnation: number;
  /** Per-sender sequence number (1, 2, …; FIFO per origin incarnation). */
  seq: number;
  /** Delivery level. */
  level: "agreed" | "safe";
  /** Payload. */
  data: Uint8Array;
  /** Open-group send: the non-member that handed the message in, or `undefined`. */
  forwardedFor?: string;
  /** Stream of the message (0: the application's). */
  stream: number;
  /** ID of the configuration it is delivered in: a regular view, or a transitional configuration. */
  view: string;
  /** Whether that configuration is a transitional one. */
  transitional: boolean;
}

/** The transitional configuration between two regular views (EVS). */
export interface Transitional {
  /** Its ID, the same at every member that moves from `previous` to `next`. */
  id: string;
  /** The regular view being left. */
  previous: string;
  /** The regular view about to be installed. */
  next: string;
  /** The members moving together from `previous` to `next`, in `next`'s ring order. */
  members: Member[];
}

/** Where the bookkeeping puts what happens, in stream order. */
export interface MulticastSink {
  deliver(d: Delivery): void;
  transitional(t: Transitional): void;
}

/** Flow-control budget of one token visit. */
export interface MulticastBudget {
  /** Most messages one node appends per visit. */
  maxBatchMessages: number;
  /** Most payload bytes one node appends per visit (one larger message still goes alone). */
  maxBatchBytes: number;
  /** No appends while the token carries more payload bytes than this. */
  maxTokenBytes: number;
}

/** ID of the transitional configuration between regular views `previous` and `next`. */
export function transitionalId(previous: string, next: string): string {
  return `${previous}>${next}`;
}

/** Multicast state of one member. Pure bookkeeping: the ring calls it while it holds the token. */
export class Multicast {
  readonly #me: Member;
  readonly #budget: MulticastBudget;
  readonly #sink: MulticastSink;
  /** The installed regular view, or undefined before the first. */
  #view: View | undefined;
  #log = new RetainedLog();
  /** Highest number delivered in the view (no holes below it). */
  #delivered = 0;
  /** Every member of the view holds every message up to this number. */
  #stable = 0;
  /** Set once this member has told a token what it brings from its view: no more deliveries there. */
  #frozen: { delivered: number; stable: number } | undefined;
  /** Nodelist (as a key) for which the kept messages were last put on the token. */
  #retransmittedFor = "";
  /** Own messages not yet on the token. */
  #outbox: Entry[] = [];
  /** Views that messages bound to one view (see {@link enqueue}) must be ordered in, by per-sender seq. */
  readonly #boundTo = new Map<number, string>();
  /** Messages bound to a view that had ended before they could be ordered (never delivered). */
  droppedBound = 0;
  #outHead = 0;
  #nextSeq = 1;
  /** Payload bytes waiting in the outbox. */
  pendingBytes = 0;

  /** Bookkeeping of process `me`, appending within `budget`, delivering into `sink`. */
  constructor(me: Member, budget: MulticastBudget, sink: MulticastSink) {
    this.#me = me;
    this.#budget = budget;
    this.#sink = sink;
  }

  /** ID of the installed regular view ("" before the first). */
  get viewId(): string {
    return this.#view?.id ?? "";
  }

  /** Whether this member has left regular operation of its view (a membership change is under way). */
  get inTransition(): boolean {
    return this.#frozen !== undefined;
  }

  /** Messages waiting to be appended. */
  get pending(): number {
    return this.#outbox.length - this.#outHead;
  }

  /** Whether nothing is under way here: no pending own message, none held and not yet delivered. */
  get quiet(): boolean {
    return this.pending === 0 && this.#frozen === undefined && this.#log.high <= this.#delivered;
  }

  /** Whether this member holds a message (received and kept; tests and diagnostics). */
  holds(originId: string, originInc: number, seq: number): boolean {
    return this.#log.holds(originId, originInc, seq);
  }

  /** Whether `t` is in regular operation of this member's view (it may number messages on it). */
  isRegular(t: Token): boolean {
    return (t.flags & TOKEN_FLAG_TRANSITION) === 0 && t.cfg !== "" && this.#view !== undefined &&
      t.cfg === this.#view.id && this.#frozen === undefined;
  }

  /**
   * Queues a message of this member; returns its per-sender sequence number. With `onlyIn` (a view ID)
   * the message is ordered only in that view: if the view has ended before this member could append
   * it, it is dropped (counted in `droppedBound`) — for protocol messages that speak of one view.
   */
  enqueue(data: Uint8Array, safe: boolean, fwd: string, onlyIn?: string, stream = 0): number {
    const seq = this.#nextSeq++;
    if (onlyIn !== undefined) this.#boundTo.set(seq, onlyIn);
    this.#outbox.push({
      cfg: "",
      gseq: 0,
      originId: this.#me.id,
      originInc: this.#me.inc,
      seq,
      safe,
      holder: this.#me.id,
      fwd,
      stream,
      data,
    });
    this.pendingBytes += data.length;
    return seq;
  }

  /**
   * First step of every token visit: keeps the messages of this member's view that the token carries,
   * and removes from it the entries that are back at their holder after a round. Returns whether the
   * token carried anything (traffic).
   */
  absorb(t: Token): boolean {
    const shed = (t.flags & TOKEN_FLAG_SHED) !== 0;
    t.flags &= ~TOKEN_FLAG_SHED;
    const entries = t.entries;
    const n = entries.length;
    if (n === 0) return shed;
    const me = this.#me.id;
    const cfg = this.#view?.id;
    const log = this.#log;
    let w = 0;
    for (let i = 0; i < n; i++) {
      const e = entries[i];
      if (e.cfg === cfg) log.put(e);
      if (e.holder === me) continue; // back at its holder: every member on the ring saw it
      entries[w++] = e;
    }
    entries.length = w;
    return true;
  }

  /** A token in regular operation of our view (after {@link absorb}): learn the stable mark, deliver. */
  regular(t: Token): void {
    const cfg = this.#view!.id;
    let low = t.mseq + 1;
    for (const e of t.entries) {
      if (e.cfg === cfg) {
        low = e.gseq;
        break;
      }
    }
    if (low - 1 > this.#stable) this.#stable = low - 1;
    this.#deliverRegular(this.#stable);
  }

  /** Appends pending own messages within the per-visit budget (regular tokens only). Returns how many. */
  append(t: Token, tokenBytes: number): number {
    const b = this.#budget;
    if (tokenBytes > b.maxTokenBytes || !this.isRegular(t)) return 0;
    const cfg = this.#view!.id;
    const log = this.#log;
    let count = 0;
    let bytes = 0;
    const out = this.#outbox;
    while (this.#outHead < out.length && count < b.maxBatchMessages) {
      const e = out[this.#outHead];
      if (count > 0 && bytes + e.data.length > b.maxBatchBytes) break;
      this.#outHead++;
      if (this.#boundTo.size > 0 && this.#boundTo.has(e.seq)) {
        const only = this.#boundTo.get(e.seq);
        this.#boundTo.delete(e.seq);
        if (only !== cfg) {
          this.droppedBound++;
          this.pendingBytes -= e.data.length;
          continue;
        }
      }
      count++;
      bytes += e.data.length;
      e.cfg = cfg;
      e.gseq = ++t.mseq;
      t.entries.push(e);
      log.put(e);
    }
    this.pendingBytes -= bytes;
    if (this.#outHead === out.length) {
      this.#outbox = [];
      this.#outHead = 0;
    } else if (this.#outHead > 1024 && this.#outHead * 2 > out.length) {
      this.#outbox = out.slice(this.#outHead);
      this.#outHead = 0;
    }
    if (count > 0) this.#deliverRegular(this.#stable); // own agreed messages: their place is known
    return count;
  }

  /**
   * A token that is not in regular operation of our view (after {@link absorb}): from the first such
   * visit on this member delivers nothing more in its view; it writes what it brings on the token and
   * retransmits the kept messages above its stable mark that the token does not carry (again whenever
   * the nodelist changed since it last did).
   */
  transition(t: Token): void {
    const view = this.#view;
    if (view === undefined) return;
    this.#frozen ??= { delivered: this.#delivered, stable: this.#stable };
    writeInfo(t, { member: this.#me, from: view.id, ...this.#frozen });
    const key = listKey(t.nodelist);
    if (key === this.#retransmittedFor) return;
    this.#retransmittedFor = key;
    const onToken = new Set<number>();
    for (const e of t.entries) if (e.cfg === view.id) onToken.add(e.gseq);
    for (const e of this.#log.above(this.#frozen.stable)) {
      if (!onToken.has(e.gseq)) t.entries.push({ ...e, holder: this.#me.id });
    }
  }

  /**
   * Installs regular view `w`. With a previous view V: delivers V's remaining messages by the EVS
   * rules (see the module comment; `t` is the token of the commit, whose transition information names
   * the members moving from V to `w` — without it, as for a member left alone, only this member), the
   * transitional configuration, then starts `w` (whose own messages on `t` it then keeps). `agreed`
   * false: the view was committed without a round of agreement (every-token mode), so the members
   * moving together are not known and the transitional configuration is this member alone.
   */
  install(w: View, t: Token | undefined, agreed = true): void {
    const v = this.#view;
    if (v !== undefined) this.#finishView(v, w, agreed ? t : undefined, agreed);
    this.#view = w;
    this.#log = new RetainedLog();
    this.#delivered = 0;
    this.#stable = 0;
    this.#frozen = undefined;
    this.#retransmittedFor = "";
    if (t !== undefined) { for (const e of t.entries) if (e.cfg === w.id) this.#log.put(e); }
  }

  /**
   * This member leaves the group (graceful leave or close): the messages of its view it still holds
   * are delivered in a transitional configuration of itself alone, so it delivers everything it sent.
   */
  leave(): void {
    const v = this.#view;
    if (v === undefined) return;
    this.#frozen ??= { delivered: this.#delivered, stable: this.#stable };
    const id = transitionalId(v.id, `${this.#me.id}#${this.#me.inc} left`);
    this.#sink.transitional({ id, previous: v.id, next: "", members: [this.#me] });
    for (const e of this.#log.above(this.#delivered)) this.#emit(e, id, true);
    this.#view = undefined;
    this.#log = new RetainedLog();
  }

  #finishView(v: View, w: View, t: Token | undefined, agreed: boolean): void {
    const mine = this.#frozen ?? { delivered: this.#delivered, stable: this.#stable };
    let stable = mine.stable;
    let delivered = mine.delivered;
    const movers: Member[] = [this.#me];
    for (const info of t?.trans ?? []) {
      if (info.from !== v.id || indexOfMember(w.members, info.member) < 0) continue;
      if (info.member.id === this.#me.id && info.member.inc === this.#me.inc) continue;
      movers.push(info.member);
      if (info.stable > stable) stable = info.stable;
      if (info.delivered > delivered) delivered = info.delivered;
    }
    // Everything any mover delivered in V is here and was stable where it was safe: the limit covers it.
    this.#deliverRegular(Math.max(stable, delivered));
    // Without a round of agreement (every-token mode) nobody knows who else moves: the transitional
    // configuration is this member alone, under a name of its own.
    const id = agreed
      ? transitionalId(v.id, w.id)
      : transitionalId(v.id, `${w.id} ${this.#me.id}#${this.#me.inc}`);
    movers.sort((a, b) => indexOfMember(w.members, a) - indexOfMember(w.members, b));
    this.#sink.transitional({ id, previous: v.id, next: w.id, members: movers });
    for (const e of this.#log.above(this.#delivered)) this.#emit(e, id, true);
  }

  /** Delivers in the view, in number order without holes; `safe` ones only up to `safeLimit`. */
  #deliverRegular(safeLimit: number): void {
    const log = this.#log;
    const id = this.#view!.id;
    let g = this.#delivered;
    for (;;) {
      const e = log.get(g + 1);
      if (e === undefined || (e.safe && g + 1 > safeLimit)) break;
      g++;
      this.#emit(e, id, false);
    }
    this.#delivered = g;
    log.dropTo(Math.min(g, this.#stable));
  }

  #emit(e: Entry, view: string, transitional: boolean): void {
    this.#sink.deliver({
      from: e.originId,
      fromIncarnation: e.originInc,
      seq: e.seq,
      level: e.safe ? "safe" : "agreed",
      data: e.data,
      forwardedFor: e.fwd === "" ? undefined : e.fwd,
      stream: e.stream,
      view,
      transitional,
    });
  }

  /**
   * Last step before the token goes to `nextId`: drops the entries that node holds. They have been
   * round the ring — every other member took them from the token, and their holder has them — so the
   * hop back to the holder, which only removed them, carried bytes nobody read: a message now
   * crosses N − 1 hops, not N. The token is marked so that the holder still sees the round's traffic.
   */
  static shed(t: Token, nextId: string): void {
    const entries = t.entries;
    let w = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (e.holder !== nextId) entries[w++] = e;
    }
    if (w === entries.length) return;
    entries.length = w;
    t.flags |= TOKEN_FLAG_SHED;
  }

  /** Hands custody of every entry held by `fromId` to `toId` (that node left the ring). */
  static transferCustody(t: Token, fromId: string, toId: string): void {
    for (const e of t.entries) if (e.holder === fromId) e.holder = toId;
  }
}

/** Replaces this member's transition information on the token; drops that of nodes no longer on it. */
function writeInfo(t: Token, info: TransitionInfo): void {
  const out: TransitionInfo[] = [];
  for (const x of t.trans) {
    if (indexOfMember(t.nodelist, x.member) < 0) continue;
    if (x.member.id === info.member.id && x.member.inc === info.member.inc) continue;
    out.push(x);
  }
  out.push(info);
  t.trans = out;
}

function listKey(list: readonly Member[]): string {
  let k = "";
  for (const m of list) k += `${m.id}#${m.inc},`;
  return k;
}
