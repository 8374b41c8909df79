/**
 * The property checker: a pure function from a {@link History} to the violations of the
 * extended-virtual-synchrony properties 1–8 that the GCM promises (README "Guarantees";
 * numbering as in the simulator's contract):
 * 1 view identity (one member set per view id, increasing indices, membership, `previous`; Safety;
 *   consistent history in three-phase mode; at the end Termination and Validity),
 * 2 views in the stream and one order,
 * 3 transitional configurations,
 * 4 same-set delivery,
 * 5 self-delivery and no loss in the quiet tail,
 * 6 exactly once, FIFO, nothing invented or corrupted, level as sent, safe delivery,
 * 7 listener isolation,
 * 8 mutual exclusion.
 * Every violation names its property; the checks look at the whole run, per process incarnation.
 * @module
 */

import { checkDeliveries } from "./check_delivery.ts";
import { checkOrder } from "./check_order.ts";
import { checkIsolation, checkMutualExclusion } from "./check_run.ts";
import { checkTransitional, checkViews } from "./check_views.ts";
import { factsOf } from "./facts.ts";
import type { History } from "./history.ts";

/** One broken property. */
export interface Violation {
  /** The property's number (1–8). */
  property: number;
  /** The check's name, e.g. "same set" or "Validity". */
  name: string;
  /** What happened, naming processes, messages and views. */
  text: string;
  /** Virtual time of the item that showed it, when one did. */
  at?: number;
}

/** Collects violations, at most `perName` of each check (a broken run can break one check thousands of times). */
export class Report {
  readonly violations: Violation[] = [];
  readonly #count = new Map<string, number>();

  constructor(readonly perName = 5) {}

  /** Records a violation of `property`'s check `name`. */
  add(property: number, name: string, text: string, at?: number): void {
    const n = this.#count.get(name) ?? 0;
    this.#count.set(name, n + 1);
    if (n < this.perName) this.violations.push({ property, name, text, ...(at !== undefined ? { at } : {}) });
  }
}

/** Checks properties 1–8 on a history; an empty list means it holds them all. */
export function checkHistory(history: History): Violation[] {
  const facts = factsOf(history);
  const report = new Report();
  checkViews(facts, report);
  checkOrder(facts, report);
  checkTransitional(facts, report);
  checkDeliveries(facts, report);
  checkIsolation(facts, report);
  checkMutualExclusion(facts, report);
  return report.violations;
}

/** One line per violation: `t=120 [4 same set] …`. */
export function formatViolation(v: Violation): string {
  return `${v.at !== undefined ? `t=${v.at} ` : ""}[${v.property} ${v.name}] ${v.text}`;
}
