/**
 * Checks of grow-only sets (elements added, whole sets read locally), in every run: no acknowledged
 * add is lost, no element appears that nobody added, the replicas end with the same set, and a
 * process never sees an element disappear or misses its own acknowledged add.
 * @module
 */
import type { OpHistory, SetAdd, SetRead } from "../gdm/op_history.ts";
import type { Anomaly } from "./anomaly.ts";
import { precedes, showOp } from "./versions.ts";

/** Runs the set checks. */
export function checkSets(h: OpHistory, out: Anomaly[]): void {
  const survivors = new Set(h.survivors);
  const names = new Set<string>();
  for (const op of h.ops) if (op.f === "add" || op.f === "read-set") names.add(op.set);
  for (const f of h.final) for (const s of Object.keys(f.sets)) names.add(s);
  for (const set of names) {
    const adds = h.ops.filter((o): o is SetAdd => o.f === "add" && o.set === set);
    const reads = h.ops.filter((o): o is SetRead =>
      o.f === "read-set" && o.set === set && o.outcome === "ok"
    );
    const added = new Map(adds.map((a) => [a.element, a]));
    const finals = h.final.map((f) => ({ process: f.process, elements: new Set(f.sets[set] ?? []) }));
    for (const f of finals.slice(1)) {
      const a = finals[0].elements;
      if (f.elements.size !== a.size || [...a].some((e) => !f.elements.has(e))) {
        out.push({
          kind: "divergent end",
          detail: `set ${set}: ${
            finals[0].process
          } ends with ${a.size} elements, ${f.process} with ${f.elements.size}`,
        });
        break;
      }
    }
    for (const r of reads) {
      for (const e of r.elements ?? []) {
        const a = added.get(e);
        if (a === undefined) {
          out.push({ kind: "invented element", detail: `${showOp(r)} saw ${e}, which nobody added` });
        } else if (r.complete !== undefined && a.invoke > r.complete) {
          out.push({ kind: "read from the future", detail: `${showOp(r)} saw ${e} before ${showOp(a)}` });
        }
      }
    }
    if (finals.length > 0) {
      for (const e of finals[0].elements) {
        if (!added.has(e)) {
          out.push({ kind: "invented element", detail: `set ${set} ends with ${e}, which nobody added` });
        }
      }
      const observed = new Set(
        reads.filter((r) => survivors.has(r.process)).flatMap((r) => r.elements ?? []),
      );
      for (const a of adds) {
        if (a.outcome !== "ok" || (!survivors.has(a.process) && !observed.has(a.element))) continue;
        if (!finals[0].elements.has(a.element)) {
          out.push({ kind: "lost add", detail: `${showOp(a)}; set ${set} ends without it` });
        }
      }
    }
    // A process's reads only grow, and include its own acknowledged adds.
    const byProcess = new Map<string, Array<SetAdd | SetRead>>();
    for (const op of [...adds.filter((a) => a.outcome === "ok"), ...reads]) {
      const list = byProcess.get(op.process) ?? [];
      list.push(op);
      byProcess.set(op.process, list);
    }
    for (const list of byProcess.values()) {
      list.sort((a, b) => a.invoke - b.invoke);
      for (const op of list) {
        if (op.f !== "read-set") continue;
        const got = new Set(op.elements ?? []);
        const missed = list.filter((p) => precedes(p, op))
          .flatMap((p) => (p.f === "add" ? [p.element] : p.elements ?? []))
          .find((e) => !got.has(e));
        if (missed !== undefined) {
          out.push({
            kind: "monotonic set reads",
            detail: `${showOp(op)} misses ${missed}, seen or added by the process before`,
          });
          break;
        }
      }
    }
  }
}
