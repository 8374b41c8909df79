/**
 * Browser tabs that sleep (issue 15): a tab's timers are throttled while it is hidden (to once a
 * second, later once a minute) and it may be frozen or put in the back/forward cache. A ring member
 * in such a tab must neither hold the token up nor make the others time out on it:
 *
 * - hidden: `gcm.setBackground(true)` — it passes the token on at once instead of holding it on a
 *   (throttled) idle timer; after `hiddenLeaveMs` still hidden it leaves (`gcm.suspend()`);
 * - visible again: `setBackground(false)`, and `gcm.resume()` if it had left (a new incarnation);
 * - `freeze` / `pagehide`: it leaves gracefully as far as it still can (`suspend()`; if the page
 *   freezes before the token comes, the others remove it as after a crash);
 * - `resume` / `pageshow` from the back/forward cache: `resume()`.
 *
 * A tab paused without any of these events (a debugger, an OS that stopped the process) is caught by
 * the GCM itself: a timer that fires far too late makes it start over as a new incarnation.
 * @module
 */
import { type Clock, SystemClock, type TimerId } from "../base/clock.ts";
import type { GroupCommunicationManager } from "./manager.ts";

/** Options of {@link watchPageLifecycle}. */
export interface PageLifecycleOptions {
  /** How long the tab may stay hidden before it leaves the group (it rejoins when shown), ms. @default {60_000} */
  hiddenLeaveMs?: number;
  /** Time source of that delay. @default {a SystemClock} */
  clock?: Clock;
}

/** The parts of `document` and `window` the watch uses (so that it type-checks without the DOM lib). */
interface PageLike {
  readonly visibilityState: string;
  addEventListener(type: string, fn: (event: { persisted?: boolean }) => void): void;
  removeEventListener(type: string, fn: (event: { persisted?: boolean }) => void): void;
}

/**
 * Keeps `gcm` in step with the page's lifecycle (see the module documentation); returns a function
 * that stops watching. Outside a browser (no `document`) it does nothing.
 */
export function watchPageLifecycle(
  gcm: GroupCommunicationManager,
  options: PageLifecycleOptions = {},
): () => void {
  const g = globalThis as { document?: PageLike; addEventListener?: PageLike["addEventListener"] };
  const doc = g.document;
  const win = g as unknown as PageLike;
  if (doc === undefined || typeof g.addEventListener !== "function") return () => {};
  const hiddenLeaveMs = options.hiddenLeaveMs ?? 60_000;
  const clock = options.clock ?? new SystemClock();
  let leaveTimer: TimerId | undefined;
  const suspend = () => void gcm.suspend(); // suspend() never rejects: it resolves once the token is handed on
  const visibility = () => {
    const hidden = doc.visibilityState === "hidden";
    gcm.setBackground(hidden);
    if (leaveTimer !== undefined) clock.clearTimer(leaveTimer);
    leaveTimer = undefined;
    if (hidden) leaveTimer = clock.setTimer(hiddenLeaveMs, suspend);
    else gcm.resume();
  };
  const pageshow = (e: { persisted?: boolean }) => {
    if (e.persisted === true) gcm.resume();
  };
  const resume = () => gcm.resume();
  const listeners: Array<[PageLike, string, (e: { persisted?: boolean }) => void]> = [
    [doc, "visibilitychange", visibility],
    [doc, "freeze", suspend],
    [doc, "resume", resume],
    [win, "pagehide", suspend],
    [win, "pageshow", pageshow],
  ];
  for (const [target, type, fn] of listeners) target.addEventListener(type, fn);
  if (doc.visibilityState === "hidden") visibility();
  return () => {
    if (leaveTimer !== undefined) clock.clearTimer(leaveTimer);
    for (const [target, type, fn] of listeners) target.removeEventListener(type, fn);
  };
}
