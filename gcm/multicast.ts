/**
 * Reliable multicast on the token (3.8): the entry bookkeeping of one node.
 *
 * - A node appends its pending messages when it holds the token (flow control: at most
 *   `maxBatchMessages` messages and `maxBatchBytes` payload bytes per visit, and nothing while the
 *   token carries more than `maxTokenBytes`; every message leaves the token after one round, so the
 *   token never holds more than ring size × batch budget).
 * - One total order for both levels: the order of first sightings along the token, which is the
 *   same at every node (the origin places its own message where the token brings it back — the
 *   place the others gave it; a message whose token died is never delivered by its origin).
 * - A message leaves the token when it is back at its `holder` (the origin, or the node that took
 *   custody when the origin left the ring). If it was `safe`, the holder appends an ACK entry
 *   ("every member holds the origin's messages up to seq"); the ACK circulates once.
 * - `agreed` messages are delivered on first sight, `safe` ones once acknowledged — and a `safe`
 *   message that waits holds back every message after it, of any origin (as in Totem). Delivering
 *   it later at the place of its ACK instead let two nodes deliver it on opposite sides of another
 *   message when one of them missed the ACK (sim seed 5190: a regenerated token carried a second
 *   ACK to a node that had missed the first).
 * - A node that missed an ACK (it was off the ring while it went round) learns of it from a later
 *   ACK of the same origin, or from the message no longer being on the token: either way the
 *   message finished its round, so it is delivered at its place.
 * - On moving to another group's token, waiting `safe` messages of the old ring are dropped (the
 *   node cannot learn whether every member holds them) and counted in `missed`.
 * @module
 */
import { type Entry, ENTRY_ACK, ENTRY_MSG, type Token } from "./token.ts";
import type { Member } from "./types.ts";

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
  /** Configuration (ring lineage) this node delivered it in; set by the ring core. */
  ring: string;
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

interface OriginState {
  inc: number;
  /** Highest sequence number seen on the token. */
  seen: number;
  /** Highest sequence number acknowledged. */
  acked: number;
  /** A newer incarnation of this origin spoke: its waiting messages will never be acknowledged. */
  dead: boolean;
  /** Token walk in which `walkFirst` was set, and the first message seq of this origin in it. */
  walk: number;
  walkFirst: number;
  /** Token walk in which an ACK entry of this origin was seen. */
  ackWalk: number;
}

/** A seen message waiting for delivery behind a `safe` one. */
interface Waiting {
  e: Entry;
  st: OriginState;
}

/** Multicast state of one node. Pure bookkeeping: the ring calls it while it holds the token. */
export class Multicast {
  readonly #me: Member;
  readonly #budget: MulticastBudget;
  readonly #deliver: (d: Delivery) => void;
  readonly #origins = new Map<string, OriginState>();
  /** Seen messages waiting behind an unacknowledged `safe` one, in delivery order. */
  #waiting: Waiting[] = [];
  #waitHead = 0;
  /** Own messages not yet on the token. */
  #outbox: Entry[] = [];
  #outHead = 0;
  /** Own messages on the token that have not come back yet. */
  #inflight: Entry[] = [];
  #nextSeq = 1;
  /** Waiting `safe` messages dropped on moving to another group's token; for diagnostics. */
  missed = 0;
  #walk = 0;
  /** Highest own sequence number that came back. */
  #returnedUpTo = 0;
  /** Own messages that never came back (their token died); for diagnostics. */
  lostOwn = 0;
  /** Payload bytes waiting in the outbox. */
  pendingBytes = 0;

  constructor(me: Member, budget: MulticastBudget, deliver: (d: Delivery) => void) {
    this.#me = me;
    this.#budget = budget;
    this.#deliver = deliver;
    this.#origins.set(me.id, newOrigin(me.inc));
  }

  /** Queues a message of this node; returns its sequence number. */
  enqueue(data: Uint8Array, safe: boolean, fwd: string): number {
    const seq = this.#nextSeq++;
    this.#outbox.push({
      kind: ENTRY_MSG,
      originId: this.#me.id,
      originInc: this.#me.inc,
      seq,
      safe,
      holder: this.#me.id,
      fwd,
      data,
    });
    this.pendingBytes += data.length;
    return seq;
  }

  /** Messages waiting to be appended. */
  get pending(): number {
    return this.#outbox.length - this.#outHead;
  }

  /** Own messages on the token that have not come back. */
  get inflight(): number {
    return this.#inflight.length;
  }

  /** Highest sequence number of `origin` this node has seen (for the simulator's safe check). */
  seen(originId: string, originInc: number): number {
    const st = this.#origins.get(originId);
    return st === undefined || st.inc !== originInc ? 0 : st.seen;
  }

  #state(id: string, inc: number): OriginState | undefined {
    let st = this.#origins.get(id);
    if (st === undefined || inc > st.inc) {
      // First message of this origin, or of a new incarnation of it: start its FIFO afresh.
      if (st !== undefined) st.dead = true;
      st = newOrigin(inc);
      this.#origins.set(id, st);
    } else if (inc < st.inc) return undefined; // an older incarnation: a dead process
    return st;
  }

  /**
   * Processes the entries of a token that just arrived (or, for a lone node, that comes back to it):
   * delivers, removes entries that are back at their holder, appends ACKs for removed safe messages.
   * Returns whether the token carried anything (traffic).
   */
  receive(t: Token): boolean {
    const me = this.#me;
    const entries = t.entries;
    const n = entries.length;
    if (n === 0 && this.#inflight.length === 0 && this.#waitHead === this.#waiting.length) return false;
    let w = 0;
    let ackOwn = 0;
    let custodyAcks: Map<string, { inc: number; seq: number }> | undefined;
    // In-flight own messages come back in sequence order; `p` walks them alongside.
    const inflight = this.#inflight;
    let p = 0;
    let lost: Entry[] | undefined;
    const walk = ++this.#walk;
    for (let i = 0; i < n; i++) {
      const e = entries[i];
      const st = this.#state(e.originId, e.originInc);
      if (st === undefined) {
        // Entry of a dead incarnation: only its holder removes it (after one round, as any other).
        if (e.holder === me.id) continue;
        entries[w++] = e;
        continue;
      }
      if (e.kind === ENTRY_MSG) {
        if (e.originId === me.id && e.originInc === me.inc) {
          if (e.seq <= this.#returnedUpTo) {
            // Already came back once, on a duplicate of this token that died meanwhile: the copy on
            // this token only has to leave it.
            if (e.holder === me.id) continue;
            entries[w++] = e;
            continue;
          }
          this.#returnedUpTo = e.seq;
          // Back at the origin. Its holder is the origin, or a custodian that took over while this
          // node was out of the ring — then this sighting is this node's delivery point as well.
          while (p < inflight.length && inflight[p].seq < e.seq) (lost ??= []).push(inflight[p++]);
          if (p < inflight.length && inflight[p].seq === e.seq) p++;
          this.#offer(e, st);
          if (e.holder === me.id) {
            if (e.safe && e.seq > ackOwn) ackOwn = e.seq;
            continue; // leaves the token
          }
          entries[w++] = e;
          continue;
        }
        if (e.holder === me.id && e.seq <= st.seen) {
          // Custody return: this node took over a departed origin's entries; one full round later
          // every member holds them.
          if (e.safe) {
            custodyAcks ??= new Map();
            const c = custodyAcks.get(e.originId);
            if (c === undefined || c.seq < e.seq) {
              custodyAcks.set(e.originId, { inc: e.originInc, seq: e.seq });
            }
          }
          continue;
        }
        if (st.walk !== walk) {
          st.walk = walk;
          st.walkFirst = e.seq;
          // This origin's messages before this one have left the token: each finished its round, so
          // every member holds it (its ACK went round while this node was off the ring).
          if (e.seq - 1 > st.acked && e.seq - 1 <= st.seen) this.#ack(st, e.seq - 1);
        }
        if (e.seq > st.seen) {
          st.seen = e.seq;
          this.#offer(e, st);
        }
        entries[w++] = e;
      } else {
        // ACK entry: every member holds the origin's messages up to e.seq.
        st.ackWalk = walk;
        if (e.holder === me.id && e.seq <= st.acked) continue; // back at its holder: leaves
        if (e.seq > st.acked) this.#ack(st, e.seq);
        entries[w++] = e;
      }
    }
    entries.length = w;
    if (inflight.length > 0) {
      // Whatever did not come back was on a token that died: a duplicate killed by the sequence
      // test, or the token of a ring this node left. Some members may have delivered those
      // messages already, so appending them again would deliver them at two places of the order
      // (sim: seed 14 of tests/gcm/sim.test.ts, a node that moved to a lower group). They are
      // dropped — delivered to the members that saw them, not to the origin — and counted.
      while (p < inflight.length) (lost ??= []).push(inflight[p++]);
      this.#inflight = [];
      if (lost !== undefined) this.lostOwn += lost.length;
    }
    if (ackOwn > 0) this.#appendAck(t, me.id, me.inc, ackOwn);
    if (custodyAcks !== undefined) {
      for (const [id, c] of custodyAcks) this.#appendAck(t, id, c.inc, c.seq);
    }
    this.#ackGone(walk);
    return n > 0;
  }

  /** A message reaches its place in the order: delivered now, or queued behind a waiting one. */
  #offer(e: Entry, st: OriginState): void {
    if (this.#waitHead === this.#waiting.length && (!e.safe || e.seq <= st.acked)) this.#emit(e);
    else this.#waiting.push({ e, st });
  }

  /** Marks an origin's messages up to `seq` acknowledged and delivers what no longer waits. */
  #ack(st: OriginState, seq: number): void {
    st.acked = seq;
    this.#flush();
  }

  /**
   * A waiting `safe` message whose origin has neither a message nor an ACK on this token has left
   * it, and so has its ACK: it finished both rounds while this node was off the ring.
   */
  #ackGone(walk: number): void {
    let gone = false;
    for (let i = this.#waitHead; i < this.#waiting.length; i++) {
      const { e, st } = this.#waiting[i];
      if (e.safe && e.seq > st.acked && !st.dead && st.walk !== walk && st.ackWalk !== walk) {
        st.acked = st.seen;
        gone = true;
      }
    }
    if (gone) this.#flush();
  }

  #appendAck(t: Token, originId: string, originInc: number, seq: number): void {
    const st = this.#state(originId, originInc);
    const ack: Entry = {
      kind: ENTRY_ACK,
      originId,
      originInc,
      seq,
      safe: false,
      holder: this.#me.id,
      fwd: "",
      data: NO_DATA,
    };
    t.entries.push(ack);
    if (st !== undefined && seq > st.acked) this.#ack(st, seq);
  }

  /** Delivers waiting messages from the front: agreed ones and acknowledged safe ones. */
  #flush(): void {
    const q = this.#waiting;
    let i = this.#waitHead;
    for (; i < q.length; i++) {
      const { e, st } = q[i];
      if (e.safe && e.seq > st.acked) {
        if (!st.dead) break;
        this.missed++; // a restarted origin's old message: nobody acknowledges it any more
        continue;
      }
      this.#emit(e);
    }
    this.#compact(i);
  }

  #compact(head: number): void {
    if (head === this.#waiting.length) {
      this.#waiting = [];
      this.#waitHead = 0;
    } else this.#waitHead = head;
  }

  /**
   * This node moves to another group's token: it cannot learn whether every member of its old ring
   * holds a waiting `safe` message, so those are dropped (counted in `missed`) and the agreed
   * messages behind them delivered, keeping the order the old ring's members see.
   */
  leaveOrder(): void {
    const q = this.#waiting;
    for (let i = this.#waitHead; i < q.length; i++) {
      const { e, st } = q[i];
      if (e.safe && e.seq > st.acked) this.missed++;
      else this.#emit(e);
    }
    this.#compact(q.length);
    // An ACK seen on the old ring for a message not seen there says nothing about the new ring's
    // members: that message, first seen on the new token, waits for the new ring's ACK (sim:
    // partition seed 19337, a node delivered a safe message at once on the strength of a fork's ACK).
    for (const st of this.#origins.values()) if (st.acked > st.seen) st.acked = st.seen;
  }

  #emit(e: Entry): void {
    this.#deliver({
      from: e.originId,
      fromIncarnation: e.originInc,
      seq: e.seq,
      level: e.safe ? "safe" : "agreed",
      data: e.data,
      forwardedFor: e.fwd === "" ? undefined : e.fwd,
      ring: "",
    });
  }

  /** Own messages still on a token this node is about to discard (lone token given up). */
  takeInflight(): Entry[] {
    const f = this.#inflight;
    this.#inflight = [];
    return f;
  }

  /** Appends pending own messages within the per-visit budget. Returns how many were appended. */
  append(t: Token, tokenBytes: number): number {
    const b = this.#budget;
    if (tokenBytes > b.maxTokenBytes) return 0;
    let count = 0;
    let bytes = 0;
    const out = this.#outbox;
    while (this.#outHead < out.length && count < b.maxBatchMessages) {
      const e = out[this.#outHead];
      if (count > 0 && bytes + e.data.length > b.maxBatchBytes) break;
      this.#outHead++;
      count++;
      bytes += e.data.length;
      const own = this.#origins.get(this.#me.id);
      if (own !== undefined && e.seq > own.seen) own.seen = e.seq;
      t.entries.push(e);
      this.#inflight.push(e);
    }
    this.pendingBytes -= bytes;
    if (this.#outHead === out.length) {
      this.#outbox = [];
      this.#outHead = 0;
    } else if (this.#outHead > 1024 && this.#outHead * 2 > out.length) {
      this.#outbox = out.slice(this.#outHead);
      this.#outHead = 0;
    }
    return count;
  }

  /** Hands custody of every entry held by `fromId` to `toId` (the origin left the ring). */
  static transferCustody(t: Token, fromId: string, toId: string): void {
    for (const e of t.entries) if (e.holder === fromId) e.holder = toId;
  }
}

const NO_DATA = new Uint8Array(0);

function newOrigin(inc: number): OriginState {
  return { inc, seen: 0, acked: 0, dead: false, walk: 0, walkFirst: 0, ackWalk: 0 };
}
