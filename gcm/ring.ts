/**
 * The token-ring state machine of 3.5 — a pure core in the style of etcd-raft: events go in through
 * methods (`start`, `receiveToken`, `receive911`, `tokenFailed`, `tokenDelivered`, `failed911`,
 * `timer`, `multicast`, `leave`, critical-section requests), actions come out of {@link RingCore.ready}
 * (send, set timer, deliver, view, critical section, left). It never reads a clock or touches I/O;
 * the only notion of time is the delay it asks for in a `timer` action.
 *
 * The eight events of 3.5 map to: 1 `start`, 2 `receiveToken`, 3 `receive911`, 4 `tokenFailed`,
 * 5 `failed911`, 6–8 `timer` in the Eating / Hungry / Starving token state. The seven reachable
 * states are the pairs of {@link ViewState} × {@link TokenState} minus Starving-Agreement and
 * Starving-Reserve (Hungry timeout always enters Chaos).
 *
 * Deviations from the pseudo-code, each explained where it happens (search "FIX"):
 *  FIX-1 lastTokenSeq also rises on token receipt, and a node that holds the token vetoes every 911.
 *  FIX-2 the reserved globalView index travels on the token (`rsv`), so one round reserves one index;
 *        a Reserve node commits only while `rsv` still names its index, and joins a newer round.
 *  FIX-3 the 911 travels along the originator's localView (its last token's nodelist), not lastGlobalView.
 *  FIX-4 one join path for new, lone and split-off nodes (3.5 joins + the discovery of 3.7.3 in a
 *        simple form): every node periodically sends a hand-shake (a 911 flagged JOIN carrying its
 *        ring) to known peers outside its ring; a node whose group ID (lowest member ID) is lower
 *        pulls the sender in. A node adopts a foreign token when it is lone, starving, or the
 *        token's group ID is lower than its own; otherwise it REJECTs it (the sender routes around,
 *        as on a delivery failure). A hand-shake brings the sender's whole ring in, and a lower
 *        group's token is adopted even by the holder of our own: groups merge into the lowest one in
 *        one round (see docs/partitions.md).
 *  FIX-5 a 911 returning to its originator regenerates only if it is the current one (same seq).
 *  FIX-6 members are (ID, incarnation) pairs; a token for another incarnation is REJECTed.
 *  FIX-7 the Hungry timeout grows with the ring: the layer's failure time towards the successor plus
 *        1.5 × the measured round time, at least ring size × idle hold (`round_times.ts`).
 *  FIX-8 a token whose seq is too small to descend from our last token is a duplicate: dropped.
 *  FIX-9 a 911 from a non-member is a join request and still a regeneration request (veto applies).
 *  FIX-10 critical sections (3.9) run only in Agreement, after a round that changed nothing.
 *  FIX-11 eligible membership (3.7.3): a non-eligible node is never added, and a member dropped
 *        from the eligible set, whose 911s nobody would answer, is told so (REJECT with
 *        F911_NOT_ELIGIBLE) and goes on alone instead of starving for ever (scenario "adding a node
 *        at run time lets it in; removing a member takes it off the ring", tests/gcm/partition.test.ts).
 *  FIX-12 a token that may have a live twin — regenerated, or rerouted around a node that may have
 *        received it after all — starts a new lineage; only nodes that saw nothing past the fork
 *        point take it as their own ring's continuation, a fork they went past dies there (FIX-8's
 *        duplicate), and a 911 of another lineage is never a regeneration request for ours.
 *  FIX-13 hand-shakes are bounded: only a group's leader sends them, two a period (see #handshake).
 *  Every FIX names the simulator seed that showed the problem (replay: npx raincore sim --layer gcm --seed N).
 *  Extended virtual synchrony adds the token's regular/transition marking and view stamps (see
 *  #viewTransition, #install and multicast.ts; docs/gcm.md lists the seeds those rules came from).
 * @module
 */
import { copyToken, entryBytes, type Token, TOKEN_FLAG_TRANSITION } from "./token.ts";
import {
  F911_JOIN,
  F911_NOT_ELIGIBLE,
  type Message911,
  STATUS_NO,
  STATUS_REJECT,
  STATUS_YES,
} from "./message911.ts";
import { AddressBook, type AddressNote, type MemberAddresses } from "./addresses.ts";
import { type Delivery, Multicast, type MulticastBudget, type Transitional } from "./multicast.ts";
import { RoundTimes } from "./round_times.ts";
import { GCM_TIMING_DEFAULTS, type GcmTiming } from "./timing.ts";
import {
  indexOfId,
  indexOfMember,
  type Member,
  sameList,
  sameMember,
  TokenState,
  type View,
  type ViewMode,
  ViewState,
} from "./types.ts";

/** Options of {@link RingCore}. */
export interface RingOptions extends MulticastBudget {
  /** This node's ID. */
  id: string;
  /** This process's incarnation. */
  incarnation: number;
  /** View mode (3.7.1). */
  mode: ViewMode;
  /** Timing, resolved (`timing.ts`). */
  timing: GcmTiming;
  /** The clock's time in ms: the core measures its ring's round time on it (`round_times.ts`). */
  now: () => number;
  /** The layer's current failure time towards a node, ms, when it can tell (a TransportManager can). */
  failureTimeOf?: (nodeId: string) => number;
  /** This node's own addresses, as the layer below reports them (`addresses.ts`). @default {[]} */
  addresses?: readonly string[];
  /** Whether the node starts expecting a group (its first messages wait for one, see `joinWaitMs`). */
  expectPeers: boolean;
  /** Node IDs to ask for membership at start and whenever this node is lone. */
  peers: readonly string[];
  /**
   * Eligible membership (3.7.3): the node IDs allowed in the group; `undefined` = anyone. A node
   * outside it is never added to the ring, its hand-shakes and 911s are not join requests, and a
   * member removed from it is taken off the ring at this node's next token visit.
   */
  eligible?: readonly string[];
  /** Highest globalView index committed before (a node that rejoins after leaving). @default {0} */
  baseViewNumber?: number;
}

/** What the driver must do after an event. */
export type RingAction =
  | { type: "sendToken"; to: string; token: Token }
  | { type: "send911"; to: string; msg: Message911 }
  /** Ask ring-mate `to` to pass an idly kept token on now, or carry the request on (see `wake`). */
  | { type: "sendWake"; to: string; ringId: string }
  /** (Re)arm the token-state timer; `delayMs < 0` cancels it. Fire back with `timer(gen)`. */
  | { type: "timer"; gen: number; delayMs: number }
  /** (Re)arm the hand-shake timer; fire back with `joinTimer(gen)`. */
  | { type: "joinTimer"; gen: number; delayMs: number }
  | { type: "deliver"; delivery: Delivery }
  /** Node `id` declared these addresses (newer than what was known): the layer below should use them. */
  | { type: "addresses"; id: string; addresses: string[] }
  /** The transitional configuration before the next `view` (extended virtual synchrony). */
  | { type: "transitional"; transitional: Transitional }
  | { type: "view"; view: View; previous: string; mode: ViewMode }
  /** The token arrived here (for `token` events and statistics). */
  | { type: "token"; seq: number }
  /** The node holds the token and will keep it until `releaseCritical()`. */
  | { type: "critical" }
  | { type: "left" };

/**
 * Shortest idle hold for which a member wakes the token: below it the token is back within a few
 * milliseconds anyway and a wake-up only adds work (4 processes paced at 1,000 messages a second each
 * with a 1 ms hold, alternating runs: latency p50 1.19 and 1.43 ms without wake-ups, 1.36 and 1.56 with).
 */
const WAKE_MIN_IDLE_HOLD_MS = 5;

/** The Group Communication Manager's token-ring core. */
export class RingCore {
  /** This process: node ID and incarnation. */
  readonly me: Member;
  readonly #o: RingOptions;
  /** Measured round time, idle hold and Hungry timeout. */
  readonly rounds: RoundTimes;
  /** The members' declared addresses (`addresses.ts`). */
  readonly addresses: AddressBook;
  /** This node's addresses changed since it last put its note on the token. */
  #addressesChanged = false;
  /** This node's timers are throttled (a hidden browser tab): it never holds an idle token. */
  #background = false;
  /** Hand-shake periods a starting node keeps its own messages back (the join wait). */
  readonly #joinWaitRounds: number;
  /** The multicast bookkeeping (3.8, extended virtual synchrony). */
  readonly multicast: Multicast;
  #out: RingAction[] = [];

  // --- Figure 8: node data ---------------------------------------------------------------------
  /** The globalView vector (sparse: index → view, `null` = NULL committed). */
  readonly globalView: Map<number, View | null> = new Map();
  /** Largest index in the committed global view sequence known here. */
  globalViewNumber = 0;
  /** Last committed non-NULL view. */
  lastGlobalView: View;
  /** Copy of the last token this node sent (or regenerated). */
  lastToken: Token | undefined;
  /** Sequence number of the newest token seen here (FIX-1). */
  lastTokenSeq = 0;
  /** Nodelist of lastToken. */
  localView: Member[];
  /** Nodes applying to join. */
  newNodes: Member[] = [];

  // --- States ------------------------------------------------------------------------------------
  /** View State (figure 9). */
  viewState: ViewState = ViewState.Chaos;
  /** Token State (figure 10). */
  tokenState: TokenState = TokenState.Eating;
  /** The token while this node holds it (Eating). */
  token: Token | undefined;
  /** Lineage of the token this node follows. */
  ringId = "";
  /** Index reserved in Reserve state, and the tag of its reservation round. */
  #reserved = 0;
  #reservedTag = "";
  /** ID of the view this node committed first in its round (it cleans the token up a round later). */
  #stamped = "";
  /** Own messages are kept back until this node is in a view with another member (see joinWaitRounds). */
  #holding: boolean;
  /** The token is kept to gather messages (`batchMs`): a new message does not end the hold. */
  #batching = false;
  /** Wake-ups (see `wake`): this node kept its last token idle; it sent or carried on a wake-up
   * since its last receipt; a ring-mate asked for the token while it was elsewhere; when this node
   * last passed the token. */
  #idleAtLastVisit = false;
  #wakeSent = false;
  #wakeWanted = false;
  #passedAt = 0;
  /** Whether the token this node last sent was marked as in a membership change (see #viewTransition). */
  #sentInTransition = false;
  /** Receipts in a row, out of Agreement, that completed a round of the change (two-phase commits after two). */
  #roundsDone = 0;
  #timerGen = 0;
  /** Seq of the first token sent since the last receipt (FIX-8), and whether one was sent. */
  #visitFirstSeq = 0;
  #sentThisVisit = false;
  /** Receipts in a row that brought back the nodelist we last sent (FIX-10). */
  #stable = 0;
  #joinGen = 0;
  #ringCounter = 0;
  /** Lineage this node last forked from, and whether a token of its fork has come here since. */
  #forkParent = "";
  #forkSeen = true;
  #forkBase = 0;
  /** The lineage ours forked from and the fork point, as on our last token (FIX-12). */
  #lineageParent = "";
  #lineageForkSeq = 0;
  /** Node IDs this node knows of (hand-shake targets when outside its ring), and the same sorted. */
  readonly #known = new Set<string>();
  #knownSorted: string[] | undefined;
  /** Turns through the known nodes outside the ring for the second hand-shake of a period. */
  #rotor = 0;
  /** Eligible node IDs (3.7.3); `undefined` = anyone. */
  #eligible: Set<string> | undefined;
  #handshakeRound = 0;
  /** Peers whose hand-shake failed: skip them until this round (back-off). */
  readonly #skip = new Map<string, { until: number; failures: number }>();
  #started = false;
  /** A `leave()` is pending / done. */
  leaving = false;
  /** This node has left the group (graceful leave done). */
  left = false;
  /** Token handed off by a leaving node, awaiting acknowledgement. */
  #handoffSeq = -1;
  /** Tokens this node regenerated after a 911 round (diagnostics). */
  regenerations = 0;
  /** Tokens dropped as duplicates (FIX-8), for diagnostics. */
  duplicateTokens = 0;
  /** Critical-section requests waiting for the token / one running. */
  criticalWanted = false;
  /** A critical section is running (the token is held until `releaseCritical()`). */
  inCritical = false;

  /** A core for one process; `start()` begins it. */
  constructor(opts: RingOptions) {
    this.#o = opts;
    this.me = { id: opts.id, inc: opts.incarnation };
    this.addresses = new AddressBook(this.me, opts.addresses ?? []);
    this.localView = [this.me];
    this.lastGlobalView = { id: "", index: 0, members: [] };
    this.multicast = new Multicast(this.me, opts, {
      deliver: (delivery) => this.#out.push({ type: "deliver", delivery }),
      transitional: (transitional) => this.#out.push({ type: "transitional", transitional }),
    });
    const tm = opts.timing;
    this.rounds = new RoundTimes({
      eatingMs: tm.eatingMs,
      batchMs: tm.batchMs,
      idleRoundMs: tm.idleRoundMs,
      hungryMs: tm.hungryMs,
      unknownLayerHungryMs: GCM_TIMING_DEFAULTS.unknownLayerHungryMs,
      now: opts.now,
      failureTimeOf: opts.failureTimeOf,
    });
    this.#joinWaitRounds = Math.ceil(tm.joinWaitMs / Math.max(1, tm.joinRetryMs));
    this.#holding = opts.expectPeers && this.#joinWaitRounds > 0;
    this.globalViewNumber = opts.baseViewNumber ?? 0;
    if (opts.eligible !== undefined) this.#eligible = new Set(opts.eligible);
    for (const p of opts.peers) this.#learn(p);
    for (const p of opts.eligible ?? []) this.#learn(p);
  }

  /** Whether node `id` may be a member (eligible membership, 3.7.3). This node always may. */
  isEligible(id: string): boolean {
    return this.#eligible === undefined || id === this.me.id || this.#eligible.has(id);
  }

  /** The eligible set (`undefined` = anyone). */
  get eligible(): string[] | undefined {
    return this.#eligible === undefined ? undefined : [...this.#eligible].sort();
  }

  /**
   * Replaces the eligible set (`undefined` = anyone). Newly eligible nodes become hand-shake
   * targets; members no longer eligible are taken off the ring at this node's next token visit.
   */
  setEligible(ids: readonly string[] | undefined): void {
    this.#eligible = ids === undefined ? undefined : new Set(ids);
    for (const k of this.#known) if (!this.isEligible(k)) this.#known.delete(k);
    this.#knownSorted = undefined;
    for (const p of ids ?? []) this.#learn(p);
    this.newNodes = this.newNodes.filter((n) => this.isEligible(n.id));
    const t = this.token;
    if (t !== undefined && this.tokenState === TokenState.Eating && !this.inCritical) this.#setTimer(0);
  }

  /** Takes the actions produced since the last call. */
  ready(): RingAction[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  /**
   * Whether this node keeps its own messages back because it is still joining (it has peers and has
   * not yet been in a view with another member, nor waited `joinWaitRounds`).
   */
  get holding(): boolean {
    return this.#holding;
  }

  /** Whether this node holds a ring of one (and therefore looks for the group). */
  get lone(): boolean {
    return this.token !== undefined && this.token.nodelist.length === 1 && !this.left;
  }

  // ================================================================================================
  // Event 1: Initialization.
  // ================================================================================================
  /**
   * Pseudo-code 1 creates a token and "sends" it; with nobody else in the ring that is a ring of
   * one, so the node commits the view {self} and holds its token (Eating, Agreement). It then asks
   * its peers to let it join (FIX-4): a new node joins "by a 911 to any member" (3.5).
   */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    const t: Token = {
      ringId: this.#newRingId(),
      parentRingId: "",
      forkSeq: 0,
      seq: 1,
      nodelist: [this.me],
      current: 0,
      dest: 0,
      gvn: 0,
      rsv: 0,
      flags: 0,
      cfg: "",
      mseq: 0,
      rsvTag: "",
      trans: [],
      entries: [],
      addrs: [],
    };
    this.ringId = t.ringId;
    this.lastTokenSeq = 1;
    this.#becomeLone(t);
    this.#handshake();
  }

  // ================================================================================================
  // Event 2: Token received.
  // ================================================================================================
  /** A token arrived from node `from`. */
  receiveToken(from: string, t: Token): void {
    if (!this.#started) return;
    this.#learn(from);
    const myIdx = sameMember(t.nodelist[t.dest], this.me) ? t.dest : -1;
    if (this.left || this.leaving && this.#handoffSeq >= 0 || myIdx < 0) {
      // FIX-6: the token is addressed to another process (an older incarnation of this node, or a
      // node that left; sim seed 392: a restarted node took its old self's token). REJECT it so that the sender routes around us at once instead of waiting.
      this.#reject(from, t);
      return;
    }
    if (t.ringId !== this.ringId) {
      // FIX-4: a token of another lineage. A lone node (it asked to join) or a starving one (it lost
      // its ring) adopts it and gives up its own; anyone else refuses it, so two rings never
      // interleave on one node.
      // FIX-12: a fork of our lineage is our continuation when we saw nothing past the fork point —
      // a node that did follows the other branch (sim: partition seeds 2 and 691).
      const continues = (t.parentRingId === this.ringId && this.lastTokenSeq <= t.forkSeq) ||
        // Our own fork died before it came back (a false suspicion: the node we routed around had
        // the token after all, and the next node dropped our copy, below): the lineage we forked
        // from is still ours — nothing happened on our side of the fork.
        (t.ringId === this.#forkParent && !this.#forkSeen && t.seq > this.#forkBase);
      if (!continues && t.parentRingId === this.ringId) {
        // A fork of our lineage from before our last token: a copy rerouted around a node that had
        // in fact received the token (its acknowledgement was lost) — FIX-8's duplicate. It dies
        // here, as FIX-8 drops it within a lineage; refusing it made its sender route around us and
        // split the ring (fail-over benchmark: SIGKILL tails of 4 s).
        this.duplicateTokens++;
        return;
      }
      // A lower group's token is taken also while holding our own: that group pulled in our whole ring
      // (see the hand-shake in receive911), and refusing made it route around us and pull us in one by
      // one, a view per node (merge benchmark: up to seven views per merge).
      const lower = this.tokenState !== TokenState.Starving &&
        groupId(t.nodelist) < groupId(this.token?.nodelist ?? this.localView) && !this.leaving;
      const canAdopt = this.lone || this.tokenState === TokenState.Starving || continues || lower;
      if (canAdopt && !this.inCritical) {
        this.#adopt(t);
      } else {
        this.#reject(from, t);
        return;
      }
    }
    // Pseudo-code 2: drop while Eating; drop on sequence number mismatch (not newer).
    if (this.tokenState === TokenState.Eating) return;
    if (t.seq <= this.lastTokenSeq) return;
    // FIX-8: a token that descends from the one we last passed on has been sent once by every
    // other member on its nodelist since (each send adds one; reroutes and removed nodes add
    // more), so its seq is at least lastToken.seq + (ring size − 1). A false suspicion (the token
    // was delivered, its acknowledgement was not) makes the sender reroute a copy: two tokens of
    // one ring. The pseudo-code's "seq > lastTokenSeq" test drops the duplicate only where it
    // arrives after the original; this test drops it also where it arrives first.
    // (Sim: one-way cuts, e.g. seed 14 , delivered in two orders.)
    // The base is the first token we sent after our last receipt: if that send "failed" but in fact
    // arrived (false suspicion), the surviving token descends from it, not from our reroute, which
    // died(sim seed 567).
    const last = this.lastToken;
    if (
      last !== undefined && last.ringId === t.ringId && t.seq < this.#visitFirstSeq + t.nodelist.length - 1
    ) {
      this.duplicateTokens++;
      return;
    }
    this.tokenState = TokenState.Eating;
    this.token = t;
    this.#sentThisVisit = false;
    this.#batching = false;
    this.#wakeSent = false;
    this.lastTokenSeq = t.seq; // FIX-1
    this.#takeNotes(t);
    this.#forkSeen = true;
    this.#lineageParent = t.parentRingId;
    this.#lineageForkSeq = t.forkSeq;
    if (!sameList(t.nodelist, this.localView)) { for (const m of t.nodelist) this.#learn(m.id); }
    t.current = myIdx; // "Update token.currentNode"
    this.rounds.receipt(t.ringId);
    this.#out.push({ type: "token", seq: t.seq });
    const before = this.viewState;
    const traffic = this.#visit(t);
    const changing = before !== ViewState.Agreement || this.viewState !== ViewState.Agreement ||
      (t.flags & TOKEN_FLAG_TRANSITION) !== 0;
    this.#afterReceipt(traffic, changing);
  }

  /**
   * One visit of the token (a receipt, or a lone ring's pass to itself): the multicast takes what the
   * token carries, the view state moves, then either this node delivers in its regular view or it
   * takes part in the membership change (extended virtual synchrony, multicast.ts).
   */
  #visit(t: Token): boolean {
    const mc = this.multicast;
    const traffic = mc.absorb(t);
    this.#viewTransition(t);
    if (this.#regular(t)) {
      mc.regular(t);
      if (this.#stamped === t.cfg && this.#stable > 0) {
        // A round after this node committed first, the token came back unchanged and in regular
        // operation: every member has installed the view, so what the change needed can go.
        this.#stamped = "";
        t.trans = [];
        t.entries = t.entries.filter((e) => e.cfg === t.cfg);
      }
    } else mc.transition(t);
    return traffic;
  }

  /** View State transition on a token receipt (figure 9; 3.7.1 for the other modes). */
  #viewTransition(t: Token): void {
    const mode = this.#o.mode;
    const same = sameList(t.nodelist, this.localView);
    // EVS: Agreement holds only on a token in regular operation of our view; anything else (a fork, a
    // changed nodelist, another group's token, a member that did not install our view) starts a
    // membership change — otherwise a view could be committed while a member still delivers in the
    // old one (issue 13: the regenerating node re-committed the same members alone while the others
    // stayed in Agreement).
    const regular = this.#regular(t);
    this.#stable = same && regular ? this.#stable + 1 : 0;
    // A view may be reserved or committed only after a round in which every member took part in the
    // membership change: our last token went out marked, and came back with the same nodelist.
    const roundDone = same && this.#sentInTransition;
    this.#roundsDone = roundDone && this.viewState !== ViewState.Agreement ? this.#roundsDone + 1 : 0;
    if (mode === "every-token") {
      if (!regular) {
        this.#install(t, this.#stampedView(t, t.nodelist) ?? this.#newView(this.#nextIndex(t), t));
      }
      t.rsv = 0;
    } else if (mode === "two-phase") {
      if (this.viewState === ViewState.Agreement) {
        if (!same || !regular) this.viewState = ViewState.Chaos;
      } else if (roundDone) {
        // The lowest member, once it saw the nodelist unchanged for a round of the change, commits a
        // new view and stamps it on the token; every other node of the round commits that one (one
        // identifier per view). With any node stamping, stamps of two nodes chased each other round the
        // ring, each breaking the other's round, for ever (sim seed 556, two-phase: 980 views).
        // It waits for a second such round: what a member retransmitted in the first has then reached
        // every member, so a `safe` message delivered in the transitional configuration is held by all
        // of it (plain seeds 91, 417, 1388, two-phase: a member delivered one in the transitional
        // configuration before another member of it had received it).
        const stamped = this.#stampedView(t, t.nodelist);
        if (stamped !== undefined) this.#install(t, stamped);
        else if (groupId(t.nodelist) === this.me.id && this.#roundsDone >= 2) {
          this.#install(t, this.#newView(this.#nextIndex(t), t));
        }
      }
      t.rsv = 0;
    } else if (this.viewState === ViewState.Agreement) {
      if (!same || !regular) {
        this.viewState = ViewState.Chaos;
        t.rsv = 0;
      }
    } else if (this.viewState === ViewState.Chaos) {
      if (roundDone) {
        // FIX-2: pseudo-code 2 says "increment globalViewNumber; update token.globalViewNumber".
        // Nodes whose globalViewNumber differ (a joiner, a node that committed {self} while cut off)
        // would then reserve different indices in one round, and two members of one view would
        // commit it at different indices over views they committed alone — breaking consistent
        // history. The first node of a round reserves max(own, token) + 1 and writes it to `rsv`
        // with a fresh tag; the others of the same round reserve that index under that tag. Any
        // node that changes the ring (or adopts, regenerates, goes lone) clears `rsv`, so a non-zero
        // `rsv` above our globalViewNumber always comes from this round. (Scenario "three-phase keeps
        // a consistent history of globalView vectors across a crash and a join"; sim seeds 1243, 267.)
        let r = t.rsv > this.globalViewNumber ? t.rsv : this.#nextIndex(t);
        if (r <= this.globalViewNumber) r = this.globalViewNumber + 1;
        if (t.rsv !== r || t.rsvTag === "") t.rsvTag = this.#newRingId();
        this.#reserved = r;
        this.#reservedTag = t.rsvTag;
        t.rsv = r;
        this.globalViewNumber = r;
        if (t.gvn < r) t.gvn = r;
        this.viewState = ViewState.Reserve;
      } else t.rsv = 0;
    } else {
      // Reserve. FIX-2 (second half): commit only if the round that reserved our index went round
      // unbroken — `rsv` (and its tag) still name it. A node that went lone after a false suspicion
      // commits {self} alone; when it later adopts the token again the nodelist looks unchanged, but
      // it cleared `rsv`, so the others do not commit a view it has not (sim seed 1243 of
      // view 8 was {n00,n03} at n00 and {n03} at n03).
      if (same && t.rsv === this.#reserved && t.rsvTag === this.#reservedTag) {
        this.#install(t, {
          id: viewId(this.#reserved, this.#reservedTag),
          index: this.#reserved,
          members: t.nodelist.slice(),
        });
      } else if (same && t.rsv > this.#reserved) {
        // A newer reservation round on an unchanged ring (a node that had lost its reservation by a
        // Hungry timeout started it): join it instead of breaking it, or the two rounds keep
        // cancelling each other(sim seed 267).
        this.globalView.set(this.#reserved, null);
        this.#reserved = t.rsv;
        this.#reservedTag = t.rsvTag;
        this.globalViewNumber = Math.max(this.globalViewNumber, t.rsv);
      } else {
        this.globalView.set(this.#reserved, null); // commit NULL to the reserved location
        this.viewState = ViewState.Chaos;
        t.rsv = 0;
      }
    }
    if (t.gvn > this.globalViewNumber) this.globalViewNumber = t.gvn;
    // A node that is not in regular operation of its view marks the token: no message may be ordered
    // on it that this node would not deliver in that view. (Chaos entered by a Hungry timeout counts:
    // a view committed on its next receipt must first have gone through a round of the change — sim
    // seed 215, two-phase, where such a node committed at once and the others missed the change.)
    if (!this.#regular(t)) t.flags |= TOKEN_FLAG_TRANSITION;
  }

  /** Whether this node is in regular operation of its view on `t` (Agreement, and `t` orders our view). */
  #regular(t: Token): boolean {
    return this.viewState === ViewState.Agreement && this.multicast.isRegular(t);
  }

  /** The view the token's `cfg` stamp names, if a node of this round committed it (two-phase, every-token). */
  #stampedView(t: Token, members: readonly Member[]): View | undefined {
    if ((t.flags & TOKEN_FLAG_TRANSITION) !== 0 || t.cfg === "" || t.cfg === this.multicast.viewId) {
      return undefined;
    }
    const index = viewIndex(t.cfg);
    // A member's view indices rise: a stamp at or below ours (we committed another view meanwhile) is
    // replaced by a new view of ours, which the rest of the round then takes.
    if (!(index > this.globalViewNumber)) return undefined;
    return { id: t.cfg, index, members: members.slice() };
  }

  /** A new view at `index` with the token's nodelist, named by a fresh tag of this node. */
  #newView(index: number, t: Token): View {
    return { id: viewId(index, this.#newRingId()), index, members: t.nodelist.slice() };
  }

  /**
   * Commits `view` on token `t`: the multicast finishes the old view by the EVS rules and starts this
   * one; the first node of the round stamps it on the token, so the token orders its messages.
   */
  #install(t: Token, view: View): void {
    if (t.cfg !== view.id) {
      t.cfg = view.id;
      t.mseq = 0;
      this.#stamped = view.id;
    }
    t.flags &= ~TOKEN_FLAG_TRANSITION;
    this.#commit(view, t);
    this.viewState = ViewState.Agreement;
    this.#stable = 0;
  }

  #nextIndex(t: Token): number {
    return Math.max(this.globalViewNumber, t.gvn) + 1;
  }

  /** Records a committed view and emits it after the multicast has finished the previous one. */
  #commit(view: View, t: Token | undefined): void {
    const previous = this.multicast.viewId;
    this.multicast.install(view, t, this.#o.mode !== "every-token");
    this.globalView.set(view.index, view);
    if (view.index > this.globalViewNumber) this.globalViewNumber = view.index;
    this.lastGlobalView = view;
    if (view.members.length > 1) this.#holding = false;
    this.#out.push({ type: "view", view, previous, mode: this.#o.mode });
  }

  /**
   * After a valid receipt: pass at once when there is traffic or the membership is changing (a change
   * takes rounds; in a large ring an idle hold at every hop made fail-over last seconds), else keep the
   * token for the idle hold (3.8 trade-off).
   */
  #afterReceipt(traffic: boolean, changing: boolean): void {
    const woken = this.#wakeWanted;
    this.#wakeWanted = false;
    this.#idleAtLastVisit = false;
    if (
      this.criticalWanted || this.leaving || changing || this.#background || this.newNodes.length > 0 || woken
    ) {
      this.#pass();
    } else if (traffic || (this.multicast.pending > 0 && !this.#holding)) {
      // With traffic: pass at once, or batch for `batchMs` unless the backlog already fills a visit.
      if (this.rounds.batchMs > 0 && !this.#backlogFull()) {
        this.#batching = true;
        this.#setTimer(this.rounds.batchMs);
      } else this.#pass();
    } else {
      this.#idleAtLastVisit = true;
      this.#setTimer(this.rounds.eatingMs(this.token?.nodelist.length ?? 1));
    }
  }

  /** This node's unsent messages fill half a visit's budget: batching longer would only delay them. */
  #backlogFull(): boolean {
    const mc = this.multicast;
    return mc.pending * 2 >= this.#o.maxBatchMessages || mc.pendingBytes * 2 >= this.#o.maxBatchBytes;
  }

  // ================================================================================================
  // Event 6: Eating timeout — and the same pass-on when traffic makes the node move on at once.
  // ================================================================================================
  #pass(): void {
    this.#batching = false;
    const t = this.token;
    if (t === undefined || this.tokenState !== TokenState.Eating) return;
    if (this.criticalWanted && !this.leaving && this.viewState === ViewState.Agreement && this.#stable > 0) {
      // 3.9: keep the token while the application runs its critical section. FIX-10: only in
      // Agreement. A false suspicion (the token arrived, its acknowledgement did not) makes the
      // sender reroute a copy while the receiver still holds the original; the copy changed the
      // nodelist, so the nodes it reaches are in Chaos and wait until the duplicate has died at the
      // first node both reach — otherwise two nodes of one ring could be inside at once (sim seed
      // 1430 ). Every-token mode has no Chaos, so there the nodelist must
      // also have come back unchanged (sim seed 519).
      this.criticalWanted = false;
      this.inCritical = true;
      this.#setTimer(-1);
      this.#out.push({ type: "critical" });
      return;
    }
    if (this.inCritical) return;
    const mc = this.multicast;
    if (t.nodelist.length === 1) {
      // A ring of one passes the token to itself: what it appended last time has "come back", and
      // its view state moves as on any receipt. (The pseudo-code only commits {self} on a delivery
      // failure; a node left alone by a graceful leave of its last peer stayed in Chaos forever —
      // sim seed 18 .)
      this.#visit(t);
      this.#setLocalView(t.nodelist);
      this.#sentInTransition = (t.flags & TOKEN_FLAG_TRANSITION) !== 0; // its pass to itself is a round
    }
    if (this.leaving) {
      mc.append(t, 0); // what it sent goes out in its view (it delivers them as it appends them)
      this.#handOff(t);
      return;
    }
    // Eligible membership (3.7.3): members no longer eligible here leave the ring now; their
    // entries pass to this node's custody, as for a failed node.
    let added = false;
    for (let i = t.nodelist.length - 1; i >= 0; i--) {
      const m = t.nodelist[i];
      if (this.isEligible(m.id) || sameMember(m, this.me)) continue;
      t.nodelist.splice(i, 1);
      Multicast.transferCustody(t, m.id, this.me.id);
      added = true;
    }
    if (added && t.nodelist.length === 1) {
      this.#changed(t);
      this.#fork(t, t.seq); // as a node left alone by a failure (FIX-4)
      this.lastToken = t;
      this.#becomeLone(t);
      return;
    }
    // Pseudo-code 6: add new nodes right after this node, so the token goes to them next.
    let myIdx = indexOfMember(t.nodelist, this.me);
    const newcomers: Member[] = [];
    for (const n of this.newNodes) {
      if (indexOfMember(t.nodelist, n) >= 0 || !this.isEligible(n.id)) continue;
      // Never add an older incarnation next to a newer one (a stale join request).
      if (t.nodelist.some((m) => m.id === n.id && m.inc > n.inc)) continue;
      // A newer incarnation replaces an older one of the same ID (restart, FIX-6).
      for (let i = t.nodelist.length - 1; i >= 0; i--) {
        if (t.nodelist[i].id === n.id && !sameMember(t.nodelist[i], this.me)) {
          Multicast.transferCustody(t, n.id, this.me.id);
          t.nodelist.splice(i, 1);
          if (i < myIdx) myIdx--;
        }
      }
      t.nodelist.splice(myIdx + 1, 0, n);
      newcomers.push(n);
      added = true;
    }
    this.newNodes = [];
    if (added) this.#changed(t);
    this.#putNotes(t, newcomers);
    if (!this.#holding) mc.append(t, entryBytes(t));
    if (t.nodelist.length > 1) {
      myIdx = indexOfMember(t.nodelist, this.me);
      const next = (myIdx + 1) % t.nodelist.length;
      Multicast.shed(t, t.nodelist[next].id);
      this.#send(t, myIdx, next);
    } else {
      // "Restart EATING timeout"; with traffic or a view change under way, come back at once (but not
      // for messages that must wait: while joining they would spin at one instant).
      const busy = t.entries.length > 0 || this.viewState !== ViewState.Agreement ||
        (mc.pending > 0 && !this.#holding);
      this.#setTimer(busy ? 0 : this.rounds.eatingMs(1));
    }
  }

  /**
   * This node changed the nodelist: Chaos (pseudo-code 4, 6) and a membership change (the token stops
   * ordering messages of the old view); every-token mode commits the new list at once.
   */
  #changed(t: Token): void {
    t.rsv = 0;
    t.flags |= TOKEN_FLAG_TRANSITION;
    this.multicast.transition(t);
    if (this.#o.mode === "every-token") {
      this.#install(t, this.#newView(this.#nextIndex(t), t));
      t.gvn = this.globalViewNumber;
    } else this.viewState = ViewState.Chaos;
  }

  /** Update destination, increment seq, copy to lastToken, send, Hungry. */
  #send(t: Token, myIdx: number, destIdx: number): void {
    t.seq++;
    this.#passedAt = this.#o.now();
    if (!this.#sentThisVisit) {
      this.#sentThisVisit = true;
      this.#visitFirstSeq = t.seq;
    }
    t.current = myIdx;
    t.dest = destIdx;
    if (t.gvn < this.globalViewNumber) t.gvn = this.globalViewNumber;
    this.#sentInTransition = (t.flags & TOKEN_FLAG_TRANSITION) !== 0;
    // A token in a membership change leaves every node with that node's part of the change on it —
    // also a regenerated or rerouted one (partition seed 215, two-phase: a regenerating node committed
    // first without its own information on the token, so the others left it out of the transitional
    // configuration).
    if (this.#sentInTransition) this.multicast.transition(t);
    this.lastToken = t;
    this.lastTokenSeq = t.seq;
    this.#setLocalView(t.nodelist);
    this.token = undefined;
    this.tokenState = TokenState.Hungry;
    this.#out.push({ type: "sendToken", to: t.nodelist[destIdx].id, token: t });
    // FIX-7: a round of a large ring is long; a fixed Hungry timeout would make every node of a large
    // ring starve on a healthy token. It is derived from the measured round and failure times.
    this.#setTimer(this.rounds.hungryMs(t.nodelist[destIdx].id, t.nodelist.length));
  }

  // ================================================================================================
  // Event 4: Token delivery failure (the Transport Manager is the failure detector).
  // ================================================================================================
  /** The Transport Manager gave up delivering the token with sequence number `seq` to `to`. */
  tokenFailed(to: string, seq: number): void {
    const last = this.lastToken;
    if (last === undefined || last.seq !== seq) return; // stale: a newer token exists
    if (this.left) return;
    if (this.#handoffSeq === seq) {
      this.#handOffFailed(last);
      return;
    }
    if (this.tokenState === TokenState.Eating) return;
    if (last.nodelist[last.dest]?.id !== to) return;
    const t = copyToken(last);
    const failed = t.nodelist[t.dest];
    t.nodelist.splice(t.dest, 1);
    // FIX-12: the "failed" node may have the token after all (a lost acknowledgement, or a partition
    // that cut it off just after): the reroute is a fork.
    this.#fork(t, last.seq);
    // Custody: the failed node's entries are now removed (and acknowledged) by this node, after
    // one more full round (see multicast.ts).
    Multicast.transferCustody(t, failed.id, this.me.id);
    this.#changed(t);
    const myIdx = indexOfMember(t.nodelist, this.me);
    if (t.nodelist.length === 1) {
      // "nodelist contains only one node, self": commit {self}, keep the token.
      this.lastToken = t;
      this.#setLocalView(t.nodelist);
      this.#becomeLone(t); // FIX-4: a lone node has a lineage of its own (the fork above)
      return;
    }
    this.#send(t, myIdx, (myIdx + 1) % t.nodelist.length);
  }

  /** The Transport Manager acknowledged a token (only a leaving node needs to know). */
  tokenDelivered(_to: string, seq: number): void {
    if (this.#handoffSeq === seq && !this.left) this.#finishLeave();
  }

  #becomeLone(t: Token): void {
    this.#forkSeen = true; // a lone ring delivers on its own: its history is its own from here
    // Everyone else left this ring: this node takes custody of every entry still on it.
    for (const e of t.entries) e.holder = this.me.id;
    this.#sentThisVisit = false;
    t.current = 0;
    t.dest = 0;
    t.rsv = 0;
    this.token = t;
    this.tokenState = TokenState.Eating;
    this.#setLocalView(t.nodelist);
    this.newNodes = [];
    // A lone ring is a view of its own (in every mode): the node finishes its old view alone (the
    // transitional configuration is itself) and orders its messages on this token from here.
    this.#install(t, this.#newView(this.#nextIndex(t), t));
    t.trans = [];
    t.gvn = this.globalViewNumber;
    this.#setTimer(this.rounds.eatingMs(1));
  }

  /**
   * Gives up the ring this node waits for and starts a ring of one (a new lineage, views go on from
   * this node's globalViewNumber): used when a ring-mate says we are not eligible.
   */
  #goLoneFresh(): void {
    const t: Token = {
      ringId: this.#newRingId(),
      parentRingId: "",
      forkSeq: 0,
      seq: this.lastTokenSeq + 1,
      nodelist: [this.me],
      current: 0,
      dest: 0,
      gvn: this.globalViewNumber,
      rsv: 0,
      flags: 0,
      cfg: "",
      mseq: 0,
      rsvTag: "",
      trans: [],
      entries: [],
      addrs: [],
    };
    this.ringId = t.ringId;
    this.lastTokenSeq = t.seq;
    this.lastToken = t;
    this.#becomeLone(t);
  }

  #adopt(t: Token): void {
    // Give up our own token (lone) or ring (starving / moving to a lower group). The messages of our
    // view that we keep go with us: the membership change on the adopted token finishes that view.
    this.token = undefined;
    this.ringId = t.ringId;
    this.lastTokenSeq = t.seq - 1;
    this.tokenState = TokenState.Hungry;
    this.viewState = ViewState.Chaos;
    t.rsv = 0; // FIX-2: a reservation made before we left does not hold for us
  }

  #reject(from: string, t: Token): void {
    this.#out.push({
      type: "send911",
      to: from,
      msg: {
        ringId: t.ringId,
        seq: t.seq,
        nodelist: [this.me],
        orig: 0,
        current: 0,
        dest: 0,
        status: STATUS_REJECT,
        flags: 0,
        addrs: [],
      },
    });
  }

  // ================================================================================================
  // Event 3: 911 received.
  // ================================================================================================
  /** A 911 message arrived from node `from`. */
  receive911(from: string, m: Message911): void {
    if (!this.#started) return;
    if (this.left || (this.leaving && this.#handoffSeq >= 0)) {
      // A node that left is no longer on anyone's ring, but an old nodelist may still route a 911
      // through it: pass it on, or the originator would starve forever (sim: seed 42 of
      // a 911 routed through a node that had left).
      // Its own 911s, sent before it left, end here: they would go round for ever (sim seed 1355).
      const own = sameMember(m.nodelist[m.orig] ?? this.me, this.me);
      if (m.status === STATUS_YES && (m.flags & F911_JOIN) === 0 && !own) {
        this.#forward911(m, m.dest);
      }
      return;
    }
    this.#learn(from);
    this.#learnAddresses(m.addrs);
    if (m.status === STATUS_REJECT && (m.flags & F911_NOT_ELIGIBLE) !== 0) {
      // FIX-11. Eligible membership: a ring-mate no longer counts us as eligible and took us off its ring.
      // Waiting for its token would starve us for ever: give up that ring and go on alone; the
      // hand-shakes then find whoever still counts us eligible.
      if (
        this.token === undefined && !this.inCritical &&
        indexOfId(this.localView, m.nodelist[0]?.id ?? "") >= 0
      ) {
        this.#goLoneFresh();
      }
      return;
    }
    if (m.status === STATUS_REJECT) {
      // Our token was refused: handle it as a delivery failure (FIX-4, FIX-6).
      const last = this.lastToken;
      if (last !== undefined && last.seq === m.seq && last.nodelist[last.dest]?.id === m.nodelist[0].id) {
        this.tokenFailed(m.nodelist[0].id, m.seq);
      }
      return;
    }
    const orig = m.nodelist[m.orig];
    if (orig === undefined) return;
    if (!this.isEligible(orig.id)) {
      // Eligible membership (3.7.3): whatever a non-eligible node sends, it is not admitted. A
      // regeneration request from it (it was on our ring until we dropped it) gets a REJECT so
      // that it stops waiting for our token.
      if (m.status === STATUS_YES && (m.flags & F911_JOIN) === 0) {
        this.#out.push({
          type: "send911",
          to: orig.id,
          msg: {
            ringId: m.ringId,
            seq: m.seq,
            nodelist: [this.me],
            orig: 0,
            current: 0,
            dest: 0,
            status: STATUS_REJECT,
            flags: F911_NOT_ELIGIBLE,
            addrs: [],
          },
        });
      }
      return;
    }
    const myIdx = indexOfMember(m.nodelist, this.me);
    if (myIdx >= 0) m.current = myIdx; // "Update 911.currentNode"
    if (sameMember(orig, this.me)) {
      // FIX-5: only the 911 of the current starvation may regenerate; an old one coming back late
      // (after this node got and passed a newer token) must not.
      if (
        m.status === STATUS_YES && this.tokenState === TokenState.Starving && m.seq === this.lastTokenSeq &&
        m.ringId === this.ringId && this.lastToken !== undefined
      ) {
        this.#regenerate();
      }
      return;
    }
    if (this.leaving) return;
    // "911 is from one of the nodes in lastGlobalView": we also count our localView (the nodelist
    // of our last token). A node that joined recently has committed only {self} so far; with
    // lastGlobalView alone it took its ring-mates' regeneration 911s for join requests and
    // swallowed them, and the ring starved forever(sim seed 26).
    const member = indexOfMember(this.lastGlobalView.members, orig) >= 0 ||
      indexOfMember(this.localView, orig) >= 0;
    if (m.ringId !== this.ringId && (m.flags & F911_JOIN) === 0) {
      // FIX-12: a 911 of another lineage is not a regeneration request for ours: sequence numbers of
      // two lineages do not compare, so there is nothing to veto — two lineages may each have a
      // token. Holding a token that names the sender, we still say NO: ours reaches it soon.
      // Otherwise it passes through, so that its originator can regenerate (swallowing it left two
      // ring-mates on sibling lineages starving for ever: sim seed 1048).
      if (!member && indexOfMember(this.newNodes, orig) < 0) this.newNodes.push(orig);
      // A 911 of the lineage ours forked from, sent before the fork: its sender is behind us and our
      // token (or a join) will reach it — NO, or it would go round the ring for nothing.
      const behind = m.ringId === this.#lineageParent && m.seq <= this.#lineageForkSeq;
      if (
        behind ||
        this.tokenState === TokenState.Eating && indexOfMember(this.token?.nodelist ?? [], orig) >= 0
      ) {
        m.status = STATUS_NO;
        this.#out.push({ type: "send911", to: orig.id, msg: m });
        return;
      }
      this.#forward911(m, m.dest);
      return;
    }
    if ((m.flags & F911_JOIN) !== 0 || !member) {
      // A join request (3.5; 3.7.2 for a node that was removed by a link failure or a false
      // suspicion). FIX-4: a hand-shake is a join request only when the sender's group ID is higher
      // than ours (3.7.3's tie-breaker), so two groups never pull each other's members at once.
      if ((m.flags & F911_JOIN) !== 0) {
        const ring = this.token?.nodelist ?? this.localView;
        if (indexOfId(ring, orig.id) >= 0 && indexOfMember(ring, orig) >= 0) return;
        if (!(groupId(m.nodelist) > groupId(ring))) {
          // The sender's group is lower: we are the one to move. Answer with our own hand-shake now
          // rather than at our next period, which a long partition's back-off may have pushed out
          // by seconds (partition merge benchmark). A lower group never answers back: no ping-pong.
          if (groupId(m.nodelist) < groupId(ring) && !this.leaving) this.#sendHandshake(orig.id, ring);
          return;
        }
      }
      if (indexOfMember(this.newNodes, orig) < 0) this.newNodes.push(orig);
      if ((m.flags & F911_JOIN) !== 0) {
        // 3.7.3: the hand-shake carries the sender's ring; the whole group joins at once (one new view
        // instead of one per node as each member's own hand-shake arrives).
        for (const n of m.nodelist) {
          if (this.isEligible(n.id) && indexOfMember(this.newNodes, n) < 0 && !sameMember(n, this.me)) {
            this.newNodes.push(n);
          }
        }
      }
      if (this.lone && this.tokenState === TokenState.Eating) this.#setTimer(0);
      // FIX-9: the pseudo-code stops a non-member's 911 here. But "non-member" is only our view:
      // a node added to the ring just before the token was lost is unknown to the nodes the token
      // never reached, and if it holds the newest copy, swallowing its 911 leaves the ring without a
      // token for ever(sim seed 408). So a regular 911 also goes on as a
      // regeneration request; the veto below still lets only the newest copy through.
      if ((m.flags & F911_JOIN) !== 0) return;
    }
    // A regeneration request from a member. FIX-1: a node holding the token always vetoes (the
    // token is not lost); so does one that saw a newer token, or the same one and has the higher ID.
    if (
      this.tokenState === TokenState.Eating || this.lastTokenSeq > m.seq ||
      (this.lastTokenSeq === m.seq && this.me.id > orig.id)
    ) {
      m.status = STATUS_NO;
      this.#out.push({ type: "send911", to: orig.id, msg: m });
      return;
    }
    // Forward from the position it was addressed to (with a restarted node on the list twice, our
    // own index may be the other entry).
    this.#forward911(m, m.dest);
  }

  #forward911(m: Message911, fromIdx: number): void {
    const n = m.nodelist.length;
    let d = (fromIdx + 1) % n;
    // Skip entries with our ID (an older incarnation of this node may still be listed): sending
    // to ourselves would loop in zero time(sim seed 508).
    for (let k = 0; k < n && m.nodelist[d].id === this.me.id && d !== m.orig; k++) d = (d + 1) % n;
    m.dest = d;
    if (m.nodelist[d].id === this.me.id) {
      if (d === m.orig && sameMember(m.nodelist[d], this.me)) this.receive911(this.me.id, m); // back home
      return;
    }
    this.#out.push({ type: "send911", to: m.nodelist[d].id, msg: m });
  }

  #regenerate(): void {
    this.regenerations++;
    this.#sentThisVisit = false;
    const t = copyToken(this.lastToken!);
    // FIX-12: nodes the 911 round could not reach (a partition) may hold the token, or regenerate
    // one, under the old name; with one name for both, a node of one side took the other side's
    // token for a stale copy of its own or for its continuation, and two halves mixed one order
    // (sim: partition seeds 241, 591, 979; seed 1633, two tokens of one lineage naming each other).
    this.#fork(t, this.lastTokenSeq);
    t.rsv = 0;
    this.token = t;
    this.tokenState = TokenState.Eating;
    this.viewState = ViewState.Chaos;
    this.#setTimer(0);
  }

  // ================================================================================================
  // Event 5: 911 delivery failure.
  // ================================================================================================
  /** The Transport Manager gave up delivering 911 message `m` to `to`. */
  failed911(to: string, m: Message911): void {
    if ((m.flags & F911_JOIN) !== 0 && sameMember(m.nodelist[m.orig], this.me)) {
      // Hand-shake failed: back off from this peer (it may be gone for good).
      const s = this.#skip.get(to) ?? { until: 0, failures: 0 };
      s.failures = Math.min(s.failures + 1, 4);
      s.until = this.#handshakeRound + (1 << s.failures);
      this.#skip.set(to, s);
      return;
    }
    if (m.status !== STATUS_YES) return; // a veto or a REJECT: the originator will retry anyway
    if (m.nodelist[m.dest]?.id !== to) return;
    // The originator itself is unreachable: nobody is left to regenerate for. Going on would send
    // a dead node's 911 round the ring for ever, re-queueing it as a joiner at every node (sim:
    // seed 1201 ).
    if (m.dest === m.orig) return;
    // "Update 911 destination pointer; send 911."
    this.#forward911(m, m.dest);
  }

  // ================================================================================================
  // Events 6–8: timers.
  // ================================================================================================
  /** The token-state timer with generation `gen` fired. */
  timer(gen: number): void {
    if (gen !== this.#timerGen || this.left) return;
    if (this.tokenState === TokenState.Eating) {
      this.#pass();
    } else if (this.tokenState === TokenState.Hungry) {
      // 7. Hungry timeout.
      this.tokenState = TokenState.Starving;
      this.viewState = ViewState.Chaos;
      this.#send911();
      this.#setTimer(this.#o.timing.starvingMs);
    } else {
      // 8. Starving timeout.
      this.#send911();
      this.#setTimer(this.#o.timing.starvingMs);
    }
  }

  /**
   * FIX-3: "send 911 to the next node on lastGlobalView" — but the nodes that can hold a newer token
   * than ours are those on the token's path after us, i.e. our localView (the nodelist of our last
   * token); lastGlobalView may be older (in Chaos) and miss a joiner that already holds the token.
   */
  #send911(): void {
    if (this.leaving) {
      // A leaving node that lost the token just goes; the others detect it.
      this.#finishLeave();
      return;
    }
    const list = this.localView.slice();
    if (indexOfMember(list, this.me) < 0) list.unshift(this.me);
    const m = this.#own911(list, 0);
    this.#forward911(m, m.orig);
  }

  /** The hand-shake timer with generation `gen` fired. */
  joinTimer(gen: number): void {
    if (gen !== this.#joinGen || this.left || this.leaving) return;
    this.#handshake();
  }

  /**
   * FIX-4: every joinRetryMs, a hand-shake (a 911 flagged JOIN whose nodelist is our ring) to known
   * peers outside our ring. New nodes, lone nodes, falsely suspected nodes and split-off groups all
   * find the group this way; peers that do not answer are asked less and less often.
   * FIX-13: only the group's leader (its lowest ID; a lone node leads itself) sends them, and to two
   * peers a period: the lowest known outsider (most likely the leader of the group that takes ours
   * in) and one more in turn (finds the others, and peers the lowest cannot reach). Every member
   * sending to every known outsider cost N × (N − 1) hand-shakes a period at a boot of N lone nodes
   * (48,064 911s at 128 members in the scaling benchmark).
   */
  #handshake(): void {
    this.#handshakeRound++;
    if (this.#holding && this.#handshakeRound > this.#joinWaitRounds) {
      // Nobody took us in within the join wait: our messages go out in our view of one.
      this.#holding = false;
      if (this.tokenState === TokenState.Eating && !this.inCritical && this.token !== undefined) {
        this.#setTimer(0);
      }
    }
    const ring = this.token?.nodelist ?? this.localView;
    if (indexOfMember(ring, this.me) < 0 || groupId(ring) === this.me.id) {
      const outside = this.#sortedKnown().filter((to) => {
        if (indexOfId(ring, to) >= 0) return false;
        const s = this.#skip.get(to);
        return s === undefined || s.until <= this.#handshakeRound;
      });
      if (outside.length > 0) this.#sendHandshake(outside[0], ring);
      // Not in the first period: a boot of many lone nodes then forms one group round the lowest
      // instead of small ones that merge later.
      if (outside.length > 1 && this.#handshakeRound > 1) {
        this.#sendHandshake(outside[1 + (this.#rotor++ % (outside.length - 1))], ring);
      }
    }
    this.#joinGen++;
    this.#out.push({ type: "joinTimer", gen: this.#joinGen, delayMs: this.#o.timing.joinRetryMs });
  }

  /** One hand-shake: a 911 flagged JOIN whose nodelist is our ring (so it carries our group ID). */
  #sendHandshake(to: string, ring: readonly Member[]): void {
    const list = indexOfMember(ring, this.me) < 0 ? [this.me] : ring.slice();
    this.#out.push({ type: "send911", to, msg: this.#own911(list, F911_JOIN) });
  }

  /**
   * A YES 911 of this node's lineage and last token, originated here; `list` must contain this node.
   * It carries the declared addresses of the members it may bring in: on a hand-shake the whole ring
   * (the receiver adds all of it), on a regeneration request this node's own (if it is taken for a
   * join request, FIX-9).
   */
  #own911(list: Member[], flags: number): Message911 {
    const me = indexOfMember(list, this.me);
    return {
      ringId: this.ringId,
      seq: this.lastTokenSeq,
      nodelist: list,
      orig: me,
      current: me,
      dest: me,
      status: STATUS_YES,
      flags,
      addrs: this.addresses.of((flags & F911_JOIN) !== 0 ? list : [this.me]),
    };
  }

  /**
   * Node `id` is a member to ask for admission from now on (its address is known to the layer below,
   * e.g. found by asking an address for its node ID). A lone node asks it at once.
   */
  learnPeer(id: string): void {
    this.#learn(id);
    if (this.#started && this.lone && !this.leaving && id !== this.me.id && this.isEligible(id)) {
      this.#sendHandshake(id, this.token!.nodelist);
    }
  }

  /**
   * Whether this node's timers are throttled (a hidden browser tab runs timers once a second, or a
   * minute): while on, it passes the token on at once instead of holding it idle, so that the ring
   * never waits on its timers.
   */
  setBackground(on: boolean): void {
    this.#background = on;
    if (
      on && this.tokenState === TokenState.Eating && this.token !== undefined && !this.inCritical &&
      !this.lone
    ) {
      this.#setTimer(0);
    }
  }

  /**
   * How late a timer may fire before this node must assume the others removed it: its Hungry timeout
   * (by then its successor's predecessor — or it, holding the token — was given up on), or
   * `undefined` while it is alone or out of the group.
   */
  get stallMs(): number | undefined {
    const list = this.localView;
    if (this.left || list.length < 2) return undefined;
    const me = indexOfMember(list, this.me);
    return this.rounds.hungryMs(list[(me + 1) % list.length].id, list.length);
  }

  /** The layer below reports this node's addresses (a change is announced on the token). */
  setOwnAddresses(addresses: readonly string[]): void {
    if (this.addresses.setOwn(addresses)) this.#addressesChanged = true;
  }

  /** Takes the declarations a token or 911 carries; a newer one goes to the layer below. */
  #learnAddresses(list: readonly MemberAddresses[]): void {
    for (const d of list) {
      const taken = this.addresses.learn(d);
      if (taken !== undefined) {
        this.#out.push({ type: "addresses", id: taken.member.id, addresses: taken.addresses });
      }
    }
  }

  /**
   * On an accepted token: learn its address notes, take off those this node holds (they have been
   * round), and keep those whose holder left the ring one more round in this node's custody.
   */
  #takeNotes(t: Token): void {
    if (t.addrs.length === 0) return;
    this.#learnAddresses(t.addrs);
    const kept: AddressNote[] = [];
    for (const note of t.addrs) {
      if (note.holder === this.me.id) continue;
      kept.push(indexOfId(t.nodelist, note.holder) >= 0 ? note : { ...note, holder: this.me.id });
    }
    t.addrs = kept;
  }

  /**
   * Puts address notes on the token before it leaves: for members this node just added, theirs for
   * one round (everyone learns the newcomers) and the others' until the last newcomer (the newcomers
   * learn everyone); and this node's own after its addresses changed.
   */
  #putNotes(t: Token, added: readonly Member[]): void {
    const put = (d: MemberAddresses | undefined, holder: string) => {
      if (d === undefined || d.addresses.length === 0) return;
      t.addrs = t.addrs.filter((n) => n.member.id !== d.member.id);
      t.addrs.push({ ...d, holder });
    };
    if (added.length > 0) {
      // The newcomers follow this node; the one the token reaches last takes the others' notes off.
      const me = indexOfMember(t.nodelist, this.me);
      const n = t.nodelist.length;
      let last = added[0].id;
      let furthest = -1;
      for (const a of added) {
        const d = (indexOfMember(t.nodelist, a) - me + n) % n;
        if (d > furthest) [furthest, last] = [d, a.id];
      }
      for (const m of t.nodelist) {
        const d = this.addresses.of([m])[0];
        if (indexOfMember(added, m) >= 0) put(d, this.me.id);
        else if (!(m.id === this.me.id && this.#addressesChanged)) put(d, last);
      }
    }
    if (this.#addressesChanged && t.nodelist.length > 1) {
      put(this.addresses.own, this.me.id);
      this.#addressesChanged = false;
    }
  }

  #learn(id: string): void {
    this.#skip.delete(id);
    if (id === this.me.id || this.#known.has(id) || !this.isEligible(id)) return;
    this.#known.add(id);
    this.#knownSorted = undefined;
  }

  #sortedKnown(): string[] {
    return this.#knownSorted ??= [...this.#known].sort();
  }

  // ================================================================================================
  // Application requests.
  // ================================================================================================
  /** Queues a multicast message; returns its per-sender sequence number (`onlyIn`: see Multicast.enqueue). */
  send(data: Uint8Array, safe: boolean, forwardedFor = "", onlyIn?: string, stream = 0): number {
    const seq = this.multicast.enqueue(data, safe, forwardedFor, onlyIn, stream);
    if (this.tokenState === TokenState.Eating && !this.inCritical && this.token !== undefined) {
      // An idle hold ends at once; a batching hold only once the backlog fills a visit.
      if (!this.#batching || this.#backlogFull()) this.#setTimer(0);
    } else if (!this.#holding) this.#wakeRing();
    return seq;
  }

  /**
   * This node wants the token while it is elsewhere. If the ring looks idle (this node kept its last
   * token idle, or the token has been away for an idle hold), it sends a wake-up to its predecessor,
   * which carries it on backwards round the ring — the way the token will come — until it reaches the
   * member keeping the token (see `wake`). So a long idle hold (little CPU in an idle ring) does not
   * delay the first message after a quiet spell by a round of holds, and a burst from every member
   * costs at most one wake-up per member, not one per pair. Best effort: a lost wake-up costs only
   * that delay. Under load the token moves at once anyway, and none is sent.
   */
  #wakeRing(): void {
    const ring = this.localView;
    if (
      this.#wakeSent || ring.length < 2 || this.rounds.eatingMs(ring.length) < WAKE_MIN_IDLE_HOLD_MS ||
      this.tokenState !== TokenState.Hungry ||
      this.viewState !== ViewState.Agreement || this.left || this.leaving
    ) return;
    if (this.#tokenIdleElsewhere()) this.#wakeBackwards();
  }

  /** This node kept its last token idle, or passed it an idle hold ago or more: the token may rest. */
  #tokenIdleElsewhere(): boolean {
    return this.#idleAtLastVisit ||
      this.#o.now() - this.#passedAt >= this.rounds.eatingMs(this.localView.length);
  }

  #wakeBackwards(): void {
    const ring = this.localView;
    const i = indexOfMember(ring, this.me);
    if (i < 0) return;
    this.#wakeSent = true;
    this.#out.push({
      type: "sendWake",
      to: ring[(i + ring.length - 1) % ring.length].id,
      ringId: this.ringId,
    });
  }

  /**
   * A ring-mate of lineage `ringId` wants the token (see #wakeRing). Kept idle here, it goes on now.
   * Elsewhere, this node passes it on at once at its next visit, and carries the wake-up on to its
   * own predecessor unless one already went that way since its last receipt, or it passed the token
   * on at once a moment ago (the token is then on its way through members this wake-up has passed):
   * a wake-up stops where the token is, where an earlier one passed, or behind the moving token.
   */
  wake(from: string, ringId: string): void {
    if (ringId !== this.ringId || this.left || indexOfId(this.localView, from) < 0) return;
    if (this.tokenState === TokenState.Eating) {
      if (this.token !== undefined && !this.inCritical && !this.#batching) this.#setTimer(0);
      return;
    }
    this.#wakeWanted = true;
    if (!this.#wakeSent && this.tokenState === TokenState.Hungry && this.#tokenIdleElsewhere()) {
      this.#wakeBackwards();
    }
  }

  /** Asks for the token for a critical section; a `critical` action follows while it is held. */
  requestCritical(): void {
    if (this.left) return;
    this.criticalWanted = true;
    if (this.tokenState === TokenState.Eating && !this.inCritical && this.token !== undefined) {
      this.#setTimer(0);
    } else this.#wakeRing();
  }

  /** Ends the critical section: the token moves on. */
  releaseCritical(): void {
    if (!this.inCritical) return;
    this.inCritical = false;
    this.#pass();
  }

  /**
   * Graceful leave: at the next token visit this node removes itself from the nodelist, hands its
   * entries' custody to its successor and passes the token on — the ring changes within one round,
   * without anyone's timeout. A lone node leaves at once.
   */
  leave(): void {
    if (this.left || this.leaving) return;
    this.leaving = true;
    if (this.lone && !this.inCritical) {
      this.#finishLeave();
      return;
    }
    if (this.tokenState === TokenState.Eating && !this.inCritical) this.#setTimer(0);
  }

  #handOff(t: Token): void {
    const i = indexOfMember(t.nodelist, this.me);
    const n = t.nodelist.length;
    if (n <= 1) {
      this.#finishLeave();
      return;
    }
    const succ = t.nodelist[(i + 1) % n];
    t.nodelist.splice(i, 1);
    Multicast.transferCustody(t, this.me.id, succ.id);
    t.rsv = 0;
    t.flags |= TOKEN_FLAG_TRANSITION; // the ring changed: a membership change for the others
    const d = indexOfMember(t.nodelist, succ);
    this.#handoffSeq = t.seq + 1;
    this.#send(t, d, d);
    this.#handoffSeq = t.seq;
  }

  #handOffFailed(last: Token): void {
    const t = copyToken(last);
    const failed = t.nodelist[t.dest];
    t.nodelist.splice(t.dest, 1);
    this.#fork(t, last.seq); // as in tokenFailed: the successor may have the token after all
    if (t.nodelist.length === 0) {
      this.#finishLeave();
      return;
    }
    const d = t.dest % t.nodelist.length;
    Multicast.transferCustody(t, failed.id, t.nodelist[d].id);
    Multicast.transferCustody(t, this.me.id, t.nodelist[d].id);
    this.#send(t, d, d);
    this.#handoffSeq = t.seq;
  }

  #finishLeave(): void {
    if (this.left) return;
    this.multicast.leave();
    this.left = true;
    this.leaving = false;
    this.token = undefined;
    this.#setTimer(-1);
    this.#joinGen++;
    this.#out.push({ type: "joinTimer", gen: this.#joinGen, delayMs: -1 });
    this.#out.push({ type: "left" });
  }

  /**
   * Records the nodelist this node last sent (or holds alone). Rounds of a membership change count for
   * one nodelist only: a node that changed the nodelist starts counting again. (Partition seed 10109,
   * two-phase: the lowest member had counted two rounds of a ring of two, then added five members
   * and committed after one round of the seven — before a message one of them retransmitted in that
   * round had reached all of them, which it then delivered as safe in the transitional configuration.)
   */
  #setLocalView(list: Member[]): void {
    if (!sameList(list, this.localView)) this.#roundsDone = 0;
    this.localView = list;
  }

  #setTimer(delayMs: number): void {
    this.#timerGen++;
    this.#out.push({ type: "timer", gen: this.#timerGen, delayMs });
  }

  /** Starts a new lineage on `t`, forked from ours after sequence number `seq` (FIX-12). */
  #fork(t: Token, seq: number): void {
    this.#lineageParent = t.ringId;
    this.#lineageForkSeq = seq;
    this.#forkParent = t.ringId;
    this.#forkSeen = false;
    this.#forkBase = seq;
    t.parentRingId = t.ringId;
    t.forkSeq = seq;
    t.ringId = this.#newRingId();
    // The twin may still order messages of our view: this copy never does (extended virtual synchrony).
    t.flags |= TOKEN_FLAG_TRANSITION;
    this.ringId = t.ringId;
  }

  #newRingId(): string {
    return `${this.me.id}/${this.me.inc}/${++this.#ringCounter}`;
  }
}

/** Group ID of a ring (3.7.3): its lowest member ID, by plain string comparison. */
export function groupId(list: readonly Member[]): string {
  let g = list[0]?.id ?? "";
  for (const m of list) if (m.id < g) g = m.id;
  return g;
}

/** A view identifier: the index and the tag of the round that committed it. */
export function viewId(index: number, tag: string): string {
  return `${index}:${tag}`;
}

/** The index part of a view identifier (NaN when it is not one). */
export function viewIndex(id: string): number {
  const i = id.indexOf(":");
  return i <= 0 ? NaN : Number(id.slice(0, i));
}
