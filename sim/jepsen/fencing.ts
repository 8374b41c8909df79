/**
 * Mutual exclusion by fencing token: every grant of a lock has a token no other grant of it had, and
 * a grant that begins after another ended has a larger token — so a resource that refuses any token
 * lower than the largest it saw serves one holder at a time, stale holders included. Releases name
 * tokens their process was granted.
 * @module
 */
import type { LockAcquire, OpHistory } from "../gdm/op_history.ts";
import type { Anomaly } from "./anomaly.ts";
import { precedes, showOp } from "./versions.ts";

/** Runs the fencing checks. */
export function checkFencing(h: OpHistory, out: Anomaly[]): void {
  const granted = h.ops.filter((o): o is LockAcquire =>
    o.f === "acquire" && o.outcome === "ok" && o.token !== undefined
  );
  for (const lock of new Set(granted.map((g) => g.lock))) {
    const grants = granted.filter((g) => g.lock === lock).sort((a, b) => a.invoke - b.invoke);
    const byToken = new Map<number, LockAcquire>();
    for (const g of grants) {
      const other = byToken.get(g.token!);
      if (other !== undefined) {
        out.push({ kind: "fencing token reused", detail: `${showOp(other)} and ${showOp(g)}` });
        return;
      }
      byToken.set(g.token!, g);
    }
    for (const a of grants) {
      for (const b of grants) {
        if (precedes(a, b) && b.token! <= a.token!) {
          out.push({
            kind: "fencing token went back",
            detail: `${showOp(b)} began after ${showOp(a)} ended`,
          });
          return;
        }
      }
    }
  }
  for (const r of h.ops) {
    if (r.f !== "release" || r.outcome !== "ok") continue;
    if (!granted.some((g) => g.process === r.process && g.lock === r.lock && g.token === r.token)) {
      out.push({ kind: "release of a token not granted", detail: showOp(r) });
    }
  }
}
