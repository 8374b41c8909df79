/**
 * Records what every simulated process sees and checks the properties of DESIGN.md 1–6:
 * 1 Agreement (consistent history: equal or disjoint views at each index, three-phase mode),
 * 2 Termination and 3 Validity (checked by the runner once faults stop: all live nodes agree on one
 *   last view equal to the live set), 4 Safety (a committed index never changes),
 * 5 multicast: none duplicated, none invented, same order at all processes (within one
 *   configuration = ring lineage; partitioned groups may order differently), per-sender FIFO, safe
 *   messages only after every member holds them, none lost (after quiescence every live node holds
 *   every message sent by a live node during the quiet tail, and pairs of final members delivered
 *   the same messages since both were in one view),
 * 6 mutual exclusion: never two processes in a critical section at once.
 * Processes are (node ID, incarnation) pairs, written "id#inc".
 */
import type { Cluster, SimNode } from "./harness.ts";

interface ProcRecord {
  key: string;
  node: SimNode;
  /** index → member keys (sorted, joined) or "" for NULL. */
  history: Map<number, string>;
  /** Delivered message keys in order. */
  delivered: string[];
  /** Ring lineage (configuration) of each delivery. */
  deliveredRing: string[];
  deliveredSet: Set<string>;
  /** Per origin process: last delivered seq. */
  lastSeq: Map<string, number>;
  crashed: boolean;
  /** Ring lineage this process follows, and since when. */
  ringId: string;
  ringSince: number;
}

/** A property violation. */
export class PropertyViolation extends Error {
  override name = "PropertyViolation";
}

/** The recorder and checker. */
export class Recorder {
  readonly procs = new Map<string, ProcRecord>();
  readonly sentMsgs = new Map<string, { body: string; level: string; at: number }>();
  readonly violations: string[] = [];
  #inCritical: string | undefined;
  /** Last nodelist seen per ring lineage, and when each process was last taken off or put on a ring. */
  readonly #ringLists = new Map<string, string[]>();
  readonly #removedAt = new Map<string, number>();
  /** Time after which messages sent must reach every final member (set by the runner). */
  quietFrom = Infinity;

  constructor(readonly cluster: Cluster) {}

  #fail(msg: string): void {
    if (this.violations.length < 20) this.violations.push(`t=${this.cluster.clock.now()} ${msg}`);
  }

  attach(node: SimNode): void {
    const key = `${node.id}#${node.inc}`;
    const rec: ProcRecord = {
      key,
      node,
      history: new Map(),
      delivered: [],
      deliveredRing: [],
      deliveredSet: new Set(),
      lastSeq: new Map(),
      crashed: false,
      ringId: "",
      ringSince: 0,
    };
    node.gcm.on("token", () => {
      const t = node.gcm.core.token ?? node.gcm.core.lastToken;
      if (t !== undefined) {
        const keys = t.nodelist.map((m) => `${m.id}#${m.inc}`);
        const prev = this.#ringLists.get(t.ringId);
        if (prev !== undefined) {
          for (const k of prev) if (!keys.includes(k)) this.#removedAt.set(k, this.cluster.clock.now());
          for (const k of keys) if (!prev.includes(k)) this.#removedAt.set(k, this.cluster.clock.now());
        }
        this.#ringLists.set(t.ringId, keys);
      }
      if (node.gcm.core.ringId !== rec.ringId) {
        rec.ringId = node.gcm.core.ringId;
        rec.ringSince = this.cluster.clock.now();
      }
    });
    this.procs.set(key, rec);
    node.gcm.on("view", (v) => {
      const members = v.detail.map((m) => `${m.id}#${m.inc}`).sort().join(",");
      const prev = rec.history.get(v.index);
      // Property 4, Safety: a committed index never changes.
      if (prev !== undefined && prev !== "" && prev !== members) {
        this.#fail(`Safety: ${key} changed view ${v.index} from {${prev}} to {${members}}`);
      }
      rec.history.set(v.index, members);
      if (this.cluster.mode === "three-phase") this.#checkAgreementAt(v.index, rec, members);
    });
    node.gcm.on("deliver", (d) => {
      const origin = `${d.from}#${d.fromIncarnation}`;
      const mkey = `${origin}#${d.seq}`;
      if (rec.deliveredSet.has(mkey)) this.#fail(`duplicate: ${key} delivered ${mkey} twice`);
      const sent = this.sentMsgs.get(mkey);
      const body = new TextDecoder().decode(d.data);
      if (sent === undefined) this.#fail(`invented: ${key} delivered ${mkey} that was never sent`);
      else if (sent.body !== body) this.#fail(`corrupt: ${key} delivered ${mkey} with body ${body}`);
      else if (sent.level !== d.level) this.#fail(`level: ${key} delivered ${mkey} as ${d.level}`);
      const last = rec.lastSeq.get(origin) ?? 0;
      if (d.seq <= last) this.#fail(`FIFO: ${key} delivered ${mkey} after seq ${last}`);
      rec.lastSeq.set(origin, d.seq);
      rec.delivered.push(mkey);
      rec.deliveredRing.push(d.view);
      rec.deliveredSet.add(mkey);
      if (d.level === "safe") this.#checkSafe(rec, d.from, d.fromIncarnation, d.seq, mkey, d.view);
    });
  }

  crashed(node: SimNode): void {
    const r = this.procs.get(`${node.id}#${node.inc}`);
    if (r !== undefined) r.crashed = true;
  }

  sent(node: SimNode, seq: number, body: string, level: string): void {
    this.sentMsgs.set(`${node.id}#${node.inc}#${seq}`, { body, level, at: this.cluster.clock.now() });
  }

  enterCritical(node: SimNode): void {
    const key = `${node.id}#${node.inc}`;
    // Property 6: the token is unique, so no two processes are ever inside at once.
    if (this.#inCritical !== undefined) {
      this.#fail(`mutual exclusion: ${key} entered while ${this.#inCritical} is inside`);
    }
    if (!node.gcm.holdsToken) {
      this.#fail(`mutual exclusion: ${key} runs its critical section without the token`);
    }
    // Stronger (critical sections here are instantaneous): no other live node holds a token of the
    // same ring lineage that names this node — a duplicate token.
    for (const other of this.cluster.live()) {
      if (other === node || !other.gcm.holdsToken) continue;
      const t = other.gcm.core.token!;
      const mine = node.gcm.core.token;
      if (
        mine !== undefined && t.ringId === mine.ringId &&
        t.nodelist.some((m) => m.id === node.id && m.inc === node.inc) && t.nodelist.length > 1
      ) {
        this.#fail(
          `mutual exclusion: ${key} in critical section while ${other.id}#${other.inc} holds a token naming it`,
        );
      }
    }
    this.#inCritical = key;
  }

  exitCritical(_node: SimNode): void {
    this.#inCritical = undefined;
  }

  /** Property 1 at one index: equal or disjoint across all processes. */
  #checkAgreementAt(index: number, rec: ProcRecord, members: string): void {
    const mine = new Set(members.split(","));
    for (const other of this.procs.values()) {
      if (other === rec) continue;
      const theirs = other.history.get(index);
      if (theirs === undefined || theirs === "" || theirs === members) continue;
      for (const m of theirs.split(",")) {
        if (mine.has(m)) {
          this.#fail(
            `Agreement: view ${index} is {${members}} at ${rec.key} but {${theirs}} at ${other.key}`,
          );
          return;
        }
      }
    }
  }

  /** Safe delivery: every live member of the deliverer's ring holds the message. */
  #checkSafe(
    rec: ProcRecord,
    from: string,
    fromInc: number,
    seq: number,
    mkey: string,
    ringId: string,
  ): void {
    const core = rec.node.gcm.core;
    // The members of the configuration it was delivered in (a node moving to another group delivers
    // what its old ring acknowledged just before it adopts the new token).
    const ring = ringId === core.ringId
      ? core.token?.nodelist ?? core.localView
      : (this.#ringLists.get(ringId) ?? []).map((k) => {
        const i = k.lastIndexOf("#");
        return { id: k.slice(0, i), inc: Number(k.slice(i + 1)) };
      });
    for (const m of ring) {
      const p = this.procs.get(`${m.id}#${m.inc}`);
      if (p === undefined || p.crashed || p === rec || p.node.gcm.core.left) continue;
      // Only members that were on this ring before the message was sent must hold it.
      const sent = this.sentMsgs.get(mkey);
      if (sent === undefined || p.ringId !== ringId || p.ringSince >= sent.at) continue;
      if ((this.#removedAt.get(p.key) ?? -1) >= sent.at) continue; // was off the ring meanwhile
      // Holding it: delivered it already, or seen it on the token (the core's watermark forgets an
      // origin's old incarnation once its new one speaks, hence the first test).
      const holds = p.deliveredSet.has(mkey) || p.node.gcm.core.multicast.holds(from, fromInc, seq);
      if (!holds && !(m.id === from && m.inc === fromInc)) {
        this.#fail(`safe: ${rec.key} delivered ${mkey} before ${p.key} held it`);
        return;
      }
    }
  }

  /**
   * Same order: messages that two processes both delivered within one configuration (one ring
   * lineage; a partitioned or lone node starts a new one) appear in the same order at both.
   */
  checkOrder(): void {
    const procs = [...this.procs.values()];
    const pos = procs.map((p) => {
      const m = new Map<string, number>();
      p.delivered.forEach((k, i) => m.set(k, i));
      return m;
    });
    for (let a = 0; a < procs.length; a++) {
      for (let b = a + 1; b < procs.length; b++) {
        const pa = procs[a];
        const pb = procs[b];
        const last = new Map<string, { j: number; k: string }>();
        for (let i = 0; i < pa.delivered.length; i++) {
          const k = pa.delivered[i];
          const j = pos[b].get(k);
          if (j === undefined) continue;
          const ring = pa.deliveredRing[i];
          if (pb.deliveredRing[j] !== ring) continue;
          const prev = last.get(ring);
          if (prev !== undefined && j < prev.j) {
            this.#fail(
              `order: ${pa.key} delivered ${prev.k} before ${k}, ${pb.key} the other way (ring ${ring})`,
            );
            return;
          }
          last.set(ring, { j, k });
        }
      }
    }
  }

  /**
   * No loss: every message sent after `quietFrom` by a process that is live at the end is delivered
   * by every live process.
   */
  checkNoLoss(): void {
    const live = this.cluster.live().map((n) => this.procs.get(`${n.id}#${n.inc}`)!);
    const liveKeys = new Set(live.map((p) => p.key));
    for (const [mkey, s] of this.sentMsgs) {
      if (s.at < this.quietFrom) continue;
      const origin = mkey.slice(0, mkey.lastIndexOf("#"));
      if (!liveKeys.has(origin)) continue;
      for (const p of live) {
        if (!p.deliveredSet.has(mkey)) {
          this.#fail(`lost: ${p.key} never delivered ${mkey} (sent at ${s.at})`);
          return;
        }
      }
    }
  }

  /** Termination and Validity: all live processes agree on a last view equal to the live set. */
  checkValidity(): void {
    const live = this.cluster.live();
    const want = live.map((n) => `${n.id}#${n.inc}`).sort().join(",");
    for (const n of live) {
      if (!n.gcm.agreed) {
        this.#fail(`Termination: ${n.id}#${n.inc} is not in Agreement (${n.gcm.state.viewState})`);
      }
      const v = n.gcm.view.detail.map((m) => `${m.id}#${m.inc}`).sort().join(",");
      if (v !== want) this.#fail(`Validity: ${n.id}#${n.inc} has last view {${v}}, live set is {${want}}`);
    }
  }
}
