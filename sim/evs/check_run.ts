/**
 * Properties 7 (listener isolation: every exception thrown by an application listener is reported
 * as an `error` event; the other properties hold regardless, judged by their own checks) and 8
 * (mutual exclusion: never two processes inside a critical section at once, and only with the token).
 * @module
 */

import type { Report } from "./check.ts";
import type { Facts } from "./facts.ts";
import type { ProcKey } from "./history.ts";

/** Property 7: at every process, as many `error` events as listener throws. */
export function checkIsolation(f: Facts, r: Report): void {
  for (const p of f.procs) {
    let throws = 0;
    let errors = 0;
    for (const item of p.history.items) {
      if (item.kind === "throw") throws++;
      else if (item.kind === "error") errors++;
    }
    if (throws !== errors) {
      r.add(
        7,
        "listener isolation",
        `${p.proc}'s listeners threw ${throws} times; it reported ${errors} error events`,
      );
    }
  }
}

/** Property 8 over the run's critical sections, in the order they happened. */
export function checkMutualExclusion(f: Facts, r: Report): void {
  let inside: ProcKey | undefined;
  for (const c of f.history.critical) {
    if (c.kind === "exit") {
      if (inside === c.proc) inside = undefined;
      continue;
    }
    if (inside !== undefined) {
      r.add(8, "mutual exclusion", `${c.proc} entered while ${inside} is inside`, c.at);
    }
    if (c.hadToken === false) {
      r.add(8, "mutual exclusion", `${c.proc} ran its critical section without the token`, c.at);
    }
    for (const rival of c.rivals ?? []) {
      r.add(
        8,
        "mutual exclusion",
        `${c.proc} is inside while ${rival} holds a token of its ring naming it`,
        c.at,
      );
    }
    inside = c.proc;
  }
}
