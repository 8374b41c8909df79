/**
 * Property 2, views in the stream and one order: every delivery names the configuration the process
 * is in at that point of its stream; and for any two processes, the items both have — messages both
 * delivered, regular views both installed, transitional configurations both installed — appear in
 * the same relative order (so a view change sits at the same point of the message stream everywhere,
 * and messages are totally ordered across views, partitions and merges).
 * @module
 */

import type { Report } from "./check.ts";
import type { Facts, ProcFacts } from "./facts.ts";

/** Property 2 over the whole run. */
export function checkOrder(f: Facts, r: Report): void {
  for (const p of f.procs) checkConfigs(p, r);
  const streams = f.procs.map(streamOf);
  for (let a = 0; a < streams.length; a++) {
    for (let b = a + 1; b < streams.length; b++) comparePair(streams[a], streams[b], r);
  }
}

/** Each delivery names the current configuration: the last view's id, or the transitional one's after it. */
function checkConfigs(p: ProcFacts, r: Report): void {
  let config: { id: string; transitional: boolean } | undefined;
  for (const item of p.history.items) {
    if (item.kind === "view" || item.kind === "transitional") {
      config = { id: item.id, transitional: item.kind === "transitional" };
    } else if (item.kind === "deliver") {
      if (config === undefined) {
        r.add(
          2,
          "views in the stream",
          `${p.proc} delivered ${item.msg} before installing any view`,
          item.at,
        );
      } else if (item.config !== config.id || item.transitional !== config.transitional) {
        r.add(
          2,
          "views in the stream",
          `${p.proc} delivered ${item.msg} in ${describe(item.config, item.transitional)} while in ${
            describe(config.id, config.transitional)
          }`,
          item.at,
        );
      }
    }
  }
}

function describe(id: string, transitional: boolean): string {
  return `${transitional ? "transitional " : "view "}${id}`;
}

interface Stream {
  proc: string;
  /** Item names in stream order ("message n01#1#3", "view …", "transitional …"). */
  names: string[];
  /** First position of each name. */
  position: Map<string, number>;
}

function streamOf(p: ProcFacts): Stream {
  const names: string[] = [];
  for (const item of p.history.items) {
    if (item.kind === "deliver") names.push(`message ${item.msg}`);
    else if (item.kind === "view" || item.kind === "transitional") {
      names.push(describe(item.id, item.kind === "transitional"));
    }
  }
  const position = new Map<string, number>();
  names.forEach((n, i) => {
    if (!position.has(n)) position.set(n, i);
  });
  return { proc: p.proc, names, position };
}

/** Walks `a`'s stream; the positions of the shared items in `b` must increase. Reports the first inversion. */
function comparePair(a: Stream, b: Stream, r: Report): void {
  let furthest = -1;
  for (let i = 0; i < a.names.length; i++) {
    const name = a.names[i];
    const j = b.position.get(name);
    if (j === undefined || a.position.get(name) !== i) continue; // a duplicate is property 6's
    if (j < furthest) {
      const other = b.names[furthest];
      r.add(2, "one order", `${a.proc} has ${other} before ${name}, ${b.proc} has ${name} before ${other}`);
      return;
    }
    furthest = j;
  }
}
