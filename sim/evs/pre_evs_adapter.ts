/**
 * TEMPORARY (issue 13): the recorder is written against the GCM's extended-virtual-synchrony event
 * contract — views with ids and `previous`, `transitional` events, deliveries naming their
 * configuration, `holds()`, an `error` event for listener exceptions. The GCM on `main` predates it
 * (views without ids, deliveries naming a ring lineage, no transitional configurations). This module
 * is the one place that bridges the two, so the simulator runs on either:
 * - {@link preEvsAdapter} gives the recorder the contract's events from either GCM. For the old one
 *   it derives a view id from the member set (its index is not the same at every member: issue 13),
 *   `previous` from the process's last view, and a delivery's configuration from the current view;
 * - {@link waivePreEvs} drops the verdicts the old GCM cannot earn, because it does not provide what
 *   they check (issue 13): transitional configurations, same-set delivery, views at one point of the
 *   stream and one order across ring lineages, safe delivery in the configuration it names,
 *   self-delivery; and, while no `error` event was seen, the count of listener exceptions.
 * Delete this file, and the calls to it, once the GCM emits the contract's events.
 * @module
 */

import type { DeliverEvent } from "../../gcm/events.ts";
import type { GroupCommunicationManager } from "../../gcm/manager.ts";
import type { Member } from "../../gcm/types.ts";
import type { Violation } from "./check.ts";
import type { History } from "./history.ts";

/** A regular view as the contract emits it. */
export interface EvsViewEvent {
  id: string;
  index: number;
  members: string[];
  detail: Member[];
  previous: string;
}

/** A transitional configuration as the contract emits it. */
export interface EvsTransitionalEvent {
  id: string;
  previous: string;
  next: string;
  members: string[];
  detail: Member[];
}

/** A delivery as the contract emits it. */
export interface EvsDeliverEvent {
  from: string;
  fromIncarnation: number;
  seq: number;
  level: "agreed" | "safe";
  data: Uint8Array;
  forwardedFor?: string;
  /** Id of the configuration it is delivered in. */
  view: string;
  transitional: boolean;
}

/** What the recorder subscribes to. */
export interface EvsHandlers {
  view(v: EvsViewEvent): void;
  transitional(t: EvsTransitionalEvent): void;
  /** A delivery of the application's stream. */
  deliver(d: EvsDeliverEvent): void;
  /** An application listener threw; the GCM reported it. */
  error(): void;
}

/** The contract's surface of one GCM, as the recorder uses it. */
export interface EvsSource {
  /** Subscribes to the events of the contract. */
  subscribe(handlers: EvsHandlers): void;
  /** A delivery of another stream (the GDM's), in the contract's shape. */
  delivery(d: DeliverEvent): EvsDeliverEvent;
  /** Whether this process holds (received or delivered) the message. */
  holds(originId: string, originInc: number, seq: number): boolean;
  /** Whether the GCM reports listener exceptions as `error` events (only then are listener faults injected). */
  readonly reportsErrors: boolean;
  /** Whether the GCM emits the contract's events itself (false: the pre-EVS GCM, events derived here). */
  readonly native: boolean;
}

interface PreEvsCore {
  multicast: {
    seen(originId: string, originInc: number): number;
    holds?: (originId: string, originInc: number, seq: number) => boolean;
  };
}

type LooseOn = (event: string, fn: (value: never) => void) => () => void;

/** The contract's events from `gcm`, whichever GCM it is. */
export function preEvsAdapter(gcm: GroupCommunicationManager): EvsSource {
  const on = gcm.on.bind(gcm) as unknown as LooseOn;
  let native = true;
  try {
    on("transitional", () => {})();
  } catch {
    native = false; // the pre-EVS GCM has no listener list for the event
  }
  let reportsErrors = true;
  try {
    on("error", () => {})();
  } catch {
    reportsErrors = false;
  }
  const core = gcm.core as unknown as PreEvsCore;
  // The derived view id of the current view (pre-EVS GCM), per GCM incarnation.
  let current = { inc: -1, id: "" };
  const currentId = () => (current.inc === gcm.incarnation ? current.id : "");
  const convert = (d: DeliverEvent): EvsDeliverEvent => {
    const given = d as unknown as Partial<EvsDeliverEvent>;
    if (native && given.view !== undefined) return d as unknown as EvsDeliverEvent;
    return { ...d, view: currentId(), transitional: false };
  };
  return {
    reportsErrors,
    native,
    subscribe(h) {
      if (native) {
        on("view", (v: EvsViewEvent) => h.view(v));
        on("transitional", (t: EvsTransitionalEvent) => h.transitional(t));
      } else {
        gcm.on("view", (v) => {
          const id = v.detail.map((m) => `${m.id}#${m.inc}`).sort().join(",");
          const previous = currentId();
          current = { inc: gcm.incarnation, id };
          h.view({ ...v, id, previous });
        });
      }
      gcm.on("deliver", (d) => h.deliver(convert(d)));
      if (reportsErrors) on("error", () => h.error());
    },
    delivery: convert,
    holds(originId, originInc, seq) {
      const m = core.multicast;
      return m.holds !== undefined ? m.holds(originId, originInc, seq) : m.seen(originId, originInc) >= seq;
    },
  };
}

/** The stat that counts runs on a pre-EVS GCM, whose verdicts are waived in part. */
export const PRE_EVS_RUNS = "pre-EVS runs (checks waived)";

/** Checks the pre-EVS GCM cannot earn. */
const NOT_PROVIDED = [
  "transitional configuration",
  "same set",
  "views in the stream",
  "one order",
  "safe",
  "self-delivery",
];

/**
 * The violations that stand: with a pre-EVS GCM (`preEvs`), those of the checks it does not provide
 * are dropped; with no `error` event in the run, so is the count of listener exceptions.
 */
export function waivePreEvs(
  history: History,
  violations: readonly Violation[],
  preEvs: boolean,
): Violation[] {
  const waived = new Set<string>(preEvs ? NOT_PROVIDED : []);
  if (!history.procs.some((p) => p.items.some((i) => i.kind === "error"))) waived.add("listener isolation");
  return violations.filter((v) => !waived.has(v.name));
}
