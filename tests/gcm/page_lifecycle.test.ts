/**
 * `watchPageLifecycle` wires a tab's events to the GCM: hidden → background (and, hidden for long, a
 * suspend), shown → foreground and resume; freeze and pagehide → suspend; resume and a pageshow from
 * the back/forward cache → resume. A fake page stands in for the browser's `document` and `window`.
 */
import { afterEach, describe, expect, it } from "vitest";
import { VirtualClock } from "../../base/clock.ts";
import type { GroupCommunicationManager } from "../../gcm/manager.ts";
import { watchPageLifecycle } from "../../gcm/page_lifecycle.ts";

type Listener = (event: { persisted?: boolean }) => void;

/** A target with listeners, like `document` or `window`. */
class FakeTarget {
  readonly #listeners = new Map<string, Set<Listener>>();
  addEventListener(type: string, fn: Listener): void {
    (this.#listeners.get(type) ?? this.#listeners.set(type, new Set()).get(type)!).add(fn);
  }
  removeEventListener(type: string, fn: Listener): void {
    this.#listeners.get(type)?.delete(fn);
  }
  dispatch(type: string, event: { persisted?: boolean } = {}): void {
    for (const fn of this.#listeners.get(type) ?? []) fn(event);
  }
}

const g = globalThis as Record<string, unknown>;
afterEach(() => {
  delete g.document;
  delete g.addEventListener;
  delete g.removeEventListener;
});

function fakePage() {
  const doc = Object.assign(new FakeTarget(), { visibilityState: "visible" });
  const win = new FakeTarget();
  g.document = doc;
  g.addEventListener = win.addEventListener.bind(win);
  g.removeEventListener = win.removeEventListener.bind(win);
  const calls: string[] = [];
  const gcm = {
    setBackground: (on: boolean) => calls.push(`background ${on}`),
    suspend: () => {
      calls.push("suspend");
      return Promise.resolve();
    },
    resume: () => calls.push("resume"),
  } as unknown as GroupCommunicationManager;
  return { doc, win, gcm, calls };
}

describe("watchPageLifecycle", () => {
  it("hidden: background at once, suspended after hiddenLeaveMs; shown: foreground and resume", () => {
    const { doc, gcm, calls } = fakePage();
    const clock = new VirtualClock();
    const stop = watchPageLifecycle(gcm, { hiddenLeaveMs: 60_000, clock });
    doc.visibilityState = "hidden";
    doc.dispatch("visibilitychange");
    expect(calls).toEqual(["background true"]);
    clock.advance(59_999);
    expect(calls).toEqual(["background true"]);
    clock.advance(1);
    expect(calls).toEqual(["background true", "suspend"]);
    doc.visibilityState = "visible";
    doc.dispatch("visibilitychange");
    expect(calls).toEqual(["background true", "suspend", "background false", "resume"]);
    // Shown again before the delay: no suspend.
    doc.visibilityState = "hidden";
    doc.dispatch("visibilitychange");
    clock.advance(30_000);
    doc.visibilityState = "visible";
    doc.dispatch("visibilitychange");
    clock.advance(60_000);
    expect(calls.filter((c) => c === "suspend")).toHaveLength(1);
    stop();
    doc.dispatch("visibilitychange");
    expect(calls.at(-1)).toBe("resume"); // nothing after stop()
  });

  it("freeze and pagehide suspend; resume and a pageshow from the back/forward cache resume", () => {
    const { doc, win, gcm, calls } = fakePage();
    watchPageLifecycle(gcm, { clock: new VirtualClock() });
    doc.dispatch("freeze");
    doc.dispatch("resume");
    win.dispatch("pagehide");
    win.dispatch("pageshow", { persisted: false }); // a fresh load: nothing to resume
    win.dispatch("pageshow", { persisted: true });
    expect(calls).toEqual(["suspend", "resume", "suspend", "resume"]);
  });

  it("does nothing outside a browser", () => {
    const calls: string[] = [];
    const gcm = { setBackground: () => calls.push("x") } as unknown as GroupCommunicationManager;
    watchPageLifecycle(gcm)();
    expect(calls).toEqual([]);
  });
});
