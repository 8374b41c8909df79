/**
 * GCM multicast flood on a ring of member processes over the WebSocket backend: every member
 * multicasts `count` messages of `size` bytes at once; each reports its delivery rate (all
 * members' messages, from the flood command to its last delivery) and a hash of its delivery
 * order, which must be equal everywhere.
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { createInterface } from "node:readline";

/** One member's result line. */
export type FloodResult = Record<string, unknown>;

/** Options of {@link runWebRingFlood}. */
export interface WebRingFloodOptions {
  /** Ring members (processes). */
  nodes: number;
  /** Bytes per message. */
  size: number;
  /** Messages per member. */
  count: number;
  /** Deadline of the whole run, in ms. @default {120_000} */
  timeoutMs?: number;
}

/** Runs the flood; resolves with one result per member. */
export async function runWebRingFlood(o: WebRingFloodOptions): Promise<FloodResult[]> {
  const root = resolve(dirname(process.argv[1]), "..");
  const deadline = Date.now() + (o.timeoutMs ?? 120_000);
  const children: ChildProcess[] = [];
  const lines: FloodResult[][] = [];
  let wake: () => void = () => {};
  const waitFor = async <T>(what: string, fn: () => T | undefined): Promise<T> => {
    for (;;) {
      const v = fn();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`web ring flood: timed out waiting for ${what}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 100);
      });
    }
  };
  try {
    for (let i = 0; i < o.nodes; i++) {
      const c = spawn(process.execPath, ["--import", "tsx", "bench/web_ring_member.ts", `m${i}`], {
        cwd: root,
        stdio: ["pipe", "pipe", "inherit"],
      });
      children.push(c);
      const mine: FloodResult[] = [];
      lines.push(mine);
      createInterface({ input: c.stdout! }).on("line", (l) => {
        if (l.startsWith("{")) mine.push(JSON.parse(l) as FloodResult);
        wake();
      });
    }
    const find = (i: number, event: string) => lines[i].findLast((l) => l.event === event);
    const peers = await waitFor("listening", () => {
      const l = lines.map((_, i) => find(i, "listening"));
      return l.every(Boolean)
        ? l.map((x, i) => ({ id: `m${i}`, addresses: [String(x!.address)] }))
        : undefined;
    });
    for (const c of children) c.stdin!.write(`${JSON.stringify({ cmd: "start", peers })}\n`);
    await waitFor(
      "a view of all members",
      () =>
        lines.every((_, i) => (find(i, "view")?.members as string[] | undefined)?.length === o.nodes)
          ? true
          : undefined,
    );
    const total = o.nodes * o.count;
    for (const c of children) {
      c.stdin!.write(`${JSON.stringify({ cmd: "flood", count: o.count, size: o.size, total })}\n`);
    }
    return await waitFor("every member's deliveries", () => {
      const d = lines.map((_, i) => find(i, "done"));
      return d.every(Boolean) ? (d as FloodResult[]) : undefined;
    });
  } finally {
    for (const c of children) {
      c.stdin!.end();
      if (c.exitCode === null) {
        const t = setTimeout(() => c.kill("SIGKILL"), 5_000);
        await new Promise((r) => c.once("exit", r));
        clearTimeout(t);
      }
    }
  }
}
