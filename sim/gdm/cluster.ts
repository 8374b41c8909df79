/**
 * A simulated GDM cluster: the GCM simulator's {@link Cluster} (real stack: GCM → TransportManager →
 * SimNetwork under one VirtualClock, its history recorded for the EVS checker) with a
 * {@link GroupDataManager} on every node, optionally a simulated disk per node ({@link SimDisk}: a
 * restarted node loads what had landed), and the bookkeeping the GDM properties need. Every `error`
 * event a GDM emits about its replicas (two replicas of one class that disagree) is kept: in a
 * simulated run that is a failure.
 * @module
 */
import { silentLogger } from "../../base/log.ts";
import { GroupDataManager } from "../../gdm/manager.ts";
import type { GdmOptions } from "../../gdm/options.ts";
import { Cluster, type ClusterOptions, type SimNode } from "../gcm/cluster.ts";
import { realBackend } from "../gcm/real_backend.ts";
import { MemoryStorage } from "../../gdm/storage.ts";
import { SimStorage } from "./sim_storage.ts";

/** A node with its GDM. */
export interface GdmNode {
  node: SimNode;
  gdm: GroupDataManager;
}

/** Options of a GDM cluster. */
export interface GdmClusterOptions extends Partial<ClusterOptions> {
  seed: number;
  gdm?: Partial<Omit<GdmOptions, "gcm" | "layer" | "clock">>;
  /** Give every node a simulated disk (kept across its restarts). @default {false} */
  disks?: boolean;
}

/** A simulated cluster of GDM nodes. */
export class GdmCluster {
  readonly c: Cluster;
  readonly gdms = new Map<string, GroupDataManager>();
  /** Disks by node ID (with `disks`): what outlives each node's processes. */
  readonly disks = new Map<string, MemoryStorage>();
  /** The replica errors the GDMs reported (each one a failure). */
  readonly divergences: string[] = [];
  /** Storage errors the GDMs reported. */
  readonly storageErrors: string[] = [];
  readonly #opts: GdmClusterOptions;
  readonly #storage = new Map<string, SimStorage>();

  constructor(opts: GdmClusterOptions) {
    this.#opts = opts;
    // Health-check leaves are part of the schedules: their warnings are not news here.
    this.c = new Cluster({ backend: realBackend({}), ...opts, gcm: { logger: silentLogger, ...opts.gcm } });
  }

  /** Starts node `id` (asking `peers`) with a GDM; with disks, what landed on its disk is loaded first. */
  async start(id: string, peers?: readonly string[]): Promise<GroupDataManager> {
    let storage: SimStorage | undefined;
    let initial;
    if (this.#opts.disks) {
      let disk = this.disks.get(id);
      if (disk === undefined) this.disks.set(id, disk = new MemoryStorage());
      storage = new SimStorage(disk, this.c.clock, this.c.random.fork());
      this.#storage.set(id, storage);
      initial = await storage.load();
    }
    const node = this.c.start(id, peers);
    const gdm: GroupDataManager = new GroupDataManager({
      gcm: node.gcm,
      layer: node.layer,
      clock: this.c.clock,
      pullTimeoutMs: 1500,
      lockTimeoutMs: 3000,
      chunkBytes: 4096,
      ...this.#opts.gdm,
      storage,
      initial,
    });
    gdm.on("error", (e) => {
      const line = `${id}#${node.inc}: ${(e.error as Error).message}`;
      if (e.event === "replica") this.divergences.push(line);
      else if (e.event === "storage") this.storageErrors.push(line);
    });
    this.gdms.set(id, gdm);
    return gdm;
  }

  /** Crashes node `id`: its process stops, writes to its disk under way are lost. */
  crash(id: string): void {
    this.#storage.get(id)?.crash();
    this.c.crash(id);
    void this.gdms.get(id)?.close();
  }

  /** Live nodes with their GDMs. */
  live(): GdmNode[] {
    return this.c.live().map((node) => ({ node, gdm: this.gdms.get(node.id)! }));
  }

  /**
   * Whether the GCM converged, no running node is out of the group (a health-check leave: it
   * rejoins), and every live GDM is synced with no transfer pending — or, with the quorum policy, the
   * group is not a primary component (where nothing is applied, and nobody syncs).
   */
  quiet(): boolean {
    const quorum = this.#opts.gdm?.quorum === true;
    return this.c.converged() && [...this.c.nodes.values()].every((n) => !n.alive || !n.gcm.core.left) &&
      this.live().every((n) => n.gdm.synced || (quorum && !n.node.gcm.inQuorum));
  }

  /** Runs until quiet (and stays so for a moment); false after `limitMs`. */
  async settle(limitMs = 30_000): Promise<boolean> {
    const end = this.c.clock.now() + limitMs;
    while (this.c.clock.now() < end) {
      if (!(await this.c.runUntil(() => this.quiet(), end - this.c.clock.now()))) return false;
      await this.c.run(500);
      if (this.quiet()) return true;
    }
    return false;
  }

  /** Runs virtual time until `p` settles (or `limitMs` passes) and returns its outcome. */
  async wait<T>(p: Promise<T>, limitMs = 10_000): Promise<T> {
    let done = false;
    p.then(() => (done = true), () => (done = true));
    await this.c.runUntil(() => done, limitMs);
    if (!done) throw new Error(`promise not settled within ${limitMs} virtual ms`);
    return p;
  }

  /** A canonical dump of a replica (items with stamps) for equality checks. */
  static dump(gdm: GroupDataManager): string {
    return gdm.snapshot().items
      .filter(([, it]) => it.value !== undefined)
      .map(([k, it]) => `${JSON.stringify(k)}=${hex(it.value!)}@${it.stamp[0]}.${it.stamp[1]}`)
      .sort()
      .join("\n");
  }
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}
