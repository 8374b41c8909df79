/**
 * Properties 4 (same-set delivery), 5 (self-delivery, no loss in the quiet tail) and 6 (exactly once,
 * FIFO per sender incarnation, nothing invented or corrupted, level as sent, safe delivery) on a
 * history's facts.
 * @module
 */

import type { Report } from "./check.ts";
import type { Facts, ProcFacts, Segment } from "./facts.ts";
import { type MsgKey, originOf } from "./history.ts";

/** Properties 4, 5 and 6. */
export function checkDeliveries(f: Facts, r: Report): void {
  for (const p of f.procs) checkStream(f, p, r);
  checkSameSet(f, r);
  checkSelfDelivery(f, r);
}

/** Property 6 at one process. */
function checkStream(f: Facts, p: ProcFacts, r: Report): void {
  const seen = new Set<MsgKey>();
  const lastSeq = new Map<string, number>();
  for (const d of p.deliveries) {
    if (seen.has(d.msg)) {
      r.add(6, "exactly once", `${p.proc} delivered ${d.msg} twice`, d.at);
      continue;
    }
    seen.add(d.msg);
    const sent = f.sent.get(d.msg);
    if (sent === undefined) {
      r.add(6, "invented", `${p.proc} delivered ${d.msg}, which was never multicast`, d.at);
    } else if (sent.body !== d.body) {
      r.add(6, "corrupt", `${p.proc} delivered ${d.msg} with payload ${d.body}, sent as ${sent.body}`, d.at);
    } else if (sent.level !== d.level) {
      r.add(6, "level", `${p.proc} delivered ${d.msg} as ${d.level}, sent as ${sent.level}`, d.at);
    }
    const last = lastSeq.get(d.origin) ?? 0;
    if (d.seq <= last) r.add(6, "FIFO", `${p.proc} delivered ${d.msg} after ${d.origin}#${last}`, d.at);
    else lastSeq.set(d.origin, d.seq);
    if (d.level === "safe" && f.history.holdersKnown !== false) {
      // Every member of the configuration it is delivered in holds it, unless that member stopped.
      const members = f.configMembers.get(d.config) ?? [];
      const holders = new Set(d.holders ?? []);
      for (const m of members) {
        if (m === p.proc || holders.has(m)) continue;
        const stopped = f.byProc.get(m)?.stoppedAt;
        if (stopped !== undefined && stopped < d.step) continue;
        r.add(6, "safe", `${p.proc} delivered safe ${d.msg} in ${d.config} before ${m} held it`, d.at);
        break;
      }
    }
  }
}

/**
 * Property 4: processes that install view V and then the same next view W delivered the same set of
 * messages in V, and the same set in the transitional configuration between them.
 */
function checkSameSet(f: Facts, r: Report): void {
  if (f.history.mode === "every-token") return; // not promised in that mode (README: what each mode trades)
  const moves = new Map<string, Array<{ proc: string; segment: Segment }>>();
  for (const p of f.procs) {
    for (const segment of p.segments) {
      if (segment.next === undefined) continue;
      const key = `${segment.view.id} → ${segment.next.id}`;
      const list = moves.get(key) ?? [];
      list.push({ proc: p.proc, segment });
      moves.set(key, list);
    }
  }
  for (const [move, list] of moves) {
    const [first, ...rest] = list;
    for (const other of rest) {
      compareSets(
        move,
        "in " + first.segment.view.id,
        first.proc,
        other.proc,
        first.segment.inRegular,
        other.segment.inRegular,
        r,
      );
      compareSets(
        move,
        "in the transitional configuration",
        first.proc,
        other.proc,
        first.segment.inTransitional,
        other.segment.inTransitional,
        r,
      );
    }
  }
}

function compareSets(
  move: string,
  where: string,
  a: string,
  b: string,
  inA: readonly MsgKey[],
  inB: readonly MsgKey[],
  r: Report,
): void {
  const setA = new Set(inA);
  const setB = new Set(inB);
  const onlyA = inA.find((m) => !setB.has(m));
  const onlyB = inB.find((m) => !setA.has(m));
  if (onlyA !== undefined) {
    r.add(4, "same set", `${a} and ${b} both moved ${move}; ${a} delivered ${onlyA} ${where}, ${b} did not`);
  } else if (onlyB !== undefined) {
    r.add(4, "same set", `${a} and ${b} both moved ${move}; ${b} delivered ${onlyB} ${where}, ${a} did not`);
  }
}

/**
 * Property 5, judged once the run's quiet tail is over: a live process delivered every message it
 * multicast; every message a live process sent in the quiet tail reached every live process.
 */
function checkSelfDelivery(f: Facts, r: Report): void {
  // A message bound to a view is delivered in that view (or its transitional configuration) or nowhere.
  const bound = new Map<MsgKey, string>();
  for (const p of f.procs) for (const s of p.sends) if (s.onlyIn !== undefined) bound.set(s.msg, s.onlyIn);
  for (const p of f.procs) {
    for (const d of p.deliveries) {
      const only = bound.get(d.msg);
      if (only !== undefined && d.config !== only && !d.config.startsWith(`${only}>`)) {
        r.add(5, "bound to a view", `${p.proc} delivered ${d.msg} in ${d.config}, bound to ${only}`, d.at);
      }
    }
  }
  const end = f.history.end;
  if (end?.quietFrom === undefined) return;
  const live = end.live.map((l) => f.byProc.get(l.proc)).filter((p): p is ProcFacts => p !== undefined);
  const liveKeys = new Set(live.map((p) => p.proc));
  for (const p of live) {
    for (const s of p.sends) {
      // A message bound to a view is dropped when that view ends first (MulticastOptions.view).
      if (!p.delivered.has(s.msg) && s.onlyIn === undefined) {
        r.add(5, "self-delivery", `${p.proc} multicast ${s.msg} (t=${s.at}) and never delivered it`, end.at);
      }
    }
  }
  for (const s of f.sent.values()) {
    if (s.step < end.quietFrom || !liveKeys.has(originOf(s.msg))) continue;
    if (bound.has(s.msg) && !live.some((p) => p.delivered.has(s.msg))) continue; // dropped: its view ended
    const missing = live.find((p) => !p.delivered.has(s.msg));
    if (missing !== undefined) {
      r.add(
        5,
        "no loss",
        `${missing.proc} never delivered ${s.msg}, sent in the quiet tail (t=${s.at})`,
        end.at,
      );
    }
  }
}
