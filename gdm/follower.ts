/**
 * How a replica follows the GCM's stream of views, transitional configurations and deliveries, by
 * extended virtual synchrony. Deterministic: members of one class that see the same stream end in the
 * same state, which is what makes their epochs (`epoch.ts`) mean something.
 *
 * - **A view that continues the last one** (every member moved here together from the previous view,
 *   whose round had completed with every member holding the group's data) needs nothing: the members
 *   share the previous view's data by EVS. Locks of members that are gone are freed at the view.
 * - **Any other view starts a round** (`round.ts`): state operations delivered in it before the round
 *   completes wait (*deferred*), and are applied right after the round's merge, at the same point for
 *   everyone — so no member applies an operation on a replica that is about to be replaced or merged,
 *   and no lock is granted twice in one view.
 * - **A transitional configuration** T(V→W) delivers V's last messages; they are applied only if V's
 *   round had completed and W may apply operations (with the quorum policy: W is a primary component).
 * - What is not applied is *dropped* here (its issuer sends it again; sessions make that harmless).
 * - With the quorum policy, views that are not primary components apply nothing and run no round;
 *   and a primary component applies operations (and frees locks) only while a majority of the
 *   expected group holds the group's data — until enough of its pullers announced `synced`, what is
 *   delivered waits, so that whatever is acknowledged is on a majority's disks.
 * @module
 */
import { evictLocks } from "./locks.ts";
import { nextEpoch, originEpoch } from "./epoch.ts";
import type { LockState } from "./model.ts";
import type { HelloOp, Operation, StateOp } from "./operations.ts";
import { applyStateOp, type Effect, emptyReplica, type Replica, setLock } from "./replica.ts";
import { decideRound, type RoundDecision } from "./round.ts";

/** A regular view as the follower needs it. */
export interface FollowerView {
  /** The GCM's view ID. */
  readonly id: string;
  /** Members, `nodeId#incarnation`. */
  readonly members: ReadonlySet<string>;
  /** Whether operations may be applied in it (quorum policy; always true without it). */
  readonly primary: boolean;
}

/** What the stream did, for the member around the follower. */
export type Notice =
  /**
   * Operations applied: their effects. `movers`: they were delivered in the transitional
   * configuration of these members (the only ones known to hold them).
   */
  | { readonly type: "effects"; readonly effects: Effect[]; readonly movers?: ReadonlySet<string> }
  /** State operations delivered here and not applied (see the module comment). */
  | { readonly type: "dropped"; readonly ops: readonly StateOp[] }
  /** A round started: the member multicasts its hello, bound to the view. */
  | { readonly type: "round"; readonly view: string }
  /**
   * The round of the view completed; `puller`: this member must pull a snapshot (`previous`: the
   * replica it gave up, whose versions the group may lack).
   */
  | {
    readonly type: "decided";
    readonly decision: RoundDecision;
    readonly puller: boolean;
    readonly previous?: Replica;
    /** What waits for a majority at this point (the puller's replay starts with it). */
    readonly held?: readonly StateOp[];
  }
  /** A member announced it holds the group's data. */
  | { readonly type: "synced"; readonly member: string };

type Round =
  | { readonly state: "pending"; readonly hellos: Map<string, HelloOp>; readonly deferred: StateOp[] }
  | { readonly state: "complete" }
  /** Quorum policy: not a primary component; nothing is applied. */
  | { readonly state: "inactive" };

/** One member's replica and its bookkeeping of views and rounds. */
export class Follower {
  /** This member, `nodeId#incarnation`. */
  readonly me: string;
  /** The replica, or undefined while this member holds no usable data (joining, pulling). */
  replica: Replica | undefined;
  /** The class of the replica (null without one). */
  epoch: string | null;
  /** The installed view. */
  view: FollowerView | undefined;
  #round: Round = { state: "complete" };
  /** Members of the view that do not hold the group's data yet (pulling). */
  #unsynced = new Set<string>();
  /** The transitional configuration under way, its state operations kept until the next view. */
  #transitional: { id: string; members: ReadonlySet<string>; ops: StateOp[] } | undefined;
  /** Members of the view that must hold the group's data before anything is applied (0: no quorum policy). */
  readonly #majority: number;
  /** Quorum policy: what was delivered after the round while too few members held the group's data. */
  #held: StateOp[] = [];
  /** Quorum policy: the round's freeing of locks waits with them. */
  #evictHeld = false;

  /**
   * A follower of member `me` with `replica` of class `epoch` (none: joining); with the quorum
   * policy, `majority` members of a view must hold the group's data for it to apply operations.
   */
  constructor(me: string, replica: Replica | undefined, epoch: string | null, majority = 0) {
    this.me = me;
    this.replica = replica;
    this.epoch = replica === undefined ? null : epoch;
    this.#majority = majority;
  }

  /**
   * A follower that starts where a round left a member of the kept class: the replay base of a
   * puller, whose snapshot was taken right after the round (`decision`) of `view`; `held` is what
   * waited there for a majority (see the module comment).
   */
  static afterRound(
    me: string,
    view: FollowerView,
    decision: RoundDecision,
    replica: Replica,
    majority: number,
    held: readonly StateOp[],
  ): Follower {
    const f = new Follower(me, replica, decision.keptEpoch ?? originEpoch("empty", decision.view), majority);
    f.view = view;
    f.#unsynced = new Set(decision.pullers);
    if (!f.#open()) {
      f.#held = [...held];
      f.#evictHeld = true;
    }
    return f;
  }

  /** Whether enough members of the view hold the group's data to apply operations (quorum policy). */
  #open(): boolean {
    const v = this.view;
    if (v === undefined || this.#majority === 0) return true;
    let synced = 0;
    for (const m of v.members) if (!this.#unsynced.has(m)) synced++;
    return synced >= this.#majority;
  }

  /** Whether the round of the installed view has completed (or the view needed none). */
  get settled(): boolean {
    return this.view !== undefined && this.#round.state === "complete";
  }

  /** Whether operations are being applied here now (a usable replica, a settled primary view). */
  get applying(): boolean {
    return this.replica !== undefined && this.settled && this.view!.primary && this.#open();
  }

  /** Members of the view not holding the group's data yet. */
  get unsynced(): ReadonlySet<string> {
    return this.#unsynced;
  }

  /** A transitional configuration begins (after the last delivery in the regular view). */
  transitional(id: string, members: ReadonlySet<string>): Notice[] {
    this.#transitional = { id, members, ops: [] };
    return [];
  }

  /** An operation was delivered, in the regular view or (`transitional`) in the transitional configuration. */
  deliver(op: Operation, transitional: boolean): Notice[] {
    if (op.kind === "synced") {
      const wasOpen = this.#open();
      this.#unsynced.delete(op.member);
      const out: Notice[] = [{ type: "synced", member: op.member }];
      if (!transitional && !wasOpen && this.#open() && this.#round.state === "complete") this.#release(out);
      return out;
    }
    if (op.kind === "hello") return transitional ? [] : this.#hello(op);
    if (transitional) {
      this.#transitional?.ops.push(op);
      return this.#transitional === undefined ? [{ type: "dropped", ops: [op] }] : [];
    }
    const r = this.#round;
    if (r.state === "pending") {
      r.deferred.push(op);
      return [];
    }
    if (r.state === "inactive" || this.replica === undefined) return [{ type: "dropped", ops: [op] }];
    if (!this.#open()) {
      this.#held.push(op);
      return [];
    }
    return [{ type: "effects", effects: applyStateOp(this.replica, op) }];
  }

  /** A majority holds the group's data now: free the locks the round freed, apply what waited. */
  #release(out: Notice[]): void {
    if (this.#evictHeld) this.#evict(out);
    this.#evictHeld = false;
    const held = this.#held;
    this.#held = [];
    if (this.replica !== undefined) this.#apply(held, out);
  }

  /** A regular view is installed: the end of the previous configuration, then the start of this one. */
  install(next: FollowerView): Notice[] {
    const out: Notice[] = [];
    const prev = this.view;
    const t = this.#transitional;
    this.#transitional = undefined;
    const wasSettled = this.#round.state === "complete" && prev?.primary === true && this.#open();
    if (this.#round.state === "pending") out.push({ type: "dropped", ops: this.#round.deferred });
    if (this.#held.length > 0) out.push({ type: "dropped", ops: this.#held });
    this.#held = [];
    this.#evictHeld = false;
    if (t !== undefined && t.ops.length > 0) {
      if (wasSettled && next.primary && this.replica !== undefined) this.#apply(t.ops, out, t.members);
      else out.push({ type: "dropped", ops: t.ops });
    }
    if (this.epoch !== null && t !== undefined) this.epoch = nextEpoch(this.epoch, t.id);
    this.view = next;
    const continues = prev !== undefined && t !== undefined && wasSettled && next.primary &&
      this.replica !== undefined && sameSet(t.members, next.members) &&
      ![...next.members].some((m) => this.#unsynced.has(m));
    this.#unsynced = new Set([...this.#unsynced].filter((m) => next.members.has(m)));
    if (continues) {
      this.#round = { state: "complete" };
      this.#evict(out);
    } else if (!next.primary) {
      this.#round = { state: "inactive" };
    } else {
      this.#round = { state: "pending", hellos: new Map(), deferred: [] };
      out.push({ type: "round", view: next.id });
    }
    return out;
  }

  /** This member left the group (its last transitional configuration leads nowhere): nothing more is applied. */
  left(): Notice[] {
    const out: Notice[] = [];
    if (this.#round.state === "pending") out.push({ type: "dropped", ops: this.#round.deferred });
    if (this.#held.length > 0) out.push({ type: "dropped", ops: this.#held });
    this.#held = [];
    if (this.#transitional !== undefined && this.#transitional.ops.length > 0) {
      out.push({ type: "dropped", ops: this.#transitional.ops });
    }
    this.#transitional = undefined;
    this.#round = { state: "inactive" };
    return out;
  }

  #hello(h: HelloOp): Notice[] {
    const r = this.#round;
    const view = this.view;
    if (r.state !== "pending" || view === undefined || h.view !== view.id || !view.members.has(h.member)) {
      return [];
    }
    r.hellos.set(h.member, h);
    if (r.hellos.size < view.members.size) return [];
    return this.#complete(view, r.hellos, r.deferred);
  }

  /** The last hello is in: decide, merge into the kept replica, apply what waited. */
  #complete(view: FollowerView, hellos: Map<string, HelloOp>, deferred: StateOp[]): Notice[] {
    const decision = decideRound(view.id, [...hellos.values()]);
    const out: Notice[] = [];
    this.#round = { state: "complete" };
    this.#unsynced = new Set(decision.pullers);
    const puller = decision.pullers.includes(this.me);
    if (puller) {
      // The kept replica, snapshot and all, comes from the kept class; deferred operations are in it.
      const previous = this.replica;
      this.replica = undefined;
      this.epoch = null;
      out.push({ type: "decided", decision, puller, previous, held: this.#open() ? [] : deferred });
      return out;
    }
    if (decision.keptEpoch === null) {
      this.replica = emptyReplica();
      this.epoch = originEpoch("empty", view.id);
    }
    const replica = this.replica!;
    const effects: Effect[] = [];
    mergeRound(replica, decision, effects);
    out.push({ type: "effects", effects });
    if (this.#open()) {
      this.#evict(out);
      this.#apply(deferred, out);
    } else {
      this.#held = [...deferred];
      this.#evictHeld = true;
    }
    out.push({ type: "decided", decision, puller });
    return out;
  }

  #apply(ops: readonly StateOp[], out: Notice[], movers?: ReadonlySet<string>): void {
    if (ops.length === 0) return;
    const effects: Effect[] = [];
    for (const op of ops) effects.push(...applyStateOp(this.replica!, op));
    out.push(movers === undefined ? { type: "effects", effects } : { type: "effects", effects, movers });
  }

  /** Frees the locks of owners that are not in the view (the next waiter gets each). */
  #evict(out: Notice[]): void {
    const replica = this.replica;
    if (replica === undefined || replica.locks.size === 0) return;
    const effects: Effect[] = [];
    for (const { name, state, granted } of evictLocks(replica.locks, this.view!.members)) {
      setLock(replica, name, state, effects);
      if (granted !== undefined) effects.push({ type: "granted", name, holder: granted });
    }
    if (effects.length > 0) out.push({ type: "effects", effects });
  }
}

/** The round's merge into a kept replica: the merged locks and sessions, and the raised clock. */
function mergeRound(replica: Replica, d: RoundDecision, out: Effect[]): void {
  for (const [name, state] of d.locks) {
    if (!sameLock(replica.locks.get(name), state)) setLock(replica, name, state, out);
  }
  replica.sessions = new Map(d.sessions);
  if (d.clock > replica.clock) replica.clock = d.clock;
}

function sameLock(a: LockState | undefined, b: LockState): boolean {
  return a !== undefined && a.fence === b.fence && a.holder?.request === b.holder?.request &&
    a.waiting.length === b.waiting.length && a.waiting.every((w, i) => w.request === b.waiting[i].request);
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
