/**
 * A simulated cluster of GCM nodes under one VirtualClock and one seeded Random: builds nodes on a
 * backend (the message-level fake, or the real stack GCM → TransportManager → SimNetwork), records
 * the run's history for the property checker, and offers the faults the scheduler injects.
 * @module
 */
import { VirtualClock } from "../../base/clock.ts";
import { Random } from "../../base/random.ts";
import type { MessageLayer } from "../../gcm/layer.ts";
import { GroupCommunicationManager } from "../../gcm/manager.ts";
import type { GcmOptions } from "../../gcm/options.ts";
import type { ViewMode } from "../../gcm/types.ts";
import { checkHistory, formatViolation } from "../evs/check.ts";
import type { History, LiveProc } from "../evs/history.ts";
import { Recorder } from "../evs/recorder.ts";
import { FakeNet } from "./fake_net.ts";

/** A network backend for the harness. */
export interface Backend {
  /** Creates the message layer of a (re)started node. */
  layer(id: string, incarnation: number, peers: readonly string[]): MessageLayer & { close(): void };
  /** Cuts a→b (and b→a unless oneWay). */
  cut(a: string, b: string, oneWay?: boolean): void;
  heal(a: string, b: string): void;
  healAll(): void;
  /** Ends loss, duplication and reordering (faults stop: Termination's premise). */
  calm(): void;
  /** Makes node `id` unreachable (its process is gone). */
  crash(id: string): void;
  /** Time after which the layer reports a delivery failure, worst case (ms). */
  readonly failureMs: number;
}

/** The message-level fake backend. */
export function fakeBackend(clock: VirtualClock, random: Random): Backend {
  const net = new FakeNet(clock, random, { min: 1, max: 4 }, 40);
  const layers = new Map<string, { close(): void }>();
  return {
    failureMs: 60,
    layer(id) {
      const l = net.layer(id);
      layers.set(id, l);
      return l;
    },
    cut: (a, b, oneWay) => net.cut(a, b, oneWay),
    heal: (a, b) => net.heal(a, b),
    healAll: () => net.healAll(),
    calm: () => {},
    crash(id) {
      layers.get(id)?.close();
    },
  };
}

/** One simulated node. */
export interface SimNode {
  id: string;
  /** The incarnation the harness started it with (a GCM that rejoins by itself takes the next ones). */
  inc: number;
  gcm: GroupCommunicationManager;
  layer: MessageLayer & { close(): void };
  alive: boolean;
  /** Messages this node has multicast through {@link Cluster.send}. */
  sent: number;
}

/** Options of a simulated cluster. */
export interface ClusterOptions {
  seed: number;
  /** @default {"three-phase"} */
  mode?: ViewMode;
  /** @default {fakeBackend} */
  backend?: (clock: VirtualClock, random: Random) => Backend;
  gcm?: Partial<Omit<GcmOptions, "layer" | "clock" | "incarnation" | "peers">>;
  /**
   * Listener faults (property 7): every node gets application listeners that throw on some
   * deliveries and views; each throw must come back as an `error` event. @default {false}
   */
  listenerFaults?: boolean;
  /** `timing.batchMs` of every node (a member with traffic keeps the token to batch). @default {0} */
  batchMs?: number;
  /** `timing.eatingMs` of every node (the idle hold; longer ones make members send wake-ups). @default {10} */
  eatingMs?: number;
}

/** What {@link Cluster.check} judges. */
export interface CheckOptions {
  /**
   * Declares the run over: Termination and Validity are judged on the live nodes, and once
   * {@link Cluster.beginQuietTail} was called, self-delivery and no loss in the quiet tail.
   * @default {false}
   */
  end?: boolean;
}

/** Share of deliveries and views on which a faulty listener throws. */
const THROW_SHARE = 0.05;

/** A simulated cluster. */
export class Cluster {
  readonly clock = new VirtualClock();
  /** A stream for a test's own draws (forked first: `faults` stays the stream every seed always had). */
  readonly random: Random;
  /** The stream a runner draws its schedule from. */
  readonly faults: Random;
  readonly backend: Backend;
  readonly nodes = new Map<string, SimNode>();
  readonly rec: Recorder;
  readonly mode: ViewMode;
  /** Failures the harness itself saw (a livelock, a boot or a heal that never converged). */
  readonly failures: string[] = [];
  #incarnations = new Map<string, number>();
  readonly #gcmOptions: ClusterOptions["gcm"];
  /** Draws the listener faults (a stream of its own: the schedule of a seed does not depend on it). */
  readonly #listenerFaults: Random | undefined;
  /** Listener throws so far (property 7 is exercised only where this is not 0). */
  throws = 0;

  constructor(opts: ClusterOptions) {
    const root = new Random(opts.seed);
    this.random = root.fork();
    this.faults = root.fork();
    this.mode = opts.mode ?? "three-phase";
    this.backend = (opts.backend ?? fakeBackend)(this.clock, root.fork());
    this.rec = new Recorder(this.clock, this.mode);
    this.#gcmOptions = opts.gcm;
    this.batchMs = opts.batchMs ?? 0;
    this.eatingMs = opts.eatingMs ?? 10;
    const listenerRandom = root.fork();
    this.#listenerFaults = opts.listenerFaults === true ? listenerRandom : undefined;
  }

  /** `timing.batchMs` of every node. */
  readonly batchMs: number;
  /** `timing.eatingMs` of every node. */
  readonly eatingMs: number;

  /** IDs of every node ever created. */
  get ids(): string[] {
    return [...this.nodes.keys()].sort();
  }

  /** Live nodes. */
  live(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.alive && !n.gcm.core.left);
  }

  /** Starts node `id` (a new incarnation if it ran before) asking `peers` to let it join. */
  start(id: string, peers: readonly string[] = this.ids.filter((p) => p !== id)): SimNode {
    const old = this.nodes.get(id);
    if (old?.alive) throw new Error(`node ${id} is running`);
    // Above every incarnation the node had: the harness's, and those its GCM took rejoining by itself.
    const inc = Math.max(this.#incarnations.get(id) ?? 0, old?.gcm.incarnation ?? 0) + 1;
    this.#incarnations.set(id, inc);
    const layer = this.backend.layer(id, inc, peers);
    const b = this.backend.failureMs;
    const gcm = new GroupCommunicationManager({
      layer,
      clock: this.clock,
      incarnation: inc,
      mode: this.mode,
      peers,
      timing: {
        eatingMs: this.eatingMs,
        batchMs: this.batchMs,
        hungryMs: b * 2 + 60,
        starvingMs: b + 40,
        criticalTimeoutMs: 50,
      },
      ...this.#gcmOptions,
    });
    const node: SimNode = { id, inc, gcm, layer, alive: true, sent: 0 };
    this.nodes.set(id, node);
    this.#addFaultyListeners(node);
    this.rec.attach(node);
    gcm.start();
    return node;
  }

  /** Wake-ups the nodes' current incarnations sent (see RingCore.wake). */
  wakesSent(): number {
    let n = 0;
    for (const node of this.nodes.values()) n += node.gcm.metrics().token.wakesSent;
    return n;
  }

  /**
   * Application listeners that throw on some deliveries and views, registered before the recorder's
   * so that a throw that skipped later listeners would show as a lost delivery.
   */
  #addFaultyListeners(node: SimNode): void {
    const random = this.#listenerFaults;
    if (random === undefined) return;
    const faulty = (event: string) => () => {
      if (!random.chance(THROW_SHARE)) return;
      this.throws++;
      this.rec.threw(node, event);
      throw new Error(`simulated fault in a ${event} listener of ${node.id}`);
    };
    node.gcm.on("deliver", faulty("deliver"));
    node.gcm.on("view", faulty("view"));
  }

  /**
   * Starts `ids`, each knowing all the others, and runs until they converge; a harness failure
   * (Termination) if they do not within 10 virtual seconds.
   */
  async boot(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.start(id, ids.filter((p) => p !== id));
    if (!(await this.runUntil(() => this.converged(), 10_000))) {
      this.failures.push("Termination: boot did not converge");
    }
  }

  /** Crashes node `id` (silently halts). */
  crash(id: string): void {
    const n = this.nodes.get(id);
    if (n === undefined || !n.alive) return;
    n.alive = false;
    n.gcm.close();
    n.layer.close();
    this.backend.crash(id);
    this.rec.crashed(n);
  }

  /** Multicasts one message from `id` (the recorder sees it). */
  send(id: string, level: "agreed" | "safe" = "agreed"): void {
    const n = this.nodes.get(id);
    if (n === undefined || !n.alive || n.gcm.core.left || n.gcm.core.leaving) return;
    const body = `${id}#${n.inc}#${n.sent + 1}`;
    n.sent = n.gcm.multicast(new TextEncoder().encode(body), { level });
  }

  /** Runs a critical section at `id`, recorded for the checker. */
  critical(id: string): void {
    const n = this.nodes.get(id);
    if (n === undefined || !n.alive || n.gcm.core.left || n.gcm.core.leaving) return;
    n.gcm.withToken(() => {
      this.rec.enterCritical(n, n.gcm.holdsToken, this.#rivals(n));
      this.rec.exitCritical(n);
    }).catch(() => {});
  }

  /**
   * Other live nodes holding a token of this node's ring lineage that names it — a duplicate token
   * (critical sections here are instantaneous, so that is the only way two could overlap).
   */
  #rivals(node: SimNode): string[] {
    const mine = node.gcm.core.token;
    if (mine === undefined) return [];
    const rivals: string[] = [];
    for (const other of this.live()) {
      if (other === node || !other.gcm.holdsToken) continue;
      const t = other.gcm.core.token!;
      if (
        t.ringId === mine.ringId && t.nodelist.length > 1 &&
        t.nodelist.some((m) => m.id === node.id && m.inc === node.gcm.incarnation)
      ) {
        rivals.push(`${other.id}#${other.gcm.incarnation}`);
      }
    }
    return rivals;
  }

  /** Marks the start of the quiet tail: what live nodes send from now on must reach every live node. */
  beginQuietTail(): void {
    this.rec.beginQuietTail();
  }

  /** The run's history so far; with `end`, declared over with the live nodes running. */
  history(end = false): History {
    return this.rec.history(end ? this.#liveProcs() : undefined);
  }

  /** The harness's failures, then the properties' violations of the history so far, one line each. */
  check(opts: CheckOptions = {}): string[] {
    const history = this.history(opts.end ?? false);
    return [
      ...this.failures,
      ...checkHistory(history).map(formatViolation),
    ];
  }

  #liveProcs(): LiveProc[] {
    return this.live().map((n) => ({
      proc: `${n.id}#${n.gcm.incarnation}`,
      agreed: n.gcm.agreed,
      state: n.gcm.state.viewState,
    }));
  }

  /** Advances virtual time by `ms`, letting promise callbacks run between timer events. */
  async run(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    for (;;) {
      await drain();
      const at = this.clock.nextTimerAt();
      if (at === undefined || at > end || this.#livelock(at)) break;
      this.clock.step();
    }
    await drain();
    this.clock.advance(Math.max(0, end - this.clock.now()));
  }

  /** Runs until `done()` or `limitMs`; returns whether done. */
  async runUntil(done: () => boolean, limitMs: number): Promise<boolean> {
    const end = this.clock.now() + limitMs;
    for (;;) {
      await drain();
      if (done()) return true;
      const at = this.clock.nextTimerAt();
      if (at === undefined || at > end || this.#livelock(at)) return done();
      this.clock.step();
    }
  }

  #sameTimeSteps = 0;
  #lastStepAt = -1;
  /** Detects a zero-time loop (the protocol scheduling events at one instant for ever). */
  #livelock(at: number): boolean {
    if (at !== this.#lastStepAt) {
      this.#lastStepAt = at;
      this.#sameTimeSteps = 0;
      return false;
    }
    if (++this.#sameTimeSteps < 100_000) return false;
    if (this.#sameTimeSteps === 100_000) this.failures.push(`livelock: 100000 events at t=${at}`);
    return true;
  }

  /**
   * Runs until the cluster is converged and stays so for a while (a change may be in flight while
   * every node still shows the old agreed view). Returns false after `limitMs`.
   */
  async settle(limitMs: number): Promise<boolean> {
    const end = this.clock.now() + limitMs;
    while (this.clock.now() < end) {
      if (!(await this.runUntil(() => this.converged(), end - this.clock.now()))) return false;
      await this.run(Math.min(1000, this.backend.failureMs * 4 + 200));
      if (this.converged()) return true;
    }
    return false;
  }

  /**
   * Whether every live node is in Agreement with the same last view equal to the live set (by each
   * GCM's own incarnation, which a rejoin after a health-check leave changes) and has sent all it had.
   */
  converged(): boolean {
    const live = this.live();
    if (live.length === 0) return true;
    const want = live.map((n) => `${n.id}#${n.gcm.incarnation}`).sort().join(",");
    for (const n of live) {
      if (!n.gcm.agreed) return false;
      const v = n.gcm.view.detail.map((m) => `${m.id}#${m.inc}`).sort().join(",");
      if (v !== want) return false;
      if (!n.gcm.core.multicast.quiet) return false;
    }
    return true;
  }
}

// The GCM takes delivery outcomes as promise continuations: let them run (issue 13 makes them events).
async function drain(): Promise<void> {
  for (let i = 0; i < 4; i++) await null;
}
