/**
 * Catches every GDM digest repair in a simulated run and explains it. A GDM compares its replica's
 * digest with a primary's at one point of the total order (a merge round's completion, or a
 * post-sync `chk`) and repairs (pulls the primary's state) when they differ. In the simulator
 * that can only mean the two replicas did not apply the same operations in the same order, so each
 * repair is a failure. The watch sees every GDM operation a replica is handed, keeps the replica's
 * versions at each digest point, and on a repair names the keys whose versions differ at that point
 * and the GDM messages one of the two delivered before it and the other did not.
 * @module
 */
import type { GroupDataManager } from "../../gdm/manager.ts";
import { roundKey } from "../../gdm/merge_round.ts";
import { decodeOp, GDM_STREAM, type Op } from "../../gdm/ops.ts";
import type { Cluster, SimNode } from "../gcm/cluster.ts";
import type { ProcKey } from "../evs/history.ts";

/** A replica's versions (key → stamp and value length) where it took a digest. */
interface DigestPoint {
  /** The GDM message at which it took the digest. */
  msg: string;
  versions: Map<string, string>;
}

/** Points kept per replica (rounds complete in order; older ones are never compared). */
const KEPT_POINTS = 64;

/** Watches the GDMs of a cluster for digest repairs. */
export class RepairWatch {
  /** One line per repair: who, against whom, which keys, why. */
  readonly repairs: string[] = [];
  readonly #cluster: Cluster;
  readonly #points = new Map<ProcKey, Map<string, DigestPoint>>();

  constructor(cluster: Cluster) {
    this.#cluster = cluster;
  }

  /** Watches `node`'s GDM stream; call before the GDM is built. `gdmOf` returns the GDM once it is. */
  watch(node: SimNode, gdmOf: () => GroupDataManager): void {
    const gcm = node.gcm;
    const onStream = gcm.onStream.bind(gcm);
    gcm.onStream = (stream, fn) =>
      onStream(
        stream,
        stream !== GDM_STREAM ? fn : (d) => {
          const gdm = gdmOf();
          const ops = flatten(decodeOrUndefined(d.data));
          const before = gdm.stats.diverged;
          fn(d);
          const me = `${node.id}#${gcm.incarnation}`;
          const msg = `${d.from}#${d.fromIncarnation}#${d.seq}`;
          for (const op of ops) {
            if (op.t === "hello") this.#mark(me, roundKey(op.m, op.vi), msg, gdm);
            else if (op.t === "chk") this.#mark(me, op.round, msg, gdm);
          }
          if (gdm.stats.diverged > before) {
            const digest = ops.find((op): op is Extract<Op, { t: "digest" }> => op.t === "digest");
            this.repairs.push(this.#explain(me, digest));
          }
        },
      );
  }

  #mark(me: ProcKey, round: string, msg: string, gdm: GroupDataManager): void {
    const points = this.#points.get(me) ?? new Map<string, DigestPoint>();
    this.#points.set(me, points);
    const versions = new Map<string, string>();
    for (const [key, item] of gdm.snapshot().items) {
      versions.set(
        key,
        `${item.s[0]}.${item.s[1]}${item.v === undefined ? " (deleted)" : ` (${item.v.length} B)`}`,
      );
    }
    points.delete(round);
    points.set(round, { msg, versions });
    if (points.size > KEPT_POINTS) points.delete(points.keys().next().value!);
  }

  #explain(me: ProcKey, digest: Extract<Op, { t: "digest" }> | undefined): string {
    if (digest === undefined) return `GDM digest repair at ${me}: no digest operation in the message`;
    const head = `GDM digest repair: ${me}'s replica differs from ${digest.me}'s at round ${digest.round}`;
    const mine = this.#points.get(me)?.get(digest.round);
    const theirs = this.#points.get(digest.me)?.get(digest.round);
    if (mine === undefined || theirs === undefined) {
      return `${head} (no record of ${mine ? digest.me : me}'s state there)`;
    }
    const keys = [...new Set([...mine.versions.keys(), ...theirs.versions.keys()])].sort()
      .filter((k) => mine.versions.get(k) !== theirs.versions.get(k));
    const diff = keys.slice(0, 3).map((k) =>
      `${k}: ${me} has ${mine.versions.get(k) ?? "nothing"}, ${digest.me} ${
        theirs.versions.get(k) ?? "nothing"
      }`
    );
    return `${head}: ${diff.join("; ") || "no key differs there"}; why: ${
      this.#why(me, digest.me, mine.msg)
    }`;
  }

  /**
   * GDM messages one of two replicas delivered, up to the digest point `upTo`, in a view both
   * installed, and the other did not (in that view).
   */
  #why(a: ProcKey, b: ProcKey, upTo: string): string {
    const procs = this.#cluster.history().procs;
    const byView = (proc: ProcKey): Map<string, Set<string>> => {
      const out = new Map<string, Set<string>>();
      let view: Set<string> | undefined;
      for (const item of procs.find((p) => p.proc === proc)?.items ?? []) {
        if (item.kind === "view") out.set(item.id, view = new Set());
        if (item.kind !== "deliver" || item.stream !== GDM_STREAM) continue;
        view?.add(item.msg);
        if (item.msg === upTo) break;
      }
      return out;
    };
    const inA = byView(a);
    const inB = byView(b);
    const found: string[] = [];
    for (const [view, msgsA] of inA) {
      const msgsB = inB.get(view);
      if (msgsB === undefined) continue;
      const onlyA = [...msgsA].filter((m) => !msgsB.has(m)).slice(0, 3);
      const onlyB = [...msgsB].filter((m) => !msgsA.has(m)).slice(0, 3);
      if (onlyB.length > 0) {
        found.push(`in view ${view}, ${a} never delivered ${onlyB.join(", ")} (${b} did)`);
      }
      if (onlyA.length > 0) {
        found.push(`in view ${view}, ${b} never delivered ${onlyA.join(", ")} (${a} did)`);
      }
    }
    return found.length > 0
      ? found.slice(0, 3).join("; ")
      : "no view they both installed shows a different set of GDM messages up to that point";
  }
}

function decodeOrUndefined(data: Uint8Array): Op | undefined {
  try {
    return decodeOp(data);
  } catch {
    return undefined; // the GDM counts it as a decode error
  }
}

function flatten(op: Op | undefined): Op[] {
  if (op === undefined) return [];
  return op.t === "b" ? op.ops.flatMap((o) => flatten(o)) : [op];
}
