/**
 * Properties 1 (view identity, Safety, consistent history, Termination, Validity) and 3
 * (transitional configurations) on a history's facts.
 * @module
 */

import type { Report } from "./check.ts";
import { type Facts, memberSet } from "./facts.ts";
import type { ProcKey, TransitionalItem, ViewItem } from "./history.ts";

/** Property 1 over the whole run, and Termination and Validity at its end. */
export function checkViews(f: Facts, r: Report): void {
  const firstSeen = new Map<string, { set: string; proc: ProcKey }>();
  for (const p of f.procs) {
    let prev: ViewItem | undefined;
    for (const { view: v } of p.segments) {
      const set = memberSet(v.members);
      const known = firstSeen.get(v.id);
      if (known === undefined) firstSeen.set(v.id, { set, proc: p.proc });
      else if (known.set !== set) {
        r.add(
          1,
          "view identity",
          `view ${v.id} is {${known.set}} at ${known.proc} but {${set}} at ${p.proc}`,
          v.at,
        );
      }
      if (!v.members.includes(p.proc)) {
        r.add(1, "view identity", `${p.proc} installed view ${v.id} {${set}}, which does not name it`, v.at);
      }
      const expected = prev?.id ?? "";
      if (v.previous !== expected) {
        r.add(
          1,
          "view identity",
          `${p.proc}'s view ${v.id} names previous "${v.previous}", but its previous view was "${expected}"`,
          v.at,
        );
      }
      if (prev !== undefined && v.index === prev.index && v.id !== prev.id) {
        r.add(
          1,
          "Safety",
          `${p.proc} committed index ${v.index} twice: ${prev.id} then ${v.id} {${set}}`,
          v.at,
        );
      } else if (prev !== undefined && v.index <= prev.index) {
        r.add(
          1,
          "view identity",
          `${p.proc} installed ${v.id} (index ${v.index}) after ${prev.id} (index ${prev.index})`,
          v.at,
        );
      }
      prev = v;
    }
  }
  if (f.history.mode === "three-phase") checkConsistentHistory(f, r);
  checkEnd(f, r);
}

/** Three-phase mode: at one index, two processes hold the same view or views with disjoint members. */
function checkConsistentHistory(f: Facts, r: Report): void {
  const byIndex = new Map<number, Map<string, { members: ProcKey[]; proc: ProcKey }>>();
  for (const p of f.procs) {
    for (const { view: v } of p.segments) {
      const at = byIndex.get(v.index) ?? new Map<string, { members: ProcKey[]; proc: ProcKey }>();
      byIndex.set(v.index, at);
      if (at.has(v.id)) continue;
      for (const [id, other] of at) {
        const shared = v.members.find((m) => other.members.includes(m));
        if (shared !== undefined) {
          r.add(
            1,
            "consistent history",
            `index ${v.index} is ${other.proc}'s ${id} {${
              memberSet(other.members)
            }} and ${p.proc}'s ${v.id} {${memberSet(v.members)}}, which share ${shared}`,
            v.at,
          );
        }
      }
      at.set(v.id, { members: v.members, proc: p.proc });
    }
  }
}

/** Termination and Validity: every live process in Agreement, all with one last view naming exactly them. */
function checkEnd(f: Facts, r: Report): void {
  const end = f.history.end;
  if (end === undefined || end.live.length === 0) return;
  const live = memberSet(end.live.map((l) => l.proc));
  let reference: { proc: ProcKey; view: ViewItem } | undefined;
  for (const l of end.live) {
    if (!l.agreed) r.add(1, "Termination", `${l.proc} is not in Agreement at the end (${l.state})`, end.at);
    const last = f.byProc.get(l.proc)?.segments.at(-1)?.view;
    if (last === undefined) {
      r.add(1, "Validity", `${l.proc} is live at the end and never installed a view`, end.at);
      continue;
    }
    if (memberSet(last.members) !== live) {
      r.add(
        1,
        "Validity",
        `${l.proc}'s last view ${last.id} is {${memberSet(last.members)}}, the live set is {${live}}`,
        end.at,
      );
    }
    if (reference === undefined) reference = { proc: l.proc, view: last };
    else if (reference.view.id !== last.id) {
      r.add(
        1,
        "Validity",
        `live processes end in different views: ${reference.proc} in ${reference.view.id}, ${l.proc} in ${last.id}`,
        end.at,
      );
    }
  }
}

/**
 * Property 3: before every regular view but its first, a process installs exactly one transitional
 * configuration T(previous → next) whose members are in both views and include it; every process that
 * moves from V to W installs the same T (same id, same members).
 */
export function checkTransitional(f: Facts, r: Report): void {
  const byId = new Map<string, { t: TransitionalItem; proc: ProcKey }>();
  const byMove = new Map<string, { t: TransitionalItem; proc: ProcKey }>();
  for (const p of f.procs) {
    let view: ViewItem | undefined;
    let pending: TransitionalItem | undefined;
    for (const item of p.history.items) {
      if (item.kind === "transitional") {
        if (view === undefined) {
          r.add(3, "transitional configuration", `${p.proc} installed ${item.id} before any view`, item.at);
        } else if (pending !== undefined) {
          r.add(
            3,
            "transitional configuration",
            `${p.proc} installed ${item.id} after ${pending.id}, both leaving ${view.id}`,
            item.at,
          );
        } else if (item.previous !== view.id) {
          r.add(
            3,
            "transitional configuration",
            `${p.proc}'s ${item.id} leaves ${item.previous}, but it is in ${view.id}`,
            item.at,
          );
        }
        if (!item.members.includes(p.proc)) {
          r.add(3, "transitional configuration", `${p.proc}'s ${item.id} does not name it`, item.at);
        }
        const notInOld = view === undefined ? [] : item.members.filter((m) => !view!.members.includes(m));
        if (notInOld.length > 0) {
          r.add(
            3,
            "transitional configuration",
            `${p.proc}'s ${item.id} names ${notInOld.join(",")}, not members of ${view!.id}`,
            item.at,
          );
        }
        pending ??= item;
        sameEverywhere(byId, item.id, item, p.proc, r);
        // every-token mode commits without a round of agreement: each member's transitional
        // configuration is its own (README: what each mode trades), so only its id must be unique.
        // A member that leaves the group (next "") ends in a configuration of itself alone.
        if (f.history.mode !== "every-token" && item.next !== "") {
          sameEverywhere(byMove, `${item.previous} → ${item.next}`, item, p.proc, r);
        }
      } else if (item.kind === "view") {
        if (view !== undefined && pending === undefined) {
          r.add(
            3,
            "transitional configuration",
            `${p.proc} installed ${item.id} after ${view.id} without a transitional configuration`,
            item.at,
          );
        }
        if (pending !== undefined) {
          if (pending.next !== item.id) {
            r.add(
              3,
              "transitional configuration",
              `${p.proc}'s ${pending.id} leads to ${pending.next}, but it installed ${item.id}`,
              item.at,
            );
          }
          const notInNew = pending.members.filter((m) => !item.members.includes(m));
          if (notInNew.length > 0) {
            r.add(
              3,
              "transitional configuration",
              `${p.proc}'s ${pending.id} names ${notInNew.join(",")}, not members of ${item.id}`,
              item.at,
            );
          }
        }
        view = item;
        pending = undefined;
      }
    }
  }
}

/**
 * One transitional configuration per id (same move, same members at every process), and one id per
 * move V → W.
 */
function sameEverywhere(
  seen: Map<string, { t: TransitionalItem; proc: ProcKey }>,
  key: string,
  t: TransitionalItem,
  proc: ProcKey,
  r: Report,
): void {
  const first = seen.get(key);
  if (first === undefined) {
    seen.set(key, { t, proc });
    return;
  }
  const a = first.t;
  const differs = key === t.id
    ? a.previous !== t.previous || a.next !== t.next || memberSet(a.members) !== memberSet(t.members)
    : a.id !== t.id;
  if (differs) {
    r.add(
      3,
      "transitional configuration",
      `${first.proc} installed ${a.id} (${a.previous} → ${a.next}) {${
        memberSet(a.members)
      }}, ${proc} installed ${t.id} (${t.previous} → ${t.next}) {${memberSet(t.members)}}`,
      t.at,
    );
  }
}
