/**
 * A simulated GDM cluster: the GCM simulator's {@link Cluster} (real stack: GCM → TransportManager
 * → SimNetwork under one VirtualClock, its history recorded for the EVS checker) with a
 * {@link GroupDataManager} on every node, plus the bookkeeping the GDM properties need. Every digest
 * repair is caught and explained ({@link RepairWatch}): in a simulated run, replicas that saw the same
 * operations in the same order never diverge, so a repair is a failure.
 * @module
 */
import { type GdmOptions, GroupDataManager } from "../../gdm/manager.ts";
import type { StorageAdapter } from "../../gdm/storage.ts";
import { Cluster, type ClusterOptions, type SimNode } from "../gcm/cluster.ts";
import { realBackend } from "../gcm/real_backend.ts";
import { RepairWatch } from "./repair_watch.ts";

/** A node with its GDM. */
export interface GdmNode {
  node: SimNode;
  gdm: GroupDataManager;
}

/** Options of a GDM cluster. */
export interface GdmClusterOptions extends Partial<ClusterOptions> {
  seed: number;
  gdm?: Partial<Omit<GdmOptions, "gcm" | "layer" | "clock">>;
  /** Storage adapter per node ID (persistence tests). */
  storage?: (id: string) => StorageAdapter | undefined;
}

/** A simulated cluster of GDM nodes. */
export class GdmCluster {
  readonly c: Cluster;
  readonly gdms = new Map<string, GroupDataManager>();
  /** Digest repairs, explained. */
  readonly repairs: RepairWatch;
  readonly #opts: GdmClusterOptions;

  constructor(opts: GdmClusterOptions) {
    this.#opts = opts;
    this.c = new Cluster({ backend: realBackend({}), ...opts });
    this.repairs = new RepairWatch(this.c);
  }

  /** Starts node `id` (asking `peers`) with a GDM; with storage, its stored state is loaded first. */
  async start(id: string, peers?: readonly string[]): Promise<GroupDataManager> {
    const node = this.c.start(id, peers);
    const storage = this.#opts.storage?.(id);
    const initial = storage !== undefined ? await storage.load() : undefined;
    // The watch wraps the GDM's stream before the GDM subscribes to it.
    this.repairs.watch(node, () => gdm);
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
    this.gdms.set(id, gdm);
    return gdm;
  }

  /** Crashes node `id`. */
  crash(id: string): void {
    this.c.crash(id);
    void this.gdms.get(id)?.close();
  }

  /** Live nodes with their GDMs. */
  live(): GdmNode[] {
    return this.c.live().map((node) => ({ node, gdm: this.gdms.get(node.id)! }));
  }

  /**
   * Whether the GCM converged, no running node is out of the group (a health-check leave: it
   * rejoins), and every live GDM is synced with no transfer pending.
   */
  quiet(): boolean {
    return this.c.converged() && [...this.c.nodes.values()].every((n) => !n.alive || !n.gcm.core.left) &&
      this.live().every((n) => n.gdm.synced);
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
    const snap = gdm.snapshot();
    return snap.items
      .filter(([, it]) => it.v !== undefined)
      .map(([k, it]) => `${JSON.stringify(k)}=${hex(it.v!)}@${it.s[0]}.${it.s[1]}`)
      .sort()
      .join("\n");
  }
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}
