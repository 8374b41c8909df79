/**
 * What the property checks read from a {@link History}, computed once: each process's stream cut
 * into segments (a regular view, the deliveries in it, the transitional configuration that ends it,
 * the deliveries there, the next view), the messages sent, and the members of every configuration
 * id. Parsing never judges: a malformed stream still yields facts, and the checks say what is wrong.
 * @module
 */

import type {
  DeliverItem,
  History,
  MsgKey,
  ProcHistory,
  ProcKey,
  SendItem,
  TransitionalItem,
  ViewItem,
} from "./history.ts";

/** One regular view at one process, up to the next. */
export interface Segment {
  view: ViewItem;
  /** The transitional configuration installed after `view`, if any. */
  transitional?: TransitionalItem;
  /** The next regular view, if the process installed one. */
  next?: ViewItem;
  /** Messages delivered after `view` and before `transitional` (or the next view). */
  inRegular: MsgKey[];
  /** Messages delivered after `transitional`. */
  inTransitional: MsgKey[];
}

/** The facts of one process. */
export interface ProcFacts {
  proc: ProcKey;
  history: ProcHistory;
  segments: Segment[];
  deliveries: DeliverItem[];
  sends: SendItem[];
  /** Step of its crash or leave, if it stopped. */
  stoppedAt?: number;
  /** Messages it delivered. */
  delivered: Set<MsgKey>;
}

/** The facts of a run. */
export interface Facts {
  history: History;
  procs: ProcFacts[];
  byProc: Map<ProcKey, ProcFacts>;
  /**
   * Every multicast, by message (the first send item if a key was sent twice); an open-group
   * message, which no member sent itself, by its first delivery.
   */
  sent: Map<MsgKey, Pick<SendItem, "msg" | "level" | "body" | "step" | "at">>;
  /** Members of each configuration id, as first seen (regular and transitional ids). */
  configMembers: Map<string, ProcKey[]>;
}

/** Derives the facts of a history. */
export function factsOf(history: History): Facts {
  const procs = history.procs.map(procFacts);
  const sent: Facts["sent"] = new Map();
  const configMembers = new Map<string, ProcKey[]>();
  for (const p of procs) for (const s of p.sends) if (!sent.has(s.msg)) sent.set(s.msg, s);
  for (const p of procs) {
    for (const d of p.deliveries) if (d.forwardedFor !== undefined && !sent.has(d.msg)) sent.set(d.msg, d);
    for (const item of p.history.items) {
      if ((item.kind === "view" || item.kind === "transitional") && !configMembers.has(item.id)) {
        configMembers.set(item.id, item.members);
      }
    }
  }
  return { history, procs, byProc: new Map(procs.map((p) => [p.proc, p])), sent, configMembers };
}

function procFacts(history: ProcHistory): ProcFacts {
  const facts: ProcFacts = {
    proc: history.proc,
    history,
    segments: [],
    deliveries: [],
    sends: [],
    delivered: new Set(),
  };
  let current: Segment | undefined;
  for (const item of history.items) {
    switch (item.kind) {
      case "view":
        if (current !== undefined) current.next = item;
        current = { view: item, inRegular: [], inTransitional: [] };
        facts.segments.push(current);
        break;
      case "transitional":
        // A second transitional in one segment is a discipline error the checks report; the first counts.
        if (current !== undefined && current.transitional === undefined) current.transitional = item;
        break;
      case "deliver":
        facts.deliveries.push(item);
        facts.delivered.add(item.msg);
        if (current !== undefined) {
          (current.transitional === undefined ? current.inRegular : current.inTransitional).push(item.msg);
        }
        break;
      case "send":
        facts.sends.push(item);
        break;
      case "crash":
      case "leave":
        facts.stoppedAt ??= item.step;
        break;
    }
  }
  return facts;
}

/** Sorted, comma-joined members: a member set's canonical text. */
export function memberSet(members: readonly ProcKey[]): string {
  return members.slice().sort().join(",");
}
