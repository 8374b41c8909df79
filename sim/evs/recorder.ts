/**
 * Turns what the simulated processes see into a {@link History}: it subscribes to every GCM's view,
 * transitional, deliver and error events (and to the deliveries of other streams, such as the GDM's),
 * observes every multicast, and takes the crashes, critical sections and listener throws the
 * simulator reports. For a safe delivery it notes which processes hold the message at that moment.
 * Processes are node incarnations, keyed by the GCM's own incarnation (a GCM that rejoins after a
 * health-check leave is a new process).
 * @module
 */

import type { Clock } from "../../base/clock.ts";
import type { DeliverEvent } from "../../gcm/events.ts";
import type { GroupCommunicationManager } from "../../gcm/manager.ts";
import {
  type CriticalItem,
  type DeliverItem,
  fingerprint,
  type History,
  type LiveProc,
  type MsgKey,
  type ProcHistory,
  type ProcItem,
  type ProcKey,
  type Unstamped,
} from "./history.ts";

/** A node as the recorder sees it. */
export interface RecordedNode {
  id: string;
  gcm: GroupCommunicationManager;
}

/** Records a run's history. */
export class Recorder {
  readonly #clock: Clock;
  readonly #mode: string;
  readonly #procs = new Map<ProcKey, ProcHistory>();
  readonly #delivered = new Map<ProcKey, Set<MsgKey>>();
  /** Processes running now, with their GCM. */
  readonly #running = new Map<ProcKey, GroupCommunicationManager>();
  readonly #critical: CriticalItem[] = [];
  #step = 0;
  #quietFrom: number | undefined;

  constructor(clock: Clock, mode: string) {
    this.#clock = clock;
    this.#mode = mode;
  }

  /** Starts recording a node: its events, its multicasts, its other streams. */
  attach(node: RecordedNode): void {
    const gcm = node.gcm;
    const key = () => `${node.id}#${gcm.incarnation}`;
    const proc = () => this.#proc(key(), gcm);
    gcm.on("view", (v) =>
      this.#push(proc(), {
        kind: "view",
        id: v.id,
        index: v.index,
        members: v.detail.map((m) => `${m.id}#${m.inc}`),
        previous: v.previous,
      }));
    gcm.on("transitional", (t) =>
      this.#push(proc(), {
        kind: "transitional",
        id: t.id,
        previous: t.previous,
        next: t.next,
        members: t.detail.map((m) => `${m.id}#${m.inc}`),
      }));
    gcm.on("deliver", (d) => this.#deliver(proc(), d, 0));
    gcm.on("error", () => this.#push(proc(), { kind: "error" }));
    gcm.on("leave", () => this.#stop(key(), "leave"));
    // Other streams (the GDM's): their deliveries and multicasts belong to the history too.
    const onStream = gcm.onStream.bind(gcm);
    gcm.onStream = (stream, fn) =>
      onStream(stream, (d) => {
        this.#deliver(proc(), d, stream);
        fn(d);
      });
    const multicast = gcm.multicast.bind(gcm);
    gcm.multicast = (data, options = {}) => {
      const seq = multicast(data, options);
      this.#push(proc(), {
        kind: "send",
        msg: `${key()}#${seq}`,
        level: options.level ?? "agreed",
        stream: options.stream ?? 0,
        body: fingerprint(data),
        ...(options.view !== undefined ? { onlyIn: options.view } : {}),
      });
      return seq;
    };
    this.#proc(key(), gcm);
  }

  /** The node crashed (its current process halted). */
  crashed(node: RecordedNode): void {
    this.#stop(`${node.id}#${node.gcm.incarnation}`, "crash");
  }

  /** An application listener of the node threw on purpose while handling `event`. */
  threw(node: RecordedNode, event: string): void {
    this.#push(this.#proc(`${node.id}#${node.gcm.incarnation}`), { kind: "throw", event });
  }

  /** The node entered a critical section. */
  enterCritical(node: RecordedNode, hadToken: boolean, rivals: ProcKey[]): void {
    this.#critical.push({
      ...this.#stamp(),
      kind: "enter",
      proc: `${node.id}#${node.gcm.incarnation}`,
      hadToken,
      rivals,
    });
  }

  /** The node left its critical section. */
  exitCritical(node: RecordedNode): void {
    this.#critical.push({ ...this.#stamp(), kind: "exit", proc: `${node.id}#${node.gcm.incarnation}` });
  }

  /** From now on, every message a live process sends must reach every live process (the quiet tail). */
  beginQuietTail(): void {
    this.#quietFrom = this.#step + 1;
  }

  /** Messages `proc` delivered, in order. */
  delivered(proc: ProcKey): MsgKey[] {
    const items = this.#procs.get(proc)?.items ?? [];
    return items.filter((i): i is DeliverItem => i.kind === "deliver").map((i) => i.msg);
  }

  /** The history so far; with `live`, declares the run ended with those processes running. */
  history(live?: LiveProc[]): History {
    const h: History = {
      mode: this.#mode,
      procs: [...this.#procs.values()].map((p) => ({ proc: p.proc, items: p.items.slice() })),
      critical: this.#critical.slice(),
    };
    if (live !== undefined) {
      h.end = {
        ...this.#stamp(),
        live,
        ...(this.#quietFrom !== undefined ? { quietFrom: this.#quietFrom } : {}),
      };
    }
    return h;
  }

  #proc(key: ProcKey, gcm?: GroupCommunicationManager): ProcHistory {
    let p = this.#procs.get(key);
    if (p === undefined) {
      p = { proc: key, items: [] };
      this.#procs.set(key, p);
      this.#delivered.set(key, new Set());
      if (gcm !== undefined) this.#running.set(key, gcm);
    }
    return p;
  }

  #stamp(): { step: number; at: number } {
    return { step: ++this.#step, at: this.#clock.now() };
  }

  #push(p: ProcHistory, item: Unstamped<ProcItem>): void {
    // Stamped in place (a fresh object every time): spreading it anew costs a tenth of a run.
    const stamped = item as ProcItem;
    stamped.step = ++this.#step;
    stamped.at = this.#clock.now();
    p.items.push(stamped);
  }

  #stop(key: ProcKey, kind: "crash" | "leave"): void {
    if (!this.#running.delete(key)) return;
    this.#push(this.#proc(key), { kind });
  }

  #deliver(p: ProcHistory, d: DeliverEvent, stream: number): void {
    const origin = `${d.from}#${d.fromIncarnation}`;
    const msg = `${origin}#${d.seq}`;
    this.#delivered.get(p.proc)!.add(msg);
    const item: Unstamped<DeliverItem> = {
      kind: "deliver",
      msg,
      origin,
      seq: d.seq,
      level: d.level,
      stream,
      body: fingerprint(d.data),
      config: d.view,
      transitional: d.transitional,
      ...(d.forwardedFor !== undefined ? { forwardedFor: d.forwardedFor } : {}),
    };
    if (d.level === "safe") {
      item.holders = [...this.#running].filter(([key, gcm]) =>
        key === origin || this.#delivered.get(key)!.has(msg) ||
        gcm.core.multicast.holds(d.from, d.fromIncarnation, d.seq)
      ).map(([key]) => key);
    }
    this.#push(p, item);
  }
}
