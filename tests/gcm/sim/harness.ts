/**
 * A simulated cluster of GCM nodes under one VirtualClock and one seeded Random: builds nodes on a
 * backend (the message-level fake, or the real stack GCM → TransportManager → SimNetwork), records
 * everything the property checker needs, and offers the faults the scheduler injects.
 */
import { VirtualClock } from "../../../base/clock.ts";
import { Random } from "../../../base/random.ts";
import { type GcmOptions, GroupCommunicationManager, type MessageLayer } from "../../../gcm/manager.ts";
import type { ViewMode } from "../../../gcm/types.ts";
import { Recorder } from "./checker.ts";
import { FakeNet } from "./fake_layer.ts";

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
  inc: number;
  gcm: GroupCommunicationManager;
  layer: MessageLayer & { close(): void };
  alive: boolean;
  /** Messages this node has multicast, by seq. */
  sent: number;
}

/** Options of a simulated cluster. */
export interface ClusterOptions {
  seed: number;
  mode?: ViewMode;
  backend?: (clock: VirtualClock, random: Random) => Backend;
  gcm?: Partial<Omit<GcmOptions, "layer" | "clock" | "incarnation" | "peers">>;
}

/** A simulated cluster. */
export class Cluster {
  readonly clock = new VirtualClock();
  readonly random: Random;
  readonly faults: Random;
  readonly backend: Backend;
  readonly nodes = new Map<string, SimNode>();
  readonly rec: Recorder;
  readonly mode: ViewMode;
  #incarnations = new Map<string, number>();
  readonly #gcmOptions: ClusterOptions["gcm"];

  constructor(opts: ClusterOptions) {
    const root = new Random(opts.seed);
    this.random = root.fork();
    this.faults = root.fork();
    this.mode = opts.mode ?? "three-phase";
    this.backend = (opts.backend ?? fakeBackend)(this.clock, root.fork());
    this.rec = new Recorder(this);
    this.#gcmOptions = opts.gcm;
  }

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
    const inc = (this.#incarnations.get(id) ?? 0) + 1;
    this.#incarnations.set(id, inc);
    const layer = this.backend.layer(id, inc, peers);
    const b = this.backend.failureMs;
    const gcm = new GroupCommunicationManager({
      layer,
      clock: this.clock,
      incarnation: inc,
      mode: this.mode,
      peers,
      eatingMs: 10,
      hungryMs: b * 2 + 60,
      starvingMs: b + 40,
      criticalTimeoutMs: 50,
      ...this.#gcmOptions,
    });
    const node: SimNode = { id, inc, gcm, layer, alive: true, sent: 0 };
    this.nodes.set(id, node);
    this.rec.attach(node);
    gcm.start();
    return node;
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

  /** Multicasts one message from `id` (recorded for the checker). */
  send(id: string, level: "agreed" | "safe" = "agreed"): void {
    const n = this.nodes.get(id);
    if (n === undefined || !n.alive || n.gcm.core.left || n.gcm.core.leaving) return;
    const body = `${id}#${n.inc}#${n.sent + 1}`;
    const seq = n.gcm.multicast(new TextEncoder().encode(body), { level });
    n.sent = seq;
    this.rec.sent(n, seq, body, level);
  }

  /** Runs a critical section at `id`, recorded by the checker. */
  critical(id: string): void {
    const n = this.nodes.get(id);
    if (n === undefined || !n.alive || n.gcm.core.left || n.gcm.core.leaving) return;
    n.gcm.withToken(() => {
      this.rec.enterCritical(n);
      this.rec.exitCritical(n);
    }).catch(() => {});
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
    if (this.#sameTimeSteps === 100_000) this.rec.violations.push(`livelock: 100000 events at t=${at}`);
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

  /** Whether every live node is in Agreement with the same last view equal to the live set. */
  converged(): boolean {
    const live = this.live();
    if (live.length === 0) return true;
    const want = live.map((n) => `${n.id}#${n.inc}`).sort().join(",");
    for (const n of live) {
      if (!n.gcm.agreed) return false;
      const v = n.gcm.view.detail.map((m) => `${m.id}#${m.inc}`).sort().join(",");
      if (v !== want) return false;
      if (!n.gcm.core.multicast.quiet) return false;
    }
    return true;
  }
}

async function drain(): Promise<void> {
  for (let i = 0; i < 4; i++) await null;
}
