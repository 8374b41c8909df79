/**
 * The Group Data Manager's core: a pure state machine in the shape of the GCM's ring (raft's
 * Ready/Advance). Events go in — a delivered batch of operations, a regular view, a transitional
 * configuration, a leave, a direct message (snapshot chunk, resume request, durability ack), the
 * outcome of a direct send or of a storage write, a timer, a request of the application — and
 * {@link CoreAction}s come out ({@link GdmCore.ready}): multicast, send, set a timer, notify, settle,
 * persist. No clock, no promise, no I/O: the driver (`driver.ts`) does those and feeds outcomes back.
 *
 * Jobs, each in a file of its own: following views and rounds (`follower.ts`, `round.ts`), applying
 * operations (`replica.ts`, `items.ts`, `locks.ts`, `sessions.ts`), requests (`requests.ts`), state
 * transfer (`pull.ts`, `transfer.ts`), group commit (`commits.ts`), the wire (`codec.ts`). This file
 * wires them: it issues requests when this member may, routes deliveries through the follower, runs
 * transfers, and turns effects into notifications, settlements and commits.
 * @module
 */
import type { DeliveryLevel } from "../gcm/types.ts";
import { DecodeError } from "../base/errors.ts";
import type { CoreAction, Notification, TimerName } from "./actions.ts";
import { type Chunk, decodeDirect, decodeOperations, encodeDirect, encodeOperations } from "./codec.ts";
import { originEpoch } from "./epoch.ts";
import {
  GdmClosedError,
  LockTimeoutError,
  NotLockOwnerError,
  OutcomeUnknownError,
  ReplicaDivergedError,
  StorageError,
  TransactionAbortedError,
} from "./errors.ts";
import { Follower, type FollowerView, type Notice } from "./follower.ts";
import { newerItem } from "./items.ts";
import { GroupCommits } from "./commits.ts";
import { FREE_LOCK } from "./locks.ts";
import {
  type Item,
  type LockState,
  memberKey,
  nodeOf,
  nodeOfIssuer,
  type ReadSpec,
  type WriteSpec,
} from "./model.ts";
import { type HelloOp, isStateOp, operationId, type StateOp } from "./operations.ts";
import { Pull, Serving } from "./pull.ts";
import { digestReplica, type Effect, type Replica } from "./replica.ts";
import { type Durability, failureError, type Request, RequestBook, type RequestKind } from "./requests.ts";
import type { RoundDecision } from "./round.ts";
import { failureOf, wasApplied } from "./sessions.ts";
import { sameStamp, type Stamp } from "./stamp.ts";
import type { StorageWriteResult, StoredState } from "./storage.ts";
import { itemBytes, Snapshot } from "./transfer.ts";

/**
 * How far a restarted member's Lamport clock starts above what it stored: more than the operations
 * it can have applied (and not yet stored) between two commits, so its first writes are newer than
 * every write it saw before the restart.
 */
export const RESTART_CLOCK_MARGIN = 1 << 20;
/** After a failed commit, the next one waits this long unless a request waits for it. */
const COMMIT_RETRY_MS = 500;

/** The settings of a core (see `options.ts` for the options they come from). */
export interface CoreSettings {
  /** This node's ID. */
  nodeId: string;
  /** The GCM incarnation at the start. */
  incarnation: number;
  /** This GDM's identity as the issuer of operations (`nodeId#nonce`, kept across the GCM's rejoins). */
  issuer: string;
  /** Default delivery level of writes. */
  level: DeliveryLevel;
  /** Default durability of writes. */
  durability: Durability;
  /** Quorum policy: only a primary component applies operations and grants locks. */
  quorum: boolean;
  /**
   * Quorum policy: how many members of a view must hold the group's data for it to apply operations
   * (more than half the expected group); 0 without the policy.
   */
  majority: number;
  /** Size of a snapshot chunk, bytes. */
  chunkBytes: number;
  /** A transfer source is given up after this long without a chunk, ms. */
  pullTimeoutMs: number;
  /** Largest batch of operations in one multicast, bytes (about). */
  maxOpBytes: number;
  /** Whether a storage adapter is attached. */
  storage: boolean;
  /** What the storage adapter loaded. */
  initial?: StoredState;
}

/** A regular view as the core takes it. */
export interface ViewInput {
  /** The GCM's view ID. */
  id: string;
  /** Members, `nodeId#incarnation`. */
  members: readonly string[];
  /** Quorum policy: whether the view is a primary component. */
  inQuorum: boolean;
  /** This member's GCM incarnation now (a new one after a health-check rejoin). */
  incarnation: number;
}

/** A request of the application. */
export type RequestSpec =
  | {
    kind: "write" | "transaction";
    writes: readonly WriteSpec[];
    reads?: readonly ReadSpec[];
    level?: DeliveryLevel;
    durability?: Durability;
  }
  | { kind: "lock"; name: string; timeoutMs: number; durability?: Durability }
  | { kind: "unlock"; name: string; durability?: Durability }
  | { kind: "merge"; items: readonly (readonly [string, Item])[] }
  /** Waits for the next group commit (everything applied so far is then written). */
  | { kind: "flush" };

/** Diagnostics of a core. */
export interface CoreStats {
  /** State operations applied here. */
  applied: number;
  /** Snapshots sent to pullers. */
  served: number;
  /** Snapshots received from sources. */
  received: number;
  /** Pulls started. */
  pulls: number;
  /** Messages that did not decode. */
  decodeErrors: number;
  /** Rounds where replicas that must be equal announced different digests (a bug). */
  diverged: number;
}

type Status = "running" | "detached" | "closed";

/** The GDM core of one member. */
export class GdmCore {
  readonly #s: CoreSettings;
  #out: CoreAction[] = [];
  #status: Status = "running";
  /** This member, `nodeId#incarnation`. */
  #member: string;
  #follower: Follower;
  /** The replica is a stale copy (loaded from storage, kept over a leave): merged back quietly. */
  #stale: boolean;
  /** This member holds the group's data (a `synced` notification marks each time it starts to). */
  #holdsGroupData = false;
  /** Highest Lamport counter issued or loaded here. */
  #lamport: number;
  #n = 0;
  #nextRequest = 1;
  readonly #requests = new RequestBook();
  #outbox: Request[] = [];
  #flushArmed = false;
  #nextTag = 1;
  readonly #tags = new Map<number, Request[]>();
  /** Requests held or dropped, for the next time this member can issue (in request order then). */
  readonly #toIssue = new Set<Request>();
  /** The GCM refused a multicast (it is leaving): nothing is sent again before the next view. */
  #refused = false;
  /** Lock requests withdrawn (time-out, abort) and grants being released: not held any more. */
  readonly #letGo = new Set<string>();
  // ---- transfers
  #pull: Pull | undefined;
  #pullSeen = 0;
  #refusals = 0;
  #serving: Serving | undefined;
  readonly #sending = new Map<number, { serving: Serving; puller: string; n: number }>();
  #early: Chunk[] = [];
  /** What this member held before it became a puller (its versions the group may lack). */
  #old: { replica: Replica; stale: boolean } | undefined;
  /** Versions of ours the group lacks, shown and stored until our merge of them is applied. */
  #overlay: Map<string, Item> | undefined;
  // ---- storage
  readonly #commits = new GroupCommits();
  /**
   * What issuers may wait for our copy of on disk — operations of theirs applied here, and grants of
   * their lock requests (`grant`) — for the next commit…
   */
  #acksNext: Ack[] = [];
  /** …and those of the commit being written, by commit. */
  readonly #acksInFlight = new Map<number, Ack[]>();
  /** Acknowledgements that came before our own operation (or grant) was applied here. */
  readonly #earlyAcks = new Map<string, Set<string>>();
  /** Acknowledgements with the Transport Manager, by send tag. */
  readonly #ackSends = new Map<number, Ack[]>();
  #storageBroken = false;
  #commitRetry = false;
  /** Diagnostics. */
  readonly stats: CoreStats = { applied: 0, served: 0, received: 0, pulls: 0, decodeErrors: 0, diverged: 0 };

  /** A core with `settings`; its replica is what storage loaded (a stale copy) or nothing yet. */
  constructor(settings: CoreSettings) {
    this.#s = settings;
    this.#member = memberKey(settings.nodeId, settings.incarnation);
    const init = settings.initial;
    const loaded = init !== undefined && (init.items.length > 0 || init.locks.length > 0);
    let clock = init?.clock ?? 0;
    for (const [, it] of init?.items ?? []) if (it.stamp[0] > clock) clock = it.stamp[0];
    for (const [, l] of init?.locks ?? []) if (l.fence > clock) clock = l.fence;
    this.#lamport = init === undefined ? 0 : clock + RESTART_CLOCK_MARGIN;
    const replica: Replica | undefined = loaded
      ? {
        items: new Map(init.items),
        locks: new Map(init.locks),
        clock: this.#lamport,
        applied: init.applied,
        sessions: new Map(),
      }
      : undefined;
    this.#stale = loaded;
    this.#follower = new Follower(
      this.#member,
      replica,
      originEpoch("stored", this.#member),
      settings.majority,
    );
    for (const p of init?.problems ?? []) this.#notify({ event: "error", error: new StorageError(p) });
  }

  /** The actions produced since the last call (the driver carries them out in order). */
  ready(): CoreAction[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  // ==== reads ======================================================================================

  /** This member, `nodeId#incarnation`. */
  get member(): string {
    return this.#member;
  }

  /** Whether this replica holds the group's data in the current view (round complete, no transfer). */
  get synced(): boolean {
    return this.#status === "running" && this.#follower.replica !== undefined && this.#follower.settled &&
      this.#pull === undefined;
  }

  /** Whether operations are applied here now (synced, and in a primary component with the quorum policy). */
  get applying(): boolean {
    return this.#status === "running" && this.#follower.applying && this.#pull === undefined;
  }

  /** The transfer under way here: its source and progress (diagnostics). */
  get transfer(): { from: string; chunks: number; buffered: number } | undefined {
    const p = this.#pull;
    return p === undefined
      ? undefined
      : { from: p.source, chunks: p.receiver.progress.chunks, buffered: p.buffer.length };
  }

  /** Requests not settled yet: kind, where each is, its operation number (diagnostics). */
  get pending(): Array<{ kind: string; state: string; n?: number; lock?: string; waitsFor?: string[] }> {
    return [...this.#requests.all()].map((r) => ({
      kind: r.kind,
      state: r.state,
      n: r.op?.n,
      lock: r.lock,
      ...(r.acks === undefined ? {} : { waitsFor: [...r.acks.needed].filter((m) => !r.acks!.have.has(m)) }),
      ...(r.onDisk === false && r.state === "applied" && r.outcome !== undefined ? { disk: true } : {}),
    }));
  }

  /** The replica reads come from: the group's, or while pulling the copy this member had. */
  #readable(): Replica | undefined {
    return this.#follower.replica ?? this.#old?.replica;
  }

  /** The version of `key` the application sees. */
  item(key: string): Item | undefined {
    const it = this.#readable()?.items.get(key);
    const o = this.#overlay?.get(key);
    return o === undefined ? it : newerItem(it, o);
  }

  /** Every key with a version (tombstones included). */
  *keys(): IterableIterator<string> {
    const r = this.#readable();
    if (r !== undefined) yield* r.items.keys();
    if (this.#overlay !== undefined) { for (const k of this.#overlay.keys()) if (!r?.items.has(k)) yield k; }
  }

  /** The state of lock `name` here. */
  lock(name: string): LockState {
    return this.#readable()?.locks.get(name) ?? FREE_LOCK;
  }

  /** Whether this member holds lock `name` now (granted, not being released, in a settled view). */
  holds(name: string): boolean {
    const h = this.#follower.replica?.locks.get(name)?.holder;
    return this.applying && h !== undefined && h.owner === this.#member && !this.#letGo.has(h.request);
  }

  /** Highest Lamport counter applied here. */
  get clock(): number {
    return this.#readable()?.clock ?? 0;
  }

  /** Whether a commit is under way or due (close waits for none to be). */
  get committing(): boolean {
    return this.#commits.busy;
  }

  // ==== requests ===================================================================================

  /** Makes a request; returns its number (the driver settles its promise on a `settle` action). */
  request(spec: RequestSpec): number {
    const id = this.#nextRequest++;
    if (this.#status === "closed") {
      this.#settle(id, undefined, closedError(spec.kind));
      return id;
    }
    if (spec.kind === "flush") {
      if (!this.#s.storage) this.#settle(id, undefined, undefined);
      else {
        const r = this.#add(id, "flush", "agreed", "written", undefined, false, () => {
          throw new Error("a flush is not an operation");
        });
        r.state = "applied";
        r.outcome = {};
        this.#commits.wait(r);
      }
    } else if (spec.kind === "unlock") {
      const h = this.#follower.replica?.locks.get(spec.name)?.holder;
      if (h === undefined || h.owner !== this.#member || this.#letGo.has(h.request)) {
        this.#settle(
          id,
          undefined,
          new NotLockOwnerError(spec.name, h === undefined ? null : nodeOf(h.owner)),
        );
        return id;
      }
      this.#letGo.add(h.request);
      this.#add(id, "unlock", "agreed", spec.durability, spec.name, false, (n, stamp, owner) => ({
        kind: "unlock",
        issuer: this.#s.issuer,
        n,
        stamp,
        name: spec.name,
        owner,
        request: h.request,
      }));
    } else if (spec.kind === "lock") {
      const r = this.#add(id, "lock", "agreed", spec.durability, spec.name, false, (n, stamp, owner) => ({
        kind: "lock",
        issuer: this.#s.issuer,
        n,
        stamp,
        name: spec.name,
        owner,
      }));
      r.timeoutMs = spec.timeoutMs;
      if (Number.isFinite(spec.timeoutMs)) this.#timer(`lock:${id}`, spec.timeoutMs);
    } else if (spec.kind === "merge") {
      this.#add(id, "merge", "agreed", "memory", undefined, false, this.#buildMerge(spec.items, false));
    } else {
      const { writes, reads } = spec;
      this.#add(
        id,
        spec.kind,
        spec.level ?? this.#s.level,
        spec.durability,
        undefined,
        false,
        (n, stamp) => ({
          kind: "write",
          issuer: this.#s.issuer,
          n,
          stamp,
          writes,
          ...(reads === undefined ? {} : { reads }),
        }),
      );
    }
    this.#afterEvent();
    return id;
  }

  /**
   * Gives up request `id` with `error` (an abort): its promise rejects now. Not sent yet: it never
   * is. A lock request is withdrawn (released if granted meanwhile); a write already sent may still
   * be applied.
   */
  abort(id: number, error: Error): void {
    const r = this.#requests.get(id);
    if (r === undefined || r.abandoned) return;
    this.#giveUp(r, error);
    this.#afterEvent();
  }

  #buildMerge(items: readonly (readonly [string, Item])[], quiet: boolean) {
    return (n: number, stamp: Stamp): StateOp => ({
      kind: "merge",
      issuer: this.#s.issuer,
      n,
      stamp,
      items,
      quiet,
    });
  }

  #add(
    id: number,
    kind: RequestKind,
    level: DeliveryLevel,
    durability: Durability | undefined,
    lock: string | undefined,
    internal: boolean,
    build: Request["build"],
  ): Request {
    const r: Request = {
      id,
      kind,
      // With the quorum policy every operation is safe: a primary component applies only what every
      // member holds, so whatever it applied survives the next membership change.
      level: this.#s.quorum ? "safe" : level,
      durability: durability ?? this.#s.durability,
      build,
      lock,
      internal,
      state: "held",
    };
    this.#requests.add(r);
    this.#toIssue.add(r);
    return r;
  }

  #giveUp(r: Request, error: Error): void {
    r.abandoned = true;
    this.#settle(r.id, undefined, error);
    if (r.kind === "lock") this.#timer(`lock:${r.id}`, -1);
    if (r.state === "held") {
      this.#requests.remove(r);
      return;
    }
    if (r.kind === "lock" && r.op !== undefined) {
      // Withdraw it: a grant that comes meanwhile is released by the withdrawal.
      const request = operationId(r.op);
      this.#letGo.add(request);
      const id = this.#nextRequest++;
      this.#add(id, "cancel", "agreed", "memory", r.lock, true, (n, stamp, owner) => ({
        kind: "cancel",
        issuer: this.#s.issuer,
        n,
        stamp,
        name: r.lock!,
        owner,
        request,
      }));
    }
  }

  // ==== events from the GCM ========================================================================

  /** A regular view was installed. */
  view(v: ViewInput): void {
    if (this.#status === "closed") return;
    this.#refused = false; // a multicast refused in the last view may go in this one
    const me = memberKey(this.#s.nodeId, v.incarnation);
    const rejoined = me !== this.#member || this.#status === "detached";
    if (rejoined) this.#rejoined(me);
    this.#endTransfers();
    const fv: FollowerView = {
      id: v.id,
      members: new Set(v.members),
      primary: this.#s.quorum ? v.inQuorum : true,
    };
    this.#handle(this.#follower.install(fv));
    // After a rejoin this is not the view that followed the transitional configuration.
    this.#decideUntilView(
      fv.primary && !rejoined,
      rejoined
        ? "this member rejoined as a new incarnation since"
        : "this member is not in a primary component",
    );
    this.#afterEvent();
  }

  /**
   * Quorum policy, the view after a transitional configuration that left members behind: in a primary
   * component the movers applied what they delivered, so the operations waiting for it count their
   * acknowledgements as before; outside one (or after a rejoin), nobody here can tell whether the
   * primary component keeps them (the members left behind may have applied them, or not): their
   * outcome is unknown.
   */
  #decideUntilView(primary: boolean, why: string): void {
    for (const r of [...this.#requests.all()]) {
      if (r.acks?.untilView !== true) continue;
      r.acks.untilView = false;
      if (primary) {
        this.#maybeDurable(r);
        continue;
      }
      const error = new OutcomeUnknownError(
        `the group changed before every member had this ${r.kind} on disk, and ${why}: whether the group ` +
          "keeps it is unknown — read it after the next `synced` event",
      );
      if (r.kind === "lock") this.#giveUp(r, error); // withdrawn: released if the primary granted it
      else this.#settle(r.id, undefined, error);
      this.#finish(r);
    }
  }

  /** A transitional configuration began (the members moving on together). */
  transitional(id: string, members: readonly string[]): void {
    if (this.#status !== "running") return;
    this.#endTransfers();
    const movers = new Set(members);
    // Durability acknowledgements can only come from the members moving on with this one: by EVS they
    // delivered what it did; the others may never apply the operation, so nobody waits for them. With
    // the quorum policy that is not enough: the movers apply what they delivered here only if the next
    // view is a primary component, so an operation some member was left behind for waits for that view.
    for (const r of [...this.#requests.all()]) {
      if (r.acks === undefined) continue;
      for (const m of r.acks.needed) {
        if (movers.has(m)) continue;
        r.acks.needed.delete(m);
        if (this.#s.quorum) r.acks.untilView = true;
      }
      this.#maybeDurable(r);
    }
    this.#handle(this.#follower.transitional(id, movers));
    this.#afterEvent();
  }

  /** A batch of operations was delivered, in the regular view or in the transitional configuration. */
  deliver(data: Uint8Array, transitional: boolean): void {
    if (this.#status !== "running") return;
    const ops = this.#decoded(decodeOperations, data);
    if (ops === undefined) return;
    for (const op of ops) {
      if (isStateOp(op) && op.issuer === this.#s.issuer) {
        const r = this.#requests.byOp(op.n);
        if (r !== undefined && r.state === "sent") r.state = "seen";
      }
      if (this.#pull !== undefined && !transitional) this.#pull.buffer.push(op);
      this.#handle(this.#follower.deliver(op, transitional));
    }
    this.#afterEvent();
  }

  /**
   * This member left the group. `rejoins`: a health check took it out and the GCM comes back by
   * itself (as a new incarnation); the replica stays, readable but stale, and requests wait. Otherwise
   * the GDM is done.
   */
  left(rejoins: boolean): void {
    if (this.#status !== "running") return;
    this.#handle(this.#follower.left());
    this.#endTransfers();
    if (!rejoins) {
      this.close(new GdmClosedError("this node left the group"));
      return;
    }
    this.#status = "detached";
    this.#holdsGroupData = false;
    for (const r of this.#requests.all()) {
      // What the GCM had not put on the token yet is gone with its incarnation: send it again later.
      if (r.state === "sent") {
        r.state = "seen";
        this.#toIssue.add(r);
      }
    }
    for (const r of [...this.#requests.all()]) {
      if (r.op === undefined || r.outcome !== undefined) continue;
      // Lock operations name this incarnation, which the group evicts: they are void.
      if (r.kind === "lock") {
        this.#giveUpQuietly(
          r,
          new GdmClosedError(
            `this node left the group (a health check failed), so its request for lock "${r.lock}" was withdrawn; ` +
              "the node rejoins by itself once healthy: lock again after the GDM's `synced` event",
          ),
        );
      } else if (r.kind === "unlock") this.#giveUpQuietly(r, new NotLockOwnerError(r.lock ?? "", null));
      else if (r.kind === "cancel") this.#finish(r);
    }
    this.#afterEvent();
  }

  #giveUpQuietly(r: Request, error: Error): void {
    this.#timer(`lock:${r.id}`, -1);
    this.#settle(r.id, undefined, error);
    this.#requests.remove(r);
  }

  /** The GCM rejoined as `me` (a new incarnation): a new member, with the replica as a stale copy. */
  #rejoined(me: string): void {
    this.#member = me;
    const replica = this.#follower.replica;
    this.#follower = new Follower(me, replica, originEpoch("stale", me), this.#s.majority);
    this.#stale = replica !== undefined;
    this.#status = "running";
    this.#holdsGroupData = false;
    this.#letGo.clear();
  }

  /** Stops for good: every request waiting rejects with `error` (GdmClosedError by default). */
  close(error: Error = new GdmClosedError()): void {
    if (this.#status === "closed") return;
    this.#status = "closed";
    this.#endTransfers();
    for (const r of [...this.#requests.all()]) {
      if (r.kind === "lock") this.#timer(`lock:${r.id}`, -1);
      this.#settle(
        r.id,
        undefined,
        r.kind === "transaction"
          ? new TransactionAbortedError("left", error.message, { cause: error })
          : error,
      );
      this.#requests.remove(r);
    }
    this.#outbox = [];
    this.#timer("flush", -1);
    this.#timer("commit", -1);
    this.#maybeCommit();
  }

  // ==== direct messages and outcomes ===============================================================

  /** A direct message from node `from`. */
  direct(from: string, data: Uint8Array): void {
    if (this.#status !== "running") return;
    const m = this.#decoded(decodeDirect, data);
    if (m === undefined) return;
    switch (m.kind) {
      case "chunk":
        this.#chunk(m.chunk);
        break;
      case "resume":
        this.#resume(from, m.view, m.member, m.from);
        break;
      case "refuse":
        if (this.#pull?.view.id === m.view && ++this.#refusals < this.#pull.decision.kept.length) {
          this.#askNext();
        }
        break;
      case "durable":
        if (m.issuer !== this.#s.issuer) break;
        for (const n of m.ns) this.#acked(n, false, m.member);
        for (const n of m.grants) this.#acked(n, true, m.member);
        break;
    }
    this.#afterEvent();
  }

  /** The outcome of a direct send with `tag`. */
  sent(tag: string, ok: boolean): void {
    if (tag.startsWith("a")) {
      this.#ackSent(Number(tag.slice(1)), ok);
      this.#afterEvent();
      return;
    }
    const t = this.#sending.get(Number(tag.slice(1)));
    if (t === undefined) return;
    this.#sending.delete(Number(tag.slice(1)));
    const out = t.serving.transfers.get(t.puller);
    if (out === undefined || t.serving !== this.#serving) return;
    out.inFlight = false;
    if (!ok) {
      t.serving.transfers.delete(t.puller); // the puller asks again (it has a watchdog)
      return;
    }
    if (out.next === t.n) out.next = t.n + 1;
    if (out.next >= t.serving.snapshot.chunks) {
      t.serving.transfers.delete(t.puller);
      this.stats.served++;
      return;
    }
    this.#pump(t.serving, t.puller);
    this.#afterEvent();
  }

  /** The GCM refused the multicast with `tag` (this member left, or it was too large). */
  multicastFailed(tag: number, error: Error, tooLarge: boolean): void {
    const reqs = this.#tags.get(tag);
    this.#tags.delete(tag);
    for (const r of reqs ?? []) {
      if (r.state !== "sent") continue;
      if (tooLarge) {
        this.#settle(r.id, undefined, error);
        this.#requests.remove(r);
      } else {
        // Never ordered (the GCM is leaving the group): sent again once this member can issue, after
        // the next view — not at once, which would only meet the same refusal.
        r.state = "seen";
        this.#toIssue.add(r);
        this.#refused = true;
      }
    }
    this.#afterEvent();
  }

  /** Timer `name` fired. */
  timer(name: TimerName): void {
    if (name === "flush") {
      this.#flushArmed = false;
      this.#flush();
    } else if (name === "watchdog") this.#watchdog();
    else if (name === "commit") {
      this.#commitRetry = true;
    } else {
      const r = this.#requests.get(Number(name.slice(5)));
      if (r !== undefined && r.kind === "lock" && !r.abandoned && r.outcome === undefined) {
        this.#giveUp(r, new LockTimeoutError(r.lock!, r.timeoutMs ?? 0));
      }
    }
    this.#afterEvent();
  }

  /** Group commit `id` is stored. */
  stored(id: number, result: StorageWriteResult | void): void {
    this.#storageBroken = false;
    this.#sendAcks(this.#acksInFlight.get(id) ?? []);
    this.#acksInFlight.delete(id);
    for (const r of this.#commits.done(id)) this.#onDisk(r);
    if (result?.compact) this.#commits.replaceAll();
    this.#afterEvent();
  }

  /** Group commit `id` failed: the requests that waited for it reject; the changes go in the next. */
  storeFailed(id: number, cause: unknown): void {
    const error = new StorageError(`storage write failed: ${(cause as Error)?.message ?? String(cause)}`, {
      cause,
    });
    this.#acksNext.push(...(this.#acksInFlight.get(id) ?? []));
    this.#acksInFlight.delete(id);
    for (const r of this.#commits.failed(id)) {
      const stamp = r.kind === "write" || r.kind === "transaction" ? r.outcome?.value as Stamp : undefined;
      this.#settle(
        r.id,
        undefined,
        new StorageError(`${error.message}; the write is applied in memory`, { cause, stamp }),
      );
      this.#requests.remove(r);
    }
    this.#notify({ event: "error", error });
    this.#storageBroken = true;
    this.#timer("commit", COMMIT_RETRY_MS);
    this.#afterEvent();
  }

  // ==== the stream ===============================================================================

  #handle(notices: Notice[], quiet = false): void {
    for (const n of notices) {
      switch (n.type) {
        case "effects":
          this.#effects(n.effects, quiet, n.movers);
          break;
        case "dropped":
          for (const op of n.ops) {
            if (op.issuer !== this.#s.issuer) continue;
            const r = this.#requests.byOp(op.n);
            if (r !== undefined && r.state !== "applied") {
              r.state = "seen";
              this.#toIssue.add(r);
            }
          }
          break;
        case "round":
          this.#hello(n.view);
          break;
        case "decided":
          this.#decided(n.decision, n.puller, n.previous, n.held ?? []);
          break;
        case "synced":
          break;
      }
    }
  }

  #effects(effects: readonly Effect[], quiet: boolean, movers?: ReadonlySet<string>): void {
    for (const e of effects) {
      switch (e.type) {
        case "change": {
          const { key, old, item } = e.change;
          const o = this.#overlay?.get(key);
          const before = o === undefined ? old : newerItem(old, o);
          const after = o === undefined ? item : newerItem(item, o);
          if (this.#s.storage) this.#commits.item(key, after!);
          if (!quiet && after !== before) {
            this.#notify({ event: "change", key, old: before, item: after!, transfer: false });
          }
          break;
        }
        case "conflict":
          if (!quiet) {
            const c = e.conflict;
            this.#notify({ event: "conflict", key: c.key, winner: c.winner, loser: c.loser });
          }
          break;
        case "lock":
          if (this.#s.storage) this.#commits.lock(e.name, e.state);
          if (!quiet && e.old.holder?.request !== e.state.holder?.request) {
            this.#notify({ event: "lock", name: e.name, holder: e.state.holder });
          }
          break;
        case "granted": {
          // The requester may wait for every member's copy of the grant on disk.
          const issuer = e.holder.request.slice(0, e.holder.request.lastIndexOf("#"));
          const n = Number(e.holder.request.slice(issuer.length + 1));
          if (issuer !== this.#s.issuer) {
            if (this.#s.storage) this.#acksNext.push({ issuer, n, grant: true });
            else this.#sendAcks([{ issuer, n, grant: true }]);
          }
          if (e.holder.owner !== this.#member) break;
          const r = this.#requestOf(e.holder.request);
          if (r !== undefined && r.kind === "lock" && r.outcome === undefined) {
            r.outcome = { value: e.holder.fence };
            this.#applied(r, movers);
          }
          break;
        }
        case "outcome":
          if (!e.duplicate) this.stats.applied++;
          if (e.issuer === this.#s.issuer) this.#outcome(e, movers);
          else if (e.acks) {
            // Its issuer waits for our copy on disk (without storage, memory is all there is).
            if (this.#s.storage) this.#acksNext.push({ issuer: e.issuer, n: e.n, grant: false });
            else this.#sendAcks([{ issuer: e.issuer, n: e.n, grant: false }]);
          }
          break;
      }
    }
  }

  /** Our request whose operation has ID `request` (a lock request's ID). */
  #requestOf(request: string): Request | undefined {
    const prefix = `${this.#s.issuer}#`;
    if (!request.startsWith(prefix)) return undefined;
    return this.#requests.byOp(Number(request.slice(prefix.length)));
  }

  #outcome(e: Extract<Effect, { type: "outcome" }>, movers?: ReadonlySet<string>): void {
    const r = this.#requests.byOp(e.n);
    if (r === undefined || r.outcome !== undefined) return;
    const replica = this.#follower.replica!;
    const failure = e.duplicate ? failureOf(replica.sessions, e.issuer, e.n) : e.failure;
    if (failure !== undefined) r.outcome = { error: failureError(r, failure) };
    else if (r.kind === "lock") {
      const lock = replica.locks.get(r.lock!);
      const request = operationId(r.op!);
      if (lock?.holder?.request === request) r.outcome = { value: lock.holder.fence };
      else if (!lock?.waiting.some((w) => w.request === request)) {
        this.#askAgain(r); // applied elsewhere, then lost in a merge of lock states: ask again
        return;
      }
    } else if (r.kind === "write" || r.kind === "transaction") r.outcome = { value: r.op!.stamp };
    else r.outcome = {};
    if (r.kind === "merge" && r.internal) this.#merged(r.op!);
    if (r.kind === "cancel" && r.op?.kind === "cancel") this.#letGo.delete(r.op.request);
    if (r.kind === "unlock" && r.op?.kind === "unlock") this.#letGo.delete(r.op.request);
    // Applied elsewhere (another lineage, while this member was out): the members that applied it
    // told an earlier incarnation of this one, if anyone; it is durable here with the next commit.
    this.#applied(r, e.duplicate === true ? new Set() : movers);
  }

  /**
   * A lock request of ours that is neither granted nor waiting any more (a round merged lock states
   * and kept another side's waiters): it goes again as a new request.
   */
  #askAgain(r: Request): void {
    r.op = undefined;
    r.state = "held";
    this.#requests.reissue(r);
    this.#toIssue.add(r);
  }

  /**
   * After a round or a transfer: our operations delivered before it and not applied here (they waited
   * for a round whose replica was replaced, or went with a pull that ended) were applied with the
   * group's replica or not at all — its sessions say which, when this member can issue next.
   */
  #recheckSeen(): void {
    for (const r of this.#requests.all()) if (r.state === "seen") this.#toIssue.add(r);
  }

  /** After a round or a transfer: our queued lock requests that the merge dropped ask again. */
  #recheckLocks(): void {
    const replica = this.#follower.replica;
    if (replica === undefined) return;
    for (const r of [...this.#requests.all()]) {
      if (r.kind !== "lock" || r.state !== "applied" || r.outcome !== undefined || r.abandoned) continue;
      const lock = replica.locks.get(r.lock!);
      const request = operationId(r.op!);
      if (lock?.holder?.request === request) {
        r.outcome = { value: lock.holder.fence };
        this.#applied(r);
      } else if (!lock?.waiting.some((w) => w.request === request)) this.#askAgain(r);
    }
  }

  /** `r` was applied in this member's lineage: settle it now, or when it is as durable as asked. */
  #applied(r: Request, movers?: ReadonlySet<string>): void {
    r.state = "applied";
    if (r.outcome === undefined) return; // a queued lock request: its grant comes later
    if (r.kind === "lock") this.#timer(`lock:${r.id}`, -1);
    if (r.abandoned || r.internal) {
      this.#finish(r);
      return;
    }
    // With the quorum policy a refusal (a compare that failed) is as much a reading of the primary
    // component's state as a success: it too is reported only once the members have applied it.
    if (this.#s.storage && r.durability !== "memory" && (r.outcome.error === undefined || this.#s.quorum)) {
      if (r.op?.acks === true) {
        // Every member of the view that holds the group's data must say its copy is on disk (those
        // that leave the view drop out; one still pulling gets the operation with its snapshot).
        // A lock request counts the acknowledgements of its grant, the others those of the operation.
        const at = ackKey(r.op.n, r.kind === "lock");
        const have = this.#earlyAcks.get(at) ?? new Set<string>();
        this.#earlyAcks.delete(at);
        const unsynced = this.#follower.unsynced;
        const needed = new Set(
          [...(movers ?? this.#follower.view?.members ?? [])].filter((m) =>
            m !== this.#member && !unsynced.has(m)
          ),
        );
        r.acks = { needed, have };
      }
      this.#commits.wait(r);
      return;
    }
    this.#durable(r);
  }

  /** `r`'s change is on this member's disk. */
  #onDisk(r: Request): void {
    r.onDisk = true;
    this.#maybeDurable(r);
  }

  /** Settles `r` once it is on this member's disk and, if it asked for that, on every other member's. */
  #maybeDurable(r: Request): void {
    if (!r.onDisk || r.acks?.untilView === true) return;
    if (r.acks !== undefined && [...r.acks.needed].some((m) => !r.acks!.have.has(m))) return;
    this.#durable(r);
  }

  /** Member `member` has operation `n` of ours (the grant of lock request `n`: `grant`) on disk. */
  #acked(n: number, grant: boolean, member: string): void {
    const r = this.#requests.byOp(n);
    if (r !== undefined && (r.kind === "lock") !== grant) return; // not what this request waits for
    if (r?.acks !== undefined) {
      r.acks.have.add(member);
      this.#maybeDurable(r);
      return;
    }
    if (r === undefined || r.outcome !== undefined) return; // settled already, or not waiting for acks
    const early = this.#earlyAcks.get(ackKey(n, grant)) ?? new Set<string>();
    early.add(member);
    this.#earlyAcks.set(ackKey(n, grant), early);
    if (this.#earlyAcks.size > 65_536) this.#earlyAcks.delete(this.#earlyAcks.keys().next().value!);
  }

  /** Tells the issuers that these operations are on our disk. */
  #sendAcks(acks: readonly Ack[]): void {
    const byIssuer = new Map<string, { ns: number[]; grants: number[] }>();
    for (const { issuer, n, grant } of acks) {
      let e = byIssuer.get(issuer);
      if (e === undefined) byIssuer.set(issuer, e = { ns: [], grants: [] });
      (grant ? e.grants : e.ns).push(n);
    }
    for (const [issuer, { ns, grants }] of byIssuer) {
      const tag = this.#nextTag++;
      this.#ackSends.set(tag, acks.filter((a) => a.issuer === issuer));
      this.#out.push({
        type: "send",
        to: nodeOfIssuer(issuer),
        data: encodeDirect({ kind: "durable", member: this.#member, issuer, ns, grants }),
        tag: `a${tag}`,
      });
    }
  }

  /**
   * The outcome of sending acknowledgements: lost ones go again (after the next commit) while their
   * issuer is in the view — it may be waiting for them.
   */
  #ackSent(tag: number, ok: boolean): void {
    const acks = this.#ackSends.get(tag);
    this.#ackSends.delete(tag);
    if (ok || acks === undefined || this.#status !== "running") return;
    const members = this.#follower.view?.members ?? new Set<string>();
    const present = new Set([...members].map(nodeOf));
    for (const a of acks) if (present.has(nodeOfIssuer(a.issuer))) this.#acksNext.push(a);
  }

  #durable(r: Request): void {
    this.#settle(r.id, r.outcome?.value, r.outcome?.error);
    this.#finish(r);
  }

  #finish(r: Request): void {
    this.#requests.remove(r);
  }

  // ==== rounds =====================================================================================

  #hello(view: string): void {
    const f = this.#follower;
    const r = f.replica;
    const hello: HelloOp = {
      kind: "hello",
      view,
      member: this.#member,
      epoch: f.epoch,
      items: r?.items.size ?? 0,
      applied: r?.applied ?? 0,
      clock: Math.max(this.#lamport, r?.clock ?? 0),
      digest: r === undefined ? "" : digestReplica(r),
      stale: this.#stale,
      locks: r === undefined ? [] : [...r.locks],
      sessions: r === undefined ? [] : [...r.sessions],
    };
    this.#out.push({ type: "multicast", data: encodeOperations([hello]), level: "agreed", view, tag: 0 });
  }

  #decided(d: RoundDecision, puller: boolean, previous: Replica | undefined, held: readonly StateOp[]): void {
    if (d.diverged.length > 0) {
      this.stats.diverged++;
      this.#notify({
        event: "error",
        error: new ReplicaDivergedError(
          `replicas of class ${
            d.diverged.join(", ")
          } announced different digests in the round of view ${d.view}`,
        ),
      });
    }
    const view = this.#follower.view!;
    if (puller) {
      if (previous !== undefined) this.#keepOld(previous, this.#stale);
      this.#pull = new Pull(this.#member, view, d, this.#early.filter((c) => c.view === view.id), held);
      this.#early = [];
      this.#pullSeen = 0;
      this.#refusals = 0;
      this.stats.pulls++;
      this.#timer("watchdog", this.#s.pullTimeoutMs);
      if (this.#pull.receiver.complete) this.#finishPull();
      return;
    }
    this.#early = [];
    this.#stale = false;
    if (d.pullers.length > 0) {
      const serving = new Serving(new Snapshot(view.id, this.#follower.replica!, this.#s.chunkBytes));
      this.#serving = serving;
      for (const [p, source] of d.sourceOf) {
        if (source !== this.#member) continue;
        serving.start(p, nodeOf(p), 0);
        this.#pump(serving, p);
      }
    }
    if (this.#old !== undefined) this.#returnOld(); // a round where nobody had data: ours goes back in
    this.#recheckSeen();
    this.#recheckLocks();
    this.#becameSynced();
  }

  #becameSynced(): void {
    if (this.#holdsGroupData) return;
    this.#holdsGroupData = true;
    let n = 0;
    for (const k of this.keys()) if (this.item(k)?.value !== undefined) n++;
    this.#notify({ event: "synced", items: n });
  }

  #keepOld(replica: Replica, stale: boolean): void {
    if (this.#old === undefined) {
      this.#old = { replica, stale };
      return;
    }
    // Two copies to give back (a pull was abandoned, another started): keep the newer of each key.
    for (const [k, it] of replica.items) {
      const cur = this.#old.replica.items.get(k);
      if (newerItem(cur, it) === it) this.#old.replica.items.set(k, it);
    }
  }

  // ==== transfers ================================================================================

  /** A view ends (or a transitional configuration begins): transfers end with it. */
  #endTransfers(): void {
    if (this.#pull !== undefined) {
      this.#pull = undefined;
      this.#timer("watchdog", -1);
    }
    this.#serving = undefined;
    this.#sending.clear();
    this.#early = [];
  }

  #pump(serving: Serving, puller: string): void {
    const t = serving.transfers.get(puller);
    if (t === undefined || t.inFlight || t.next >= serving.snapshot.chunks) return;
    t.inFlight = true;
    const tag = this.#nextTag++;
    this.#sending.set(tag, { serving, puller, n: t.next });
    this.#out.push({
      type: "send",
      to: t.node,
      data: encodeDirect({ kind: "chunk", chunk: serving.snapshot.chunk(t.next) }),
      tag: `c${tag}`,
    });
  }

  #resume(from: string, view: string, puller: string, chunk: number): void {
    const serving = this.#serving;
    if (serving === undefined || serving.snapshot.view !== view) {
      this.#out.push({ type: "send", to: from, data: encodeDirect({ kind: "refuse", view }) });
      return;
    }
    serving.start(puller, from, chunk);
    this.#pump(serving, puller);
  }

  #chunk(c: Chunk): void {
    const pull = this.#pull;
    if (pull === undefined) {
      // Our round may complete after the source's (its hello came in later here): keep it.
      if (this.#follower.view?.id === c.view && !this.#follower.settled) this.#early.push(c);
      return;
    }
    if (c.view !== pull.view.id || !pull.receiver.add(c)) return;
    this.#refusals = 0;
    this.#notify({ event: "transfer", from: pull.source, progress: pull.receiver.progress, done: false });
    if (pull.receiver.complete) this.#finishPull();
  }

  /** No chunk for `pullTimeoutMs`: ask the next member of the kept class to resume. */
  #watchdog(): void {
    const pull = this.#pull;
    if (pull === undefined) return;
    const seen = pull.receiver.progress.chunks;
    if (seen === this.#pullSeen) this.#askNext();
    this.#pullSeen = seen;
    this.#timer("watchdog", this.#s.pullTimeoutMs);
  }

  #askNext(): void {
    const pull = this.#pull!;
    const to = pull.nextSource();
    this.#out.push({
      type: "send",
      to: nodeOf(to),
      data: encodeDirect({
        kind: "resume",
        view: pull.view.id,
        member: this.#member,
        from: pull.receiver.next,
      }),
    });
  }

  /**
   * The snapshot is complete: install it, replay what was delivered since the round, and show the
   * application the difference. Versions of ours the group lacks stay visible (and stored) and go
   * back into the group as a merge.
   */
  #finishPull(): void {
    const pull = this.#pull!;
    this.#pull = undefined;
    this.#timer("watchdog", -1);
    this.stats.received++;
    const f = Follower.afterRound(
      this.#member,
      pull.view,
      pull.decision,
      pull.receiver.replica(),
      this.#s.majority,
      pull.held,
    );
    const replay: Notice[] = [];
    for (const op of pull.buffer) replay.push(...f.deliver(op, false));
    const before = this.#readable();
    this.#follower = f;
    this.#handle(replay, true);
    const replica = f.replica!;
    if (this.#s.storage) this.#commits.replaceAll();
    for (const k of new Set([...(before?.items.keys() ?? []), ...replica.items.keys()])) {
      const was = before?.items.get(k);
      const now = newerItem(replica.items.get(k), this.#old?.replica.items.get(k));
      if (now !== undefined && now !== was) {
        this.#notify({ event: "change", key: k, old: was, item: now, transfer: true });
      }
    }
    for (const [name, l] of replica.locks) {
      if (before?.locks.get(name)?.holder?.request !== l.holder?.request) {
        this.#notify({ event: "lock", name, holder: l.holder });
      }
    }
    this.#notify({ event: "transfer", from: pull.source, progress: pull.receiver.progress, done: true });
    this.#stale = false;
    this.#out.push({
      type: "multicast",
      data: encodeOperations([{ kind: "synced", member: this.#member }]),
      level: "agreed",
      tag: 0,
    });
    if (this.#old !== undefined) this.#returnOld();
    this.#recheckSeen();
    this.#recheckLocks();
    this.#becameSynced();
  }

  /**
   * Our old versions go back into the group as a merge: those the group's replica lacks (shown and
   * stored here until the merge is applied), and — unless the copy is stale — those that lost to a
   * version written on the other side meanwhile, so that every replica reports the conflict.
   */
  #returnOld(): void {
    const old = this.#old!;
    this.#old = undefined;
    const replica = this.#follower.replica!;
    const back: Array<readonly [string, Item]> = [];
    const newer: Array<readonly [string, Item]> = [];
    for (const [k, it] of old.replica.items) {
      const cur = replica.items.get(k);
      if (it === cur) continue;
      if (newerItem(cur, it) === it) {
        newer.push([k, it]);
        back.push([k, it]);
      } else if (!old.stale && cur !== undefined && !related(it, cur)) back.push([k, it]);
    }
    if (back.length === 0) return;
    this.#overlay ??= new Map();
    for (const [k, it] of newer) this.#overlay.set(k, it);
    if (this.#overlay.size === 0) this.#overlay = undefined;
    for (const items of splitItems(back, this.#s.maxOpBytes)) {
      this.#add(
        this.#nextRequest++,
        "merge",
        "agreed",
        "memory",
        undefined,
        true,
        this.#buildMerge(items, old.stale),
      );
    }
  }

  /** Our merge was applied: the group holds those versions (or newer); they need no overlay. */
  #merged(op: StateOp): void {
    if (op.kind !== "merge" || this.#overlay === undefined) return;
    for (const [k, it] of op.items) if (this.#overlay.get(k) === it) this.#overlay.delete(k);
    if (this.#overlay.size === 0) this.#overlay = undefined;
  }

  // ==== issuing ==================================================================================

  /** After every event: issue what waits (when this member can), flush, commit. */
  #afterEvent(): void {
    if (this.#toIssue.size > 0 && !this.#refused && this.applying) this.#issue();
    this.#maybeCommit();
  }

  /**
   * This member can issue: requests whose copy was dropped go again unchanged (unless the replica's
   * sessions show they were applied elsewhere meanwhile), then held requests, stamped now.
   */
  #issue(): void {
    const replica = this.#follower.replica!;
    const due = [...this.#toIssue].sort((a, b) => a.id - b.id);
    this.#toIssue.clear();
    for (const r of due) {
      if (this.#requests.get(r.id) !== r) continue; // settled or given up meanwhile
      if (r.state === "seen" && r.op !== undefined) {
        if (r.abandoned && r.kind !== "lock") this.#finish(r); // nobody waits: not sent again
        else if (wasApplied(replica.sessions, this.#s.issuer, r.op.n)) {
          this.#outcome({ type: "outcome", issuer: this.#s.issuer, n: r.op.n, duplicate: true });
        } else this.#queue(r);
      } else if (r.state === "held") {
        this.#lamport = Math.max(this.#lamport, replica.clock) + 1;
        const n = ++this.#n;
        const built = r.build(n, [this.#lamport, this.#s.nodeId], this.#member);
        const op = r.level === "safe" && r.durability === "fsync" && this.#s.storage && !r.internal
          ? { ...built, acks: true }
          : built;
        this.#requests.issued(r, op);
        this.#queue(r);
      }
    }
  }

  #queue(r: Request): void {
    r.state = "queued";
    this.#outbox.push(r);
    if (!this.#flushArmed) {
      this.#flushArmed = true;
      this.#timer("flush", 0);
    }
  }

  /** Multicasts the outbox: consecutive requests of one level in batches of about `maxOpBytes`. */
  #flush(): void {
    const queue = this.#outbox;
    this.#outbox = [];
    let batch: Request[] = [];
    let bytes = 0;
    const send = () => {
      if (batch.length === 0) return;
      const tag = this.#nextTag++;
      this.#tags.set(tag, batch);
      if (this.#tags.size > 4096) this.#tags.delete(this.#tags.keys().next().value!);
      this.#out.push({
        type: "multicast",
        data: encodeOperations(batch.map((r) => r.op!)),
        level: batch[0].level,
        tag,
      });
      for (const r of batch) r.state = "sent";
      batch = [];
      bytes = 0;
    };
    for (const r of queue) {
      if (r.state !== "queued" || (r.abandoned && r.kind !== "lock")) {
        if (r.state === "queued" && r.abandoned) this.#finish(r);
        continue;
      }
      const size = opBytes(r.op!);
      if (batch.length > 0 && (batch[0].level !== r.level || bytes + size > this.#s.maxOpBytes)) send();
      batch.push(r);
      bytes += size;
    }
    send();
  }

  // ==== storage ====================================================================================

  #maybeCommit(): void {
    if (!this.#s.storage) return;
    if (this.#storageBroken && !this.#commitRetry) return;
    // Acknowledgements owed to issuers are made after a commit (fsync'd: they wait for disks).
    const next = this.#commits.next(
      this.clockToStore(),
      this.#readable()?.applied ?? 0,
      () => this.#whole(),
      this.#acksNext.length > 0,
    );
    if (next === undefined) return;
    this.#commitRetry = false;
    if (this.#acksNext.length > 0) {
      this.#acksInFlight.set(next.id, this.#acksNext);
      this.#acksNext = [];
    }
    this.#out.push({ type: "persist", id: next.id, batch: next.batch });
  }

  /** The Lamport clock a commit stores: everything applied or issued here. */
  clockToStore(): number {
    return Math.max(this.#lamport, this.#readable()?.clock ?? 0);
  }

  /** The whole replica as stored: the items the application sees, and the locks. */
  #whole(): { items: Map<string, Item>; locks: Map<string, LockState> } {
    const r = this.#readable();
    const items = new Map(r?.items ?? []);
    for (const [k, it] of this.#overlay ?? []) items.set(k, newerItem(items.get(k), it)!);
    return { items, locks: new Map(r?.locks ?? []) };
  }

  // ==== helpers ====================================================================================

  /** `decode(data)`, or undefined (counted) when the bytes are not a valid GDM message. */
  #decoded<T>(decode: (data: Uint8Array) => T, data: Uint8Array): T | undefined {
    try {
      return decode(data);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.stats.decodeErrors++;
      return undefined;
    }
  }

  #settle(request: number, value: unknown, error: Error | undefined): void {
    this.#out.push(
      error === undefined ? { type: "settle", request, value } : { type: "settle", request, error },
    );
  }

  #notify(notification: Notification): void {
    this.#out.push({ type: "notify", notification });
  }

  #timer(name: TimerName, delayMs: number): void {
    this.#out.push({ type: "timer", name, delayMs });
  }
}

/** An acknowledgement owed to an issuer: its operation `n`, or (`grant`) the grant of its lock request `n`. */
interface Ack {
  issuer: string;
  n: number;
  grant: boolean;
}

function ackKey(n: number, grant: boolean): string {
  return grant ? `g${n}` : `o${n}`;
}

/** Whether one of two versions directly replaced the other (an update, not a conflict). */
function related(a: Item, b: Item): boolean {
  return sameStamp(a.replaced, b.stamp) || sameStamp(b.replaced, a.stamp);
}

function closedError(kind: RequestKind): Error {
  const e = new GdmClosedError();
  return kind === "transaction" ? new TransactionAbortedError("left", e.message, { cause: e }) : e;
}

/** Rough encoded size of an operation (batching bound). */
function opBytes(op: StateOp): number {
  if (op.kind === "write") {
    let n = 64;
    for (const w of op.writes) {
      n += w.key.length + (w.value?.length ?? 0) +
        (w.patch === undefined ? 0 : "bytes" in w.patch ? w.patch.bytes.length : 256);
    }
    return n;
  }
  if (op.kind === "merge") {
    let n = 64;
    for (const [k, it] of op.items) n += itemBytes(k, it);
    return n;
  }
  return 128;
}

/** Splits items into batches of about `maxBytes` (one big item still goes alone). */
export function splitItems(
  items: ReadonlyArray<readonly [string, Item]>,
  maxBytes: number,
): Array<Array<readonly [string, Item]>> {
  const out: Array<Array<readonly [string, Item]>> = [];
  let cur: Array<readonly [string, Item]> = [];
  let bytes = 0;
  for (const e of items) {
    const size = itemBytes(e[0], e[1]);
    if (cur.length > 0 && bytes + size > maxBytes) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(e);
    bytes += size;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}
