/**
 * What the Transport Manager benchmarks (bench/transport.ts over UDP, bench/web_transports.ts over
 * WebSocket and WebRTC) share, so that their figures come from one method: the send loop that loads
 * a manager with a bounded number of unacknowledged messages, the receiver child they drive with
 * JSON lines (a {@link JsonChild}), and the results file headed by the machine it ran on.
 * @module
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname } from "node:path";
import type { TransportManager } from "../transport/manager.ts";
import { JsonChild, type JsonLine, repoRoot } from "../tools/json_child.ts";

/** Unacknowledged bytes the send loop allows at most. */
export const MAX_OUTSTANDING_BYTES = 16 * 1024 * 1024;
/** Unacknowledged messages the send loop allows at most. */
export const MAX_OUTSTANDING_MESSAGES = 8_192;

/** One run of {@link sendFor}. */
export interface SendRun {
  /** Messages acknowledged. */
  messages: number;
  /** Payload bytes acknowledged. */
  bytes: number;
  /** From the first send to the last acknowledgement. */
  ms: number;
}

/**
 * Sends the same `size`-byte message on channel 1 to node `to` over and over for `durationMs`,
 * keeping at most {@link MAX_OUTSTANDING_BYTES} (and at most {@link MAX_OUTSTANDING_MESSAGES})
 * unacknowledged; then waits for every outstanding acknowledgement. Rejects on the first failed
 * send.
 */
export function sendFor(
  tm: TransportManager,
  to: string,
  size: number,
  durationMs: number,
): Promise<SendRun> {
  const message = new Uint8Array(size).map((_, i) => i);
  const limit = Math.max(2, Math.min(MAX_OUTSTANDING_MESSAGES, Math.floor(MAX_OUTSTANDING_BYTES / size)));
  return new Promise((ok, fail) => {
    const start = performance.now();
    let outstanding = 0;
    let acked = 0;
    let stopped = false;
    const onAck = (): void => {
      outstanding--;
      acked++;
      if (!stopped && performance.now() - start >= durationMs) stopped = true;
      if (stopped) {
        if (outstanding === 0) ok({ messages: acked, bytes: acked * size, ms: performance.now() - start });
      } else issue();
    };
    const issue = (): void => {
      while (!stopped && outstanding < limit) {
        outstanding++;
        tm.send(to, 1, message).then(onAck, fail);
      }
    };
    issue();
  });
}

/**
 * Starts `node [nodeFlags…] --import tsx ENTRY args…` in the repository root: a benchmark's
 * receiving process, speaking JSON lines.
 */
export function startReceiver(
  entry: string,
  args: readonly string[] = [],
  nodeFlags: readonly string[] = [],
): JsonChild {
  const child = spawn(process.execPath, [...nodeFlags, "--import", "tsx", entry, ...args], {
    cwd: repoRoot,
    stdio: ["pipe", "pipe", "pipe"],
  });
  return new JsonChild(entry, child);
}

/** Resolves with the child's first line of event `event` at index ≥ `from`. */
export function next(child: JsonChild, event: string, from = 0, timeoutMs = 60_000): Promise<JsonLine> {
  return child.waitFor((l) => l.event === event, timeoutMs, from);
}

/** Writes the command `cmd` to the child and resolves with its next line of event `event`. */
export function ask(
  child: JsonChild,
  cmd: Record<string, unknown>,
  event: string,
  timeoutMs = 60_000,
): Promise<JsonLine> {
  const from = child.lines.length;
  child.write(JSON.stringify(cmd));
  return next(child, event, from, timeoutMs);
}

/** Ends the child: closing its stdin lets it close its sockets; SIGKILL if it lingers 5 s. */
export async function stop(child: JsonChild): Promise<void> {
  child.process.stdin!.end();
  const timer = setTimeout(() => child.signal("SIGKILL"), 5_000);
  await child.exit;
  clearTimeout(timer);
}

/**
 * Writes `results` as JSON to `path` (creating its folder), after the date and the machine: Node
 * version, CPU count and model.
 */
export function writeResults(path: string, results: Record<string, unknown>): void {
  mkdirSync(dirname(path), { recursive: true });
  const machine = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
  };
  writeFileSync(path, JSON.stringify({ ...machine, ...results }, null, 2) + "\n");
}
