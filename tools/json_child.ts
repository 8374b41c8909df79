/**
 * OS child processes that speak JSON lines on stdout, for the tests and benchmarks that run real
 * clusters. Callers wait for the lines they expect with a deadline (never a fixed sleep) and always
 * kill their children.
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Repository root: the nearest folder above this module with raincore's package.json. Searched,
 * not fixed, because this module also runs bundled from dist/ or node_modules/.cache/.
 */
export const repoRoot: string = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(dir: string): string {
  for (let d = dir;; d = dirname(d)) {
    try {
      if (JSON.parse(readFileSync(join(d, "package.json"), "utf8")).name === "raincore") return d;
    } catch { /* no package.json here */ }
    if (dirname(d) === d) throw new Error(`raincore's package.json not found above ${dir}`);
  }
}

/** One JSON object a child printed, with the child's name. */
export type JsonLine = Record<string, unknown> & { event?: string };

/** A running child process and everything it printed so far. */
export class JsonChild {
  readonly lines: JsonLine[] = [];
  readonly stderr: string[] = [];
  #waiters: Array<() => void> = [];
  #exited = false;
  readonly exit: Promise<number | null>;

  constructor(readonly name: string, readonly process: ChildProcess) {
    const rl = createInterface({ input: process.stdout! });
    rl.on("line", (line) => {
      try {
        this.lines.push(JSON.parse(line) as JsonLine);
      } catch {
        this.stderr.push(`(stdout, not JSON) ${line}`);
      }
      this.#wake();
    });
    process.stderr!.on("data", (chunk: Buffer) => this.stderr.push(chunk.toString()));
    this.exit = new Promise((resolve) =>
      process.on("exit", (code) => {
        this.#exited = true;
        this.#wake();
        resolve(code);
      })
    );
  }

  /** Calls `fn` after every new line and at exit; returns a function that unsubscribes. */
  subscribe(fn: () => void): () => void {
    this.#waiters.push(fn);
    return () => {
      this.#waiters = this.#waiters.filter((w) => w !== fn);
    };
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** Writes one line to the child's stdin. */
  write(line: string): void {
    this.process.stdin!.write(line + "\n");
  }

  /** Sends a signal (no-op once exited). */
  signal(sig: NodeJS.Signals): void {
    if (!this.#exited) this.process.kill(sig);
  }

  /**
   * Resolves with the first line (from index `from` on) matching `pred`; rejects after
   * `timeoutMs`, with what the child printed, so a failure explains itself.
   */
  waitFor(pred: (line: JsonLine) => boolean, timeoutMs: number, from = 0): Promise<JsonLine> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        for (let i = from; i < this.lines.length; i++) {
          if (pred(this.lines[i])) {
            resolve(this.lines[i]);
            return true;
          }
        }
        if (this.#exited) {
          reject(
            new Error(
              `${this.name} exited before printing a matching line\nstderr: ${
                this.stderr.join("").slice(-2000)
              }`,
            ),
          );
          return true;
        }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        const tail = this.lines.slice(-5).map((l) => JSON.stringify(l)).join("\n  ");
        reject(
          new Error(
            `${this.name}: no matching line within ${timeoutMs} ms; last lines:\n  ${tail}\nstderr: ${
              this.stderr.join("").slice(-2000)
            }`,
          ),
        );
      }, timeoutMs);
      const waiter = () => {
        if (check()) {
          clearTimeout(timer);
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
        }
      };
      this.#waiters.push(waiter);
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

/**
 * Extra Node flags for every child, from `RAINCORE_CHILD_NODE_FLAGS` (e.g. `--cpu-prof
 * --cpu-prof-dir=/tmp/prof` to profile benchmark members).
 */
const childNodeFlags = (process.env.RAINCORE_CHILD_NODE_FLAGS ?? "").split(" ").filter((f) => f !== "");

/** Starts `node --import tsx ENTRY args…` (a TypeScript entry) in the repository root. */
export function startTs(name: string, entry: string, args: readonly string[]): JsonChild {
  const child = spawn(process.execPath, [...childNodeFlags, "--import", "tsx", entry, ...args], {
    cwd: repoRoot,
    stdio: ["pipe", "pipe", "pipe"],
  });
  return new JsonChild(name, child);
}

/**
 * Resolves once `cond()` holds, re-checking after every line any of `children` prints or exits;
 * rejects after `timeoutMs` with `describe()` in the message.
 */
export function waitUntil(
  children: readonly JsonChild[],
  cond: () => boolean,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const unsubscribes: Array<() => void> = [];
    const finish = (error?: Error) => {
      clearTimeout(timer);
      for (const u of unsubscribes) u();
      if (error) reject(error);
      else resolve();
    };
    const timer = setTimeout(
      () => finish(new Error(`condition not met within ${timeoutMs} ms: ${describe()}`)),
      timeoutMs,
    );
    const check = () => {
      if (cond()) finish();
    };
    for (const child of children) unsubscribes.push(child.subscribe(check));
    check();
  });
}

/** Kills every child still running and waits for them to exit. */
export async function killAll(children: Iterable<JsonChild>): Promise<void> {
  const all = [...children];
  for (const child of all) {
    child.signal("SIGCONT");
    child.signal("SIGKILL");
  }
  await Promise.all(all.map((c) => c.exit));
}

/** Starts `node bin/raincore.js ARGS…` (the built CLI, see global_setup.ts). */
export function startRaincore(name: string, args: readonly string[]): JsonChild {
  const child = spawn(process.execPath, [...childNodeFlags, "bin/raincore.js", ...args], {
    cwd: repoRoot,
    stdio: ["pipe", "pipe", "pipe"],
  });
  return new JsonChild(name, child);
}
