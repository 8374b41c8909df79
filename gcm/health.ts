/**
 * Critical resources (3.7.3): named health checks run on the injected Clock. The manager makes the
 * node leave the group while any check fails and rejoin once all pass again; this file only runs the
 * checks and reports their state changes.
 * @module
 */
import type { Clock, TimerId } from "../base/clock.ts";

/** Options of {@link GroupCommunicationManager.addHealthCheck}. */
export interface HealthCheckOptions {
  /** How often the check runs (time from the injected Clock). @default {1000} */
  intervalMs?: number;
}
interface Check {
  healthy: boolean;
  timer: TimerId | undefined;
  running: boolean;
}

/** The health checks of one manager. */
export class HealthChecks {
  readonly #checks = new Map<string, Check>();

  /** @param changed called when a check turns healthy or unhealthy. */
  constructor(readonly clock: Clock, readonly changed: (name: string, healthy: boolean) => void) {}

  /** Whether every check is healthy (true without checks). */
  get healthy(): boolean {
    for (const h of this.#checks.values()) if (!h.healthy) return false;
    return true;
  }

  /**
   * Runs `fn` every `intervalMs` (first at once); a check that returns false, rejects or throws is
   * unhealthy. Returns a function that removes the check.
   */
  add(name: string, fn: () => boolean | Promise<boolean>, options: HealthCheckOptions = {}): () => void {
    const intervalMs = options.intervalMs ?? 1000;
    if (!(intervalMs > 0)) throw new RangeError(`'intervalMs' must be positive, got ${options.intervalMs}`);
    if (this.#checks.has(name)) throw new RangeError(`health check '${name}' already exists`);
    const h: Check = { healthy: true, timer: undefined, running: false };
    this.#checks.set(name, h);
    const set = (healthy: boolean): void => {
      h.running = false;
      if (this.#checks.get(name) !== h || h.healthy === healthy) return;
      h.healthy = healthy;
      this.changed(name, healthy);
    };
    const run = (): void => {
      h.timer = this.clock.setTimer(intervalMs, run);
      if (h.running) return;
      h.running = true;
      let r: boolean | Promise<boolean>;
      try {
        r = fn();
      } catch {
        set(false);
        return;
      }
      Promise.resolve(r).then((ok) => set(ok === true), () => set(false));
    };
    h.timer = this.clock.setTimer(0, run);
    return () => {
      if (h.timer !== undefined) this.clock.clearTimer(h.timer);
      this.#checks.delete(name);
    };
  }

  /** Stops every check. */
  stop(): void {
    for (const h of this.#checks.values()) if (h.timer !== undefined) this.clock.clearTimer(h.timer);
  }
}
