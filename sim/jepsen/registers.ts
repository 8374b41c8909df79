/**
 * Checks of registers (writes, local reads, compare-and-sets) that hold in every run, partitions or
 * not: nothing acknowledged is lost, nothing is read that was never written, the replicas end equal,
 * and each process's own view only moves forward — monotonic reads, read-your-writes, monotonic
 * writes, writes-follow-reads (versions are Lamport stamps, so each of these is a comparison).
 * @module
 */
import type { HistoryOp, OpHistory, RegisterRead, Version } from "../gdm/op_history.ts";
import type { Anomaly } from "./anomaly.ts";
import { compareVersions, precedes, showOp, showVersion, versionKey } from "./versions.ts";

type Writer = Extract<HistoryOp, { f: "write" | "cas" }>;

/** The writes and reads of each key. */
function byKey(h: OpHistory): Map<string, { writes: Writer[]; reads: RegisterRead[] }> {
  const out = new Map<string, { writes: Writer[]; reads: RegisterRead[] }>();
  const entry = (k: string) => {
    let e = out.get(k);
    if (e === undefined) out.set(k, e = { writes: [], reads: [] });
    return e;
  };
  for (const op of h.ops) {
    if (op.f === "write" || op.f === "cas") entry(op.key).writes.push(op);
    else if (op.f === "read" && op.outcome === "ok") entry(op.key).reads.push(op);
  }
  for (const f of h.final) for (const k of Object.keys(f.registers)) entry(k);
  return out;
}

/** The write that made `value` (values are unique per key; a deletion is found by its version). */
function writerOf(writes: readonly Writer[], value: string | null, version: Version): Writer | undefined {
  if (value !== null) return writes.find((w) => w.value === value);
  return writes.find((w) =>
    w.value === null && w.version !== undefined && versionKey(w.version) === versionKey(version)
  );
}

/** Runs the register checks. */
export function checkRegisters(h: OpHistory, out: Anomaly[]): void {
  const survivors = new Set(h.survivors);
  for (const [key, { writes, reads }] of byKey(h)) {
    // The replicas end equal.
    const finals = h.final.map((f) => ({ process: f.process, r: f.registers[key] })).filter((f) =>
      f.r !== undefined
    );
    const ref = finals[0];
    for (const f of finals.slice(1)) {
      if (f.r.value !== ref.r.value || versionKey(f.r.version) !== versionKey(ref.r.version)) {
        out.push({
          kind: "divergent end",
          detail: `${key}: ${ref.process} ends with ${ref.r.value ?? "∅"} v${
            showVersion(ref.r.version)
          }, ${f.process} with ${f.r.value ?? "∅"} v${showVersion(f.r.version)}`,
        });
        break;
      }
    }
    // What is read, or left at the end, was written (and with the version it was written with).
    const seen: Array<{ what: string; value: string | null; version: Version; before?: number }> = [];
    for (const r of reads) {
      seen.push({ what: showOp(r), value: r.value ?? null, version: r.version ?? null, before: r.complete });
    }
    if (ref !== undefined) {
      seen.push({ what: `the end state of ${key}`, value: ref.r.value, version: ref.r.version });
    }
    for (const s of seen) {
      if (s.version === null) continue;
      const w = writerOf(writes, s.value, s.version);
      if (w === undefined) {
        if (s.value !== null) {
          out.push({ kind: "invented value", detail: `${s.what}: nobody wrote ${s.value} to ${key}` });
        }
        continue;
      }
      if (s.before !== undefined && w.invoke > s.before) {
        out.push({
          kind: "read from the future",
          detail: `${s.what} returned what ${showOp(w)} wrote later`,
        });
      }
      if (w.version !== undefined && w.outcome === "ok" && versionKey(w.version) !== versionKey(s.version)) {
        out.push({
          kind: "version mismatch",
          detail: `${s.what} shows ${s.value ?? "∅"} at v${showVersion(s.version)}, written as v${
            showVersion(w.version)
          } (${showOp(w)})`,
        });
      }
    }
    // No lost acknowledged write: a write promised to last is the end version of its key, or older.
    const observed = new Set(reads.filter((r) => survivors.has(r.process)).map((r) => r.value));
    const end = ref?.r.version ?? null;
    for (const w of writes) {
      if (w.outcome !== "ok" || w.version === undefined || w.version === null) continue;
      if (!survivors.has(w.process) && !(w.value !== null && observed.has(w.value))) continue;
      if (ref !== undefined && compareVersions(end, w.version) < 0) {
        out.push({ kind: "lost write", detail: `${showOp(w)}; ${key} ends at v${showVersion(end)}` });
      }
    }
    checkSessionOrder(key, writes, reads, out);
  }
}

/** Monotonic reads, read-your-writes, monotonic writes and writes-follow-reads, per process. */
function checkSessionOrder(
  key: string,
  writes: readonly Writer[],
  reads: readonly RegisterRead[],
  out: Anomaly[],
): void {
  const byProcess = new Map<string, Array<{ op: HistoryOp; version: Version; write: boolean }>>();
  const add = (op: HistoryOp, version: Version | undefined, write: boolean) => {
    if (op.outcome !== "ok" || version === undefined) return;
    let list = byProcess.get(op.process);
    if (list === undefined) byProcess.set(op.process, list = []);
    list.push({ op, version, write });
  };
  for (const w of writes) add(w, w.version, true);
  for (const r of reads) add(r, r.version, false);
  for (const list of byProcess.values()) {
    list.sort((a, b) => a.op.invoke - b.op.invoke);
    for (let j = 0; j < list.length; j++) {
      const b = list[j];
      for (let i = 0; i < j; i++) {
        const a = list[i];
        if (!precedes(a.op, b.op)) continue;
        const c = compareVersions(b.version, a.version);
        // A later write must be newer than anything before it; a later read at least as new.
        if (b.write ? c <= 0 : c < 0) {
          const kind = a.write
            ? (b.write ? "monotonic writes" : "read your writes")
            : b.write
            ? "writes follow reads"
            : "monotonic reads";
          out.push({ kind, detail: `${key}: ${showOp(b.op)} after ${showOp(a.op)}` });
          return;
        }
      }
    }
  }
}
