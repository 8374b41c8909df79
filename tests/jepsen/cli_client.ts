/**
 * A client of one `raincore node` process for the nemesis test: it issues one operation at a time on
 * stdin (registers, compare-and-sets, set adds, set reads, locks), waits for the line that completes
 * it, and records the operation in a client history ({@link HistoryOp}) with times on the test's own
 * clock. An operation whose process dies first stays `info` (its outcome is unknown).
 * @module
 */
import type { HistoryOp, Version } from "../../sim/gdm/op_history.ts";
import type { JsonChild, JsonLine } from "../../tools/json_child.ts";

/** Longest wait for one operation (a member stopped or cut off waits for the nemesis to end). */
const OP_DEADLINE_MS = 120_000;

/** The members' registers, compare-and-set registers, set and lock. */
export const REGISTERS = ["r0", "r1", "r2", "r3"];
export const CAS_KEYS = ["c0", "c1"];
export const SET = "s";
export const LOCK = "L";

const now = () => performance.now();
const version = (x: unknown): Version => (Array.isArray(x) ? [x[0] as number, x[1] as string] : null);
const text = (
  v: unknown,
): string | null => (v === null || v === undefined ? null : typeof v === "string" ? v : JSON.stringify(v));

/** Issues operations on one member process and records them. */
export class CliClient {
  readonly #child: JsonChild;
  readonly #process: string;
  readonly #ops: HistoryOp[];
  #unique = 0;
  /** The fencing token of the lock this process holds, if any. */
  #token: number | undefined;

  /** A client of `child`, recording as process `process` into `ops`. */
  constructor(child: JsonChild, process: string, ops: HistoryOp[]) {
    this.#child = child;
    this.#process = process;
    this.#ops = ops;
  }

  /** Runs random operations until `stop()` says so or the process dies. */
  async loop(stop: () => boolean, random: () => number): Promise<void> {
    while (!stop() && !this.#child.exited) {
      const roll = random();
      if (this.#token !== undefined) await (roll < 0.5 ? this.#write(random) : this.#release());
      else if (roll < 0.3) await this.#write(random);
      else if (roll < 0.45) await this.#read(REGISTERS[Math.floor(random() * REGISTERS.length)]);
      else if (roll < 0.7) await this.#compareAndSet(CAS_KEYS[Math.floor(random() * CAS_KEYS.length)]);
      else if (roll < 0.82) await this.#add();
      else if (roll < 0.9) await this.#readSet();
      else await this.#acquire();
    }
  }

  /** The value this process writes next (unique in the whole history). */
  #value(): string {
    return `${this.#process}:${++this.#unique}`;
  }

  /** Writes `cmd`, then waits for the first line from now on that `done` accepts. */
  async #call(cmd: string, done: (l: JsonLine) => boolean): Promise<JsonLine | undefined> {
    const mark = this.#child.lines.length;
    this.#child.write(cmd);
    try {
      return await this.#child.waitFor(done, OP_DEADLINE_MS, mark);
    } catch {
      return undefined; // the process died (or never answered): the outcome is unknown
    }
  }

  #record<T extends HistoryOp>(op: T): T {
    this.#ops.push(op);
    return op;
  }

  async #write(random: () => number): Promise<void> {
    const key = REGISTERS[Math.floor(random() * REGISTERS.length)];
    const value = this.#value();
    const op = this.#record({
      f: "write",
      process: this.#process,
      key,
      value,
      invoke: now(),
      outcome: "info" as const,
    });
    const l = await this.#call(
      `set ${key} ${JSON.stringify(value)}`,
      (l) => (l.event === "written" && l.key === key && l.value === value) || l.event === "error",
    );
    if (l?.event === "written") {
      Object.assign(op, { outcome: "ok", complete: now(), version: version(l.stamp) });
    }
  }

  async #read(key: string): Promise<{ value: string | null; version: Version } | undefined> {
    const invoke = now();
    const l = await this.#call(`get ${key}`, (l) => l.event === "value" && l.key === key);
    if (l === undefined) return undefined;
    const got = { value: text(l.value), version: version(l.stamp) };
    this.#record({ f: "read", process: this.#process, key, invoke, complete: now(), outcome: "ok", ...got });
    return got;
  }

  async #compareAndSet(key: string): Promise<void> {
    const seen = await this.#read(key);
    if (seen === undefined) return;
    const value = this.#value();
    const op = this.#record({
      f: "cas",
      process: this.#process,
      key,
      expected: seen.version,
      value,
      invoke: now(),
      outcome: "info" as const,
    });
    const l = await this.#call(
      `cas ${key} ${JSON.stringify(seen.value)} ${JSON.stringify(value)}`,
      (l) => (l.event === "cas" && l.key === key && l.value === value) || l.event === "error",
    );
    if (l?.event !== "cas") return;
    if (l.ok === true) {
      Object.assign(op, {
        outcome: "ok",
        complete: now(),
        ...(l.stamp === null ? {} : { version: version(l.stamp) }),
      });
    } else Object.assign(op, { outcome: "fail", complete: now() });
  }

  async #add(): Promise<void> {
    const element = this.#value();
    const op = this.#record({
      f: "add",
      process: this.#process,
      set: SET,
      element,
      invoke: now(),
      outcome: "info" as const,
    });
    const key = `${SET}/${element}`;
    const l = await this.#call(
      `set ${key} 1`,
      (l) => (l.event === "written" && l.key === key) || l.event === "error",
    );
    if (l?.event === "written") Object.assign(op, { outcome: "ok", complete: now() });
  }

  async #readSet(): Promise<void> {
    const invoke = now();
    const l = await this.#call(`list ${SET}/`, (l) => l.event === "list" && l.prefix === `${SET}/`);
    if (l === undefined) return;
    const elements = (l.keys as string[]).map((k) => k.slice(SET.length + 1));
    this.#record({
      f: "read-set",
      process: this.#process,
      set: SET,
      invoke,
      complete: now(),
      outcome: "ok",
      elements,
    });
  }

  async #acquire(): Promise<void> {
    const op = this.#record({
      f: "acquire",
      process: this.#process,
      lock: LOCK,
      invoke: now(),
      outcome: "info" as const,
    });
    const l = await this.#call(
      `lock ${LOCK}`,
      (l) => (l.event === "locked" && l.name === LOCK) || l.event === "error",
    );
    if (l?.event === "locked") {
      this.#token = l.token as number;
      Object.assign(op, { outcome: "ok", complete: now(), token: this.#token });
    } else if (l?.name === "LockTimeoutError") Object.assign(op, { outcome: "fail", complete: now() });
  }

  async #release(): Promise<void> {
    const token = this.#token!;
    this.#token = undefined;
    const op = this.#record({
      f: "release",
      process: this.#process,
      lock: LOCK,
      token,
      invoke: now(),
      outcome: "info" as const,
    });
    const l = await this.#call(
      `unlock ${LOCK}`,
      (l) => (l.event === "unlocked" && l.name === LOCK) || l.event === "error",
    );
    if (l?.event === "unlocked") Object.assign(op, { outcome: "ok", complete: now() });
  }
}
