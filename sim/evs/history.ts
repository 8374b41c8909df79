/**
 * The history of a simulated run as plain data: what every process incarnation saw, in its own order,
 * plus the run-wide facts the properties need (critical sections, the end of the run). The
 * {@link Recorder} builds it from live events; {@link checkHistory} judges it without looking at any
 * live object, so a history can be written by hand, mutated and checked again (tests/sim/).
 *
 * Names: a process is a node incarnation, written `"n01#2"` ({@link ProcKey}); a message is its
 * origin process and per-sender sequence number, `"n01#2#7"` ({@link MsgKey}). Every item carries
 * `step`, a counter over the whole run (the global order in which the recorder saw things), and `at`,
 * the virtual time in ms.
 * @module
 */

/** A process incarnation: `"<node id>#<incarnation>"`. */
export type ProcKey = string;
/** A message: `"<origin ProcKey>#<seq>"`. */
export type MsgKey = string;

/** Where and when an item happened. */
export interface Stamp {
  /** Position in the run-wide order of recorded items (strictly increasing). */
  step: number;
  /** Virtual time (ms). */
  at: number;
}

/** A regular configuration (view) was installed. */
export interface ViewItem extends Stamp {
  kind: "view";
  /** View identifier: equal ids mean the same view. */
  id: string;
  /** Its number; a process's view indices strictly increase. */
  index: number;
  /** Members in ring order. */
  members: ProcKey[];
  /** Id of the regular view this process installed before ("" for its first). */
  previous: string;
}

/** A transitional configuration T(previous → next) was installed. */
export interface TransitionalItem extends Stamp {
  kind: "transitional";
  id: string;
  /** The regular view being left. */
  previous: string;
  /** The regular view about to be installed (the next view item). */
  next: string;
  /** The members moving together from `previous` to `next`. */
  members: ProcKey[];
}

/** A message was delivered. */
export interface DeliverItem extends Stamp {
  kind: "deliver";
  msg: MsgKey;
  /** The sender process. */
  origin: ProcKey;
  seq: number;
  level: "agreed" | "safe";
  /** GCM stream (0: the application's). */
  stream: number;
  /** Fingerprint of the payload ({@link fingerprint}). */
  body: string;
  /** Id of the configuration it was delivered in (a regular view's or a transitional one's). */
  config: string;
  /** Whether `config` is a transitional configuration. */
  transitional: boolean;
  /** Open-group send: the non-member that handed the message to its origin (no send item exists then). */
  forwardedFor?: string;
  /**
   * Safe deliveries: the processes that held the message at this moment (of every process then running).
   * Absent in a history whose {@link History.holdersKnown} is false.
   */
  holders?: ProcKey[];
}

/** This process multicast a message. */
export interface SendItem extends Stamp {
  kind: "send";
  msg: MsgKey;
  level: "agreed" | "safe";
  stream: number;
  body: string;
  /** The view the message was bound to (`MulticastOptions.view`): dropped, never delivered, if it ended first. */
  onlyIn?: string;
}

/** An application listener of this process threw on purpose (the simulator's listener faults). */
export interface ThrowItem extends Stamp {
  kind: "throw";
  /** The event the throwing listener was called for. */
  event: string;
}

/** The GCM reported an exception of an application listener (`error` event). */
export interface ErrorItem extends Stamp {
  kind: "error";
}

/** The process stopped: crashed (halted silently) or left the group. */
export interface StopItem extends Stamp {
  kind: "crash" | "leave";
}

/** One item of a process's history. */
export type ProcItem =
  | ViewItem
  | TransitionalItem
  | DeliverItem
  | SendItem
  | ThrowItem
  | ErrorItem
  | StopItem;

/** An item without its {@link Stamp} (what a recorder fills in). */
export type Unstamped<T> = T extends unknown ? Omit<T, keyof Stamp> : never;

/** Everything one process incarnation saw, in its order. */
export interface ProcHistory {
  proc: ProcKey;
  items: ProcItem[];
}

/** A critical section (`withToken`) was entered or left. */
export interface CriticalItem extends Stamp {
  kind: "enter" | "exit";
  proc: ProcKey;
  /** On enter: whether the process held the token. */
  hadToken?: boolean;
  /** On enter: other processes holding a token of the same ring that names this process. */
  rivals?: ProcKey[];
}

/** A process running at the end of the run. */
export interface LiveProc {
  proc: ProcKey;
  /** Whether it is in the Agreement state. */
  agreed: boolean;
  /** Its view state, for messages ("agreement", "chaos", "reserve"). */
  state: string;
}

/** The end of a run: faults have stopped and the runner waited for the group to settle. */
export interface RunEnd extends Stamp {
  /** The processes running (started, not crashed, not left). */
  live: LiveProc[];
  /**
   * Step from which the runner sent its quiet-tail traffic on a settled group; absent when the run
   * did not settle (then only Termination and Validity are judged at the end).
   */
  quietFrom?: number;
}

/** A whole run. */
export interface History {
  /** The view mode the run used. */
  mode: string;
  procs: ProcHistory[];
  critical: CriticalItem[];
  /**
   * Whether safe deliveries name the processes that held the message at that moment. False for a
   * history read from outside real processes (their output does not show it): the checker then does
   * not judge where safe messages were held. @default {true}
   */
  holdersKnown?: boolean;
  /** Present once the runner declared the end of the run. */
  end?: RunEnd;
}

/** A short fingerprint of a payload (length and FNV-1a), so histories stay small plain data. */
export function fingerprint(data: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i], 0x01000193) >>> 0;
  return `${data.length}:${h.toString(16)}`;
}

/** The origin process of a message key. */
export function originOf(msg: MsgKey): ProcKey {
  return msg.slice(0, msg.lastIndexOf("#"));
}
