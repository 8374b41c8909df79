/**
 * Test helper: an OS child process that prints JSON lines. Tests wait for the lines they expect
 * with a deadline (never a fixed sleep) and kill their children in afterEach.
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** Repository root. */
export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** One JSON object a child printed. */
export type JsonLine = Record<string, unknown>;

/** A running child and everything it printed so far. */
export class JsonChild {
  /** Parsed stdout lines, in order. */
  readonly lines: JsonLine[] = [];
  /** Raw stderr, for failure messages. */
  stderr = "";
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  #done = false;
  #wake: Array<() => void> = [];

  constructor(readonly name: string, readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        this.lines.push(JSON.parse(line) as JsonLine);
      } catch {
        this.stderr += `(stdout) ${line}\n`;
      }
      this.#notify();
    });
    child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) =>
      child.on("exit", (code, signal) => {
        this.#done = true;
        this.#notify();
        resolve(code ?? signal ?? "unknown");
      })
    );
  }

  /** Writes one JSON line to the child's stdin. */
  send(command: JsonLine): void {
    this.child.stdin!.write(JSON.stringify(command) + "\n");
  }

  /** The first line (from index `from`) matching `pred`; rejects after `timeoutMs` or if the child exits first. */
  waitFor(pred: (line: JsonLine) => boolean, timeoutMs: number, from = 0): Promise<JsonLine> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => finish(new Error(`${this.name}: no matching line within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const finish = (err?: Error, line?: JsonLine): void => {
        clearTimeout(timer);
        this.#wake = this.#wake.filter((w) => w !== check);
        if (err !== undefined) {
          const tail = this.lines.slice(-5).map((l) => JSON.stringify(l)).join("\n  ");
          reject(new Error(`${err.message}\nlast lines:\n  ${tail}\nstderr:\n${this.stderr.slice(-2000)}`));
        } else resolve(line!);
      };
      const check = (): void => {
        const line = this.lines.slice(from).find(pred);
        if (line !== undefined) finish(undefined, line);
        else if (this.#done) finish(new Error(`${this.name} exited before printing a matching line`));
      };
      this.#wake.push(check);
      check();
    });
  }

  /** SIGKILLs the child (if still running) and waits until it is gone. */
  async kill(): Promise<void> {
    if (!this.#done) this.child.kill("SIGKILL");
    await this.exited;
  }

  #notify(): void {
    for (const w of [...this.#wake]) w();
  }
}

/** Starts `node scripts/run.mjs ENTRY args…` in the repository root. */
export function startTs(name: string, entry: string, args: readonly string[] = []): JsonChild {
  const child = spawn(process.execPath, ["scripts/run.mjs", entry, ...args], {
    cwd: repoRoot,
    stdio: ["pipe", "pipe", "pipe"],
  });
  return new JsonChild(name, child);
}
