/**
 * Linearizability of compare-and-set registers (keys written only by compare-and-sets), with the
 * version order the stamps give: a linearization exists exactly when every successful
 * compare-and-set wrote the version right after the one it expected (no update slipped in between,
 * none was lost), successful ones follow real time (one that finished before another began has the
 * older version), and every failed one had a reason (a newer version existed, written by an
 * operation begun before the failure was reported). A version that only an expectation shows, or that
 * no acknowledged operation wrote, when a compare-and-set of its writer's node whose outcome is unknown
 * came before, may never have been the group's (or not yet): the member read its own write before the
 * group confirmed it — a member cut off from the primary component, a whole-cluster crash — and the
 * group lost it or took it in later. Unless a compare that expected it succeeded (proof it was the
 * group's), such a version neither comes between two others nor has to exist for a compare against it
 * to fail.
 * @module
 */
import type { CompareAndSet, OpHistory, Version } from "../gdm/op_history.ts";
import type { Anomaly } from "./anomaly.ts";
import { compareVersions, precedes, showOp, showVersion, versionKey } from "./versions.ts";

/** Runs the compare-and-set checks on every key written by compare-and-sets only. */
export function checkCompareAndSet(h: OpHistory, out: Anomaly[]): void {
  const cas = h.ops.filter((o): o is CompareAndSet => o.f === "cas");
  const plainWritten = new Set(h.ops.filter((o) => o.f === "write").map((o) => (o as { key: string }).key));
  for (const key of new Set(cas.map((c) => c.key))) {
    if (plainWritten.has(key)) continue;
    const ops = cas.filter((c) => c.key === key);
    // Every version the history shows, with the operation that wrote it.
    const versions = new Map<string, { version: Version; op?: CompareAndSet }>();
    for (const c of ops) {
      if (c.outcome === "ok" && c.version !== undefined) {
        versions.set(versionKey(c.version), { version: c.version, op: c });
      }
    }
    const shown: Array<{ value?: string | null; version?: Version }> = [
      ...h.ops.filter((o) => o.f === "read" && o.key === key).map((r) =>
        r as { value?: string | null; version?: Version }
      ),
      ...h.final.map((f) => f.registers[key]).filter((r) => r !== undefined),
    ];
    for (const s of shown) {
      if (s.version === undefined || s.version === null || versions.has(versionKey(s.version))) continue;
      versions.set(versionKey(s.version), { version: s.version, op: ops.find((c) => c.value === s.value) });
    }
    // What a compare-and-set expected was read too: that version existed (its writer may be unknown) —
    // unless nothing else shows it and a write of its node with an unknown outcome came before: then
    // the reading member may have seen its own write before the group confirmed it, and the group may
    // have lost it (a member cut off, a whole-cluster crash) or take it in later.
    const maybeUnconfirmed = (c: CompareAndSet): boolean =>
      c.expected !== null &&
      ops.some((w) => w.outcome === "info" && nodeOf(w.process) === c.expected![1] && w.invoke < c.invoke);
    for (const c of ops) {
      // A compare that succeeded proves its version was the group's.
      if (c.expected === null || versions.has(versionKey(c.expected))) continue;
      if (c.outcome === "ok" || !maybeUnconfirmed(c)) {
        versions.set(versionKey(c.expected), { version: c.expected });
      }
    }
    const order = [...versions.values()].sort((a, b) => compareVersions(a.version, b.version));
    for (let i = 0; i < order.length; i++) {
      const c = order[i].op;
      if (c === undefined || c.outcome !== "ok") continue;
      const before = i === 0 ? null : order[i - 1].version;
      if (compareVersions(before, c.expected) !== 0) {
        out.push({
          kind: "lost update",
          detail: `${showOp(c)} expected v${showVersion(c.expected)}, but the version before it is v${
            showVersion(before)
          }`,
        });
      }
    }
    const done = ops.filter((c) => c.outcome === "ok" && c.version !== undefined);
    for (const a of done) {
      for (const b of done) {
        if (precedes(a, b) && compareVersions(a.version!, b.version!) >= 0) {
          out.push({
            kind: "real-time order",
            detail: `${showOp(b)} began after ${showOp(a)} ended, but is ordered before it`,
          });
        }
      }
    }
    const known = new Set(order.map((v) => versionKey(v.version)));
    const acknowledged = new Set<string>();
    for (const c of ops) {
      if (c.outcome === "ok" && c.version !== undefined) acknowledged.add(versionKey(c.version));
    }
    for (const f of ops) {
      if (f.outcome !== "fail") continue;
      // Expecting a version that may never have been the group's, or not yet (taken in later), the
      // compare may fail.
      const unconfirmed = f.expected !== null &&
        (!known.has(versionKey(f.expected)) ||
          (!acknowledged.has(versionKey(f.expected)) && maybeUnconfirmed(f)));
      const reason = unconfirmed || order.some((v) =>
        compareVersions(v.version, f.expected) > 0 &&
        (v.op === undefined || f.complete === undefined || v.op.invoke < f.complete)
      );
      if (!reason) {
        out.push({
          kind: "unjustified failure",
          detail: `${showOp(f)} failed, yet no version after v${showVersion(f.expected)} existed then`,
        });
      }
    }
  }
}

/** The node of a process (`node#incarnation`). */
function nodeOf(process: string): string {
  const i = process.lastIndexOf("#");
  return i < 0 ? process : process.slice(0, i);
}
