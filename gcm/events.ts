/**
 * What a Group Communication Manager tells the application: the event types, and how they are built
 * from what the ring core reports (views, transitional configurations, merges).
 * @module
 */
import type { ListenerErrorEvent } from "../base/emitter.ts";
import type { Transitional } from "./multicast.ts";
import type { DeliveryLevel, Member, View, ViewMode } from "./types.ts";

/**
 * Two groups merged (3.7.3): this node's view gained members that were not in its previous view. A
 * merge normally brings the other group's whole ring in one view; a member that was busy (in a critical
 * section) comes in a view later, with an event of its own. A plain join is a merge with a lone node.
 */
export interface MergeEvent {
  /** This node's view before the merge. */
  previous: ViewEvent;
  /** The other side: the members of `view` that were not in `previous` (index 0: not known here). */
  other: ViewEvent;
  /** The new committed view. */
  view: ViewEvent;
}

/** This node left the group. */
export interface LeaveEvent {
  /**
   * True when the node handed the token on (a crash or `close()` is no leave); false for `stalled`:
   * the node starts over as a new incarnation without a hand-over.
   */
  graceful: boolean;
  /**
   * `requested`: the application called `leave()`; `health`: a health check failed (3.7.3);
   * `suspended`: `suspend()` (a browser tab hidden for long or frozen, see `watchPageLifecycle`);
   * `stalled`: the node's timers fired far too late (its process or tab was paused), so the others
   * have removed it — it rejoins at once as a new incarnation.
   */
  reason: "requested" | "health" | "suspended" | "stalled";
  /** Whether this node will rejoin by itself (once every health check passes, on `resume()`, at once). */
  rejoins: boolean;
}

/** A committed view. */
export interface ViewEvent {
  /** Identifier: the same at every member that installs this view, different for every other view. */
  id: string;
  /** Index in the globalView vector (each member's views have rising indices). */
  index: number;
  /** Identifier of the view this node installed before ("" for its first). */
  previous: string;
  /** Member node IDs in ring order. */
  members: string[];
  /** Members with their incarnations. */
  detail: Member[];
  /** View mode that committed it. */
  mode: ViewMode;
  /** Quorum policy: whether the view has more than `expectedSize / 2` members (always true without it). */
  inQuorum: boolean;
}

/** A delivered multicast message. */
export interface DeliverEvent {
  /** Node ID of the sender (the member that multicast it). */
  from: string;
  /** Incarnation of the sender. */
  fromIncarnation: number;
  /** Per-sender sequence number. */
  seq: number;
  /** Delivery level. */
  level: DeliveryLevel;
  /** Payload (do not modify). */
  data: Uint8Array;
  /** Open-group send: the non-member that handed the message to `from`. */
  forwardedFor?: string;
  /** Stream of the message (always 0, the application's, for `deliver` events). */
  stream: number;
  /**
   * ID of the configuration this node delivered the message in: a regular view ({@link ViewEvent.id})
   * or a transitional configuration ({@link TransitionalEvent.id}).
   */
  view: string;
  /** Whether it was delivered in a transitional configuration. */
  transitional: boolean;
}

/**
 * The transitional configuration between two regular views (extended virtual synchrony): the members
 * that move together from `previous` to `next`. It comes after the last message this node delivers in
 * `previous` and before the `view` event of `next`; the messages of `previous` that could not be
 * delivered there (a `safe` one not every member was known to hold, anything after a message that no
 * surviving member had) are delivered in it.
 */
export interface TransitionalEvent {
  /** Identifier, the same at every member that moves from `previous` to `next`. */
  id: string;
  /** The regular view left. */
  previous: string;
  /** The regular view installed next ("" when this node leaves the group). */
  next: string;
  /** Member node IDs, in `next`'s ring order. */
  members: string[];
  /** Members with their incarnations. */
  detail: Member[];
}

/** Events of {@link GroupCommunicationManager}. */
export interface GcmEvents {
  /** A view was committed. */
  view: ViewEvent;
  /** A multicast message was delivered. */
  deliver: DeliverEvent;
  /** The transitional configuration before the next view (extended virtual synchrony). */
  transitional: TransitionalEvent;
  /** An application listener threw or rejected; the protocol state is unchanged by it. */
  error: ListenerErrorEvent;
  /** The token arrived at this node. */
  token: { seq: number };
  /** This node left the group. */
  leave: LeaveEvent;
  /** `close()` was called: the manager is stopped for good (no `leave` follows). */
  close: Record<string, never>;
  /** Groups merged: this view brought in members that were not in the previous one (3.7.3). */
  merge: MergeEvent;
  /** A health check changed state (critical resources): the node leaves while any is unhealthy. */
  health: { name: string; healthy: boolean };
}

/** Snapshot of the core state (diagnostics and tests). */
export interface GcmState {
  /** View State (figure 9). */
  viewState: "agreement" | "chaos" | "reserve";
  /** Token State (figure 10). */
  tokenState: "eating" | "hungry" | "starving";
  /** Largest committed view index known here. */
  globalViewNumber: number;
  /** Node IDs of the nodelist of the last token this node sent. */
  localView: string[];
  /** Whether this node holds a ring of one. */
  lone: boolean;
  /** Whether this node has left the group. */
  left: boolean;
}

/** The application's view event of a committed view. */
export function viewEvent(view: View, previous: string, mode: ViewMode, inQuorum: boolean): ViewEvent {
  return {
    id: view.id,
    index: view.index,
    previous,
    members: view.members.map((m) => m.id),
    detail: view.members.slice(),
    mode,
    inQuorum,
  };
}

/** The application's event of a transitional configuration. */
export function transitionalEvent(t: Transitional): TransitionalEvent {
  return {
    id: t.id,
    previous: t.previous,
    next: t.next,
    members: t.members.map((m) => m.id),
    detail: t.members.slice(),
  };
}

/**
 * The merge (3.7.3) a new view makes after `previous`: the members it brought in, or undefined when
 * it brought none. `inQuorum` says whether a group of that size would be in quorum.
 */
export function mergeOf(
  previous: ViewEvent,
  view: ViewEvent,
  inQuorum: (size: number) => boolean,
): MergeEvent | undefined {
  const had = new Set(previous.detail.map((m) => `${m.id}#${m.inc}`));
  const added = view.detail.filter((m) => !had.has(`${m.id}#${m.inc}`));
  if (added.length === 0) return undefined;
  const other: ViewEvent = {
    id: "",
    index: 0,
    previous: "",
    members: added.map((m) => m.id),
    detail: added,
    mode: view.mode,
    inQuorum: inQuorum(added.length),
  };
  return { previous, other, view };
}
