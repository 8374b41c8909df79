/**
 * Shared pieces of the adversarial tests: a cluster of `raincore node` processes on UDP loopback,
 * the resident memory of a process sampled from /proc, a raw UDP socket for the attacker, and the
 * environment knobs of the long modes.
 *
 * Memory is judged by the growth of a member's RSS over its own baseline (taken once the group
 * formed), with margins far above what a healthy member grows under the same traffic (measured
 * numbers in each test) and far below what the unbounded code grew, so a loaded machine cannot make
 * a test flip either way.
 * @module
 */
import { createSocket, type Socket } from "node:dgram";
import { readFileSync } from "node:fs";
import { type JsonChild, killAll, startRaincore, waitUntil } from "../../tools/json_child.ts";
import { freeUdpPorts } from "../../tools/ports.ts";

const env = process.env;

/** Packets an attack sends in the default run, or `ADVERSARIAL_PACKETS` (long mode: 10000000). */
export function attackPackets(defaultCount: number): number {
  return Number(env.ADVERSARIAL_PACKETS ?? defaultCount);
}

/** Seconds a timed attack lasts in the default run, or `ADVERSARIAL_SECONDS` (long mode: 600). */
export function attackSeconds(defaultSeconds: number): number {
  return Number(env.ADVERSARIAL_SECONDS ?? defaultSeconds);
}

/** Vitest timeout for an attack of `seconds` (or `packets` at `rate`) plus the setup around it. */
export function budgetMs(seconds: number): number {
  return (seconds + 60) * 1000;
}

/** Resident set size of a process in MB (Linux /proc), or NaN once it is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? Number.NaN : Number(m[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** Samples the RSS of some processes every `everyMs` and keeps each one's peak. */
export class RssSampler {
  readonly peak = new Map<number, number>();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(readonly pids: readonly number[], everyMs = 100) {
    const sample = () => {
      for (const pid of pids) {
        const mb = rssMb(pid);
        if (mb > (this.peak.get(pid) ?? 0)) this.peak.set(pid, mb);
      }
    };
    sample();
    this.#timer = setInterval(sample, everyMs);
  }

  /** Stops sampling; returns the peaks. */
  stop(): Map<number, number> {
    clearInterval(this.#timer);
    return this.peak;
  }
}

/**
 * Flags that make the CLI detect failures and rejoin quickly: a low retransmission floor, and the
 * Hungry timeout left to derive from the measured failure and round times.
 */
export const TUNED = ["--eating-ms", "5", "--starving-ms", "100", "--rto-min-ms", "10"];

/** A cluster of `raincore node` processes on UDP loopback. */
export class NodeCluster {
  readonly nodes = new Map<string, JsonChild>();

  private constructor(
    readonly ids: readonly string[],
    readonly ports: Map<string, number>,
    readonly peersOf: (id: string) => string[],
  ) {}

  /**
   * Starts one process per ID on `ports` (free ones by default), with `extra(id)` flags, each told
   * every other's address — or the `--peer` flags `peers(id)` returns (a relay between them).
   */
  static async start(
    ids: readonly string[],
    o: { extra?: (id: string) => string[]; peers?: (id: string) => string[]; ports?: readonly number[] } = {},
  ): Promise<NodeCluster> {
    const list = o.ports ?? await freeUdpPorts(ids.length);
    const ports = new Map(ids.map((id, i) => [id, list[i]]));
    const direct = () => ids.flatMap((id) => ["--peer", `${id}=udp://127.0.0.1:${ports.get(id)}`]);
    const c = new NodeCluster(ids, ports, o.peers ?? direct);
    for (const id of ids) c.spawn(id, id, c.port(id), o.extra?.(id) ?? []);
    return c;
  }

  /** The UDP port of node `id`. */
  port(id: string): number {
    return this.ports.get(id)!;
  }

  /** Starts one more process as `id` on `port` (`name` tells it apart in `nodes`). */
  spawn(name: string, id: string, port: number, extra: string[] = []): JsonChild {
    const child = startRaincore(name, [
      "node",
      "--id",
      id,
      "--listen",
      `udp://127.0.0.1:${port}`,
      ...this.peersOf(id),
      ...TUNED,
      ...extra,
    ]);
    this.nodes.set(name, child);
    return child;
  }

  /** The child of node `name`. */
  node(name: string): JsonChild {
    return this.nodes.get(name)!;
  }

  /** Its last view's members, sorted and joined ("" before any view). */
  viewOf(name: string): string {
    const v = this.node(name).lines.findLast((l) => l.event === "view");
    return v === undefined ? "" : [...(v.members as string[])].sort().join(",");
  }

  /** How many views `name` installed from line `from` on. */
  viewsSince(name: string, from: number): number {
    return this.node(name).lines.slice(from).filter((l) => l.event === "view").length;
  }

  /** Resolves once every node of `names` is in one view of exactly `names`; rejects after `ms`. */
  oneView(names: readonly string[], ms: number): Promise<void> {
    const want = [...names].map((n) => this.idOf(n)).sort().join(",");
    const children = names.map((n) => this.node(n));
    return waitUntil(
      children,
      () => names.every((n) => this.viewOf(n) === want),
      ms,
      () => names.map((n) => `${n}: ${this.viewOf(n)}`).join(" | "),
    );
  }

  /** The node ID a process runs as. */
  idOf(name: string): string {
    const ready = this.node(name).lines.find((l) => l.event === "ready");
    return (ready?.id as string | undefined) ?? name;
  }

  /** The process IDs of `names`. */
  pids(names: readonly string[] = [...this.nodes.keys()]): number[] {
    return names.map((n) => this.node(n).process.pid!);
  }

  /** Kills every process. */
  async close(): Promise<void> {
    await killAll(this.nodes.values());
  }
}

/** A raw UDP socket on loopback: the attacker. */
export class RawUdp {
  readonly received: Array<{ port: number; bytes: Uint8Array }> = [];
  #onMessage: ((bytes: Uint8Array, port: number) => void) | undefined;

  private constructor(readonly socket: Socket) {
    socket.on("message", (msg, rinfo) => {
      const bytes = new Uint8Array(msg);
      this.received.push({ port: rinfo.port, bytes });
      if (this.received.length > 10_000) this.received.splice(0, 5_000);
      this.#onMessage?.(bytes, rinfo.port);
    });
  }

  /** Opens a socket on a free loopback port. */
  static async open(): Promise<RawUdp> {
    const s = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.bind(0, "127.0.0.1", () => resolve());
    });
    s.on("error", () => {/* ENOBUFS under a flood: a dropped datagram, as on a real network */});
    return new RawUdp(s);
  }

  /** Its port. */
  get port(): number {
    return this.socket.address().port;
  }

  /** Calls `fn` for every datagram from now on. */
  onMessage(fn: (bytes: Uint8Array, port: number) => void): void {
    this.#onMessage = fn;
  }

  /** Sends one datagram to a loopback port. */
  send(port: number, bytes: Uint8Array): void {
    this.socket.send(bytes, port, "127.0.0.1");
  }

  /**
   * Sends `count` datagrams made by `make(i)` to `port` at about `perSecond`, in 10 ms batches;
   * resolves with the achieved rate.
   */
  async flood(
    port: number,
    count: number,
    perSecond: number,
    make: (i: number) => Uint8Array,
  ): Promise<number> {
    const started = Date.now();
    const perBatch = Math.max(1, Math.round(perSecond / 100));
    let i = 0;
    while (i < count) {
      const batchEnd = Math.min(count, i + perBatch);
      for (; i < batchEnd; i++) this.send(port, make(i));
      // Stay on schedule: sleep only if ahead of it (pacing, not synchronization).
      const due = started + (i / perSecond) * 1000;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    }
    return count / ((Date.now() - started) / 1000);
  }

  /** Closes the socket. */
  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}
