/**
 * A {@link History} from the output of real member processes (`raincore node`: one JSON line per
 * event on stdout), for the same checker that judges simulated runs. The real-process counterpart of
 * the {@link Recorder}: it reads `view`, `transitional` and `deliver` lines, takes the multicasts the
 * runner typed into each process (`send` / `send-safe` on stdin) and the SIGKILLs it sent, and orders
 * everything on the one clock of the machine (each line's `t`, epoch ms).
 *
 * What the output cannot show stays out: which processes held a message when a safe one was
 * delivered ({@link History.holdersKnown} is false), and a process's view state (a process counts
 * as in Agreement at the end: declare the end only once every live process printed the same last
 * view). A multicast is known by its payload, so the runner gives every one a payload of its own;
 * its sequence number is the one its deliveries name (a multicast nobody delivered gets a key no
 * delivery can have, so it shows as never delivered).
 * @module
 */

import {
  type DeliverItem,
  fingerprint,
  type History,
  type MsgKey,
  type ProcItem,
  type ProcKey,
  type SendItem,
  type Unstamped,
} from "./history.ts";

/** One JSON line a member process printed. */
export type PrintedLine = Readonly<Record<string, unknown>> & { t: number; event: string };

/** A multicast the runner typed into a process. */
export interface ProcessSend {
  /** When it was written to the process's stdin (epoch ms). */
  t: number;
  /** The payload, unique in the run. */
  text: string;
  level: "agreed" | "safe";
}

/** One OS process of a member, from its start to its SIGKILL or the end of the run. */
export interface ProcessLife {
  /** Node ID. */
  node: string;
  /** What it printed, in order. */
  lines: readonly PrintedLine[];
  /** What it was told to multicast, in order. */
  sends: readonly ProcessSend[];
  /** When it was SIGKILLed (epoch ms), if it was. */
  killedAt?: number;
}

/** A run of real processes. */
export interface ProcessRun {
  /** The view mode the members ran. */
  mode: string;
  lives: readonly ProcessLife[];
  /** When the runner began the quiet tail (epoch ms): faults over, the group settled. */
  quietFrom?: number;
  /**
   * The end of the run (epoch ms) and the lives running then. Declare it only once every one of
   * them printed the same last view.
   */
  end?: { t: number; live: readonly ProcessLife[] };
}

/** The history of a run of real processes. */
export function processHistory(run: ProcessRun): History {
  const keys = msgKeysByText(run.lives);
  const procs = run.lives.map((life, i) => procKeyOf(life, i, keys));
  const timed: Array<{ t: number; proc: number; item: Unstamped<ProcItem> }> = [];
  run.lives.forEach((life, i) => {
    const items = itemsOf(life, procs[i], keys);
    // Stable by time: a life's lines come in its own order, multicasts and the kill where they happened.
    items.sort((a, b) => a.t - b.t);
    for (const { t, item } of items) timed.push({ t, proc: i, item });
  });
  timed.sort((a, b) => a.t - b.t);
  const t0 = timed[0]?.t ?? 0;
  const history: History = {
    mode: run.mode,
    procs: procs.map((proc) => ({ proc, items: [] })),
    critical: [],
    holdersKnown: false,
  };
  let quietFrom: number | undefined;
  timed.forEach(({ t, proc, item }, i) => {
    if (run.quietFrom !== undefined && quietFrom === undefined && t >= run.quietFrom) quietFrom = i + 1;
    history.procs[proc].items.push({ ...item, step: i + 1, at: t - t0 } as ProcItem);
  });
  if (run.end !== undefined) {
    history.end = {
      step: timed.length + 1,
      at: run.end.t - t0,
      live: run.end.live.map((life) => ({
        proc: procs[run.lives.indexOf(life)],
        agreed: true,
        state: "agreement",
      })),
      ...(run.quietFrom !== undefined ? { quietFrom: quietFrom ?? timed.length + 1 } : {}),
    };
  }
  return history;
}

/** For each payload, the message keys its deliveries name, by origin process. */
type KeysByText = Map<string, Map<ProcKey, MsgKey>>;

function msgKeysByText(lives: readonly ProcessLife[]): KeysByText {
  const keys: KeysByText = new Map();
  for (const life of lives) {
    for (const l of life.lines) {
      if (l.event !== "deliver") continue;
      const origin = `${l.from}#${l.inc}`;
      const byOrigin = keys.get(String(l.data)) ?? new Map<ProcKey, MsgKey>();
      keys.set(String(l.data), byOrigin);
      if (!byOrigin.has(origin)) byOrigin.set(origin, `${origin}#${l.seq}`);
    }
  }
  return keys;
}

/**
 * A life's process key, `node#incarnation`: the incarnation its views name it with, or (a life killed
 * before it printed a view) the one deliveries of its multicasts name; else a key of its own.
 */
function procKeyOf(life: ProcessLife, index: number, keys: KeysByText): ProcKey {
  const self = `${life.node}#`;
  for (const l of life.lines) {
    if (l.event !== "view") continue;
    const me = (l.detail as string[]).find((m) => m.startsWith(self));
    if (me !== undefined) return me;
  }
  for (const s of life.sends) {
    for (const origin of keys.get(s.text)?.keys() ?? []) if (origin.startsWith(self)) return origin;
  }
  return `${life.node}#life${index}`;
}

function itemsOf(
  life: ProcessLife,
  proc: ProcKey,
  keys: KeysByText,
): Array<{ t: number; item: Unstamped<ProcItem> }> {
  const encoder = new TextEncoder();
  const out: Array<{ t: number; item: Unstamped<ProcItem> }> = [];
  for (const l of life.lines) {
    if (l.event === "view") {
      const members = l.detail as string[];
      if (!members.includes(proc) && members.some((m) => m.startsWith(`${life.node}#`))) {
        // The CLI runs one GCM incarnation per process (no health checks, so no rejoin).
        throw new Error(`${life.node}: view ${l.id} names it with another incarnation than ${proc}`);
      }
      out.push({
        t: l.t,
        item: {
          kind: "view",
          id: String(l.id),
          index: Number(l.index),
          members,
          previous: String(l.previous),
        },
      });
    } else if (l.event === "transitional") {
      out.push({
        t: l.t,
        item: {
          kind: "transitional",
          id: String(l.id),
          previous: String(l.previous),
          next: String(l.next),
          members: l.detail as string[],
        },
      });
    } else if (l.event === "deliver") {
      const origin = `${l.from}#${l.inc}`;
      const item: Unstamped<DeliverItem> = {
        kind: "deliver",
        msg: `${origin}#${l.seq}`,
        origin,
        seq: Number(l.seq),
        level: l.level as DeliverItem["level"],
        stream: 0,
        body: fingerprint(encoder.encode(String(l.data))),
        config: String(l.view),
        transitional: l.transitional === true,
      };
      out.push({ t: l.t, item });
    }
  }
  life.sends.forEach((s, i) => {
    const item: Unstamped<SendItem> = {
      kind: "send",
      msg: keys.get(s.text)?.get(proc) ?? `${proc}#unseen${i}`,
      level: s.level,
      stream: 0,
      body: fingerprint(encoder.encode(s.text)),
    };
    out.push({ t: s.t, item });
  });
  if (life.killedAt !== undefined) {
    // After its last line, whatever the two processes' clocks say: nothing is printed after a SIGKILL.
    const last = life.lines.at(-1)?.t ?? life.killedAt;
    out.push({ t: Math.max(life.killedAt, last), item: { kind: "crash" } });
  }
  return out;
}
