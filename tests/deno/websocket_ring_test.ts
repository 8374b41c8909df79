/**
 * A Deno process joins a ring of three Node processes over WebSocket: the Node members (each a
 * `ws` server, tests/deno/ring_node.ts) form their ring first, then this Deno process — its own
 * `Deno.serve` server and Deno's built-in WebSocket client — joins; all four commit the view of
 * four and deliver the same multicasts in the same order. Run by scripts/deno-tests.mjs
 * (`deno test --allow-net=127.0.0.1,[::1] --allow-read --allow-run=node`).
 */
import { openWebNode, type WebPeer } from "../browser/web_node.ts";

const root = new URL("../..", import.meta.url).pathname;

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

interface Report {
  views: string[][];
  delivered: string[];
}

/** A Node ring member and its JSON-lines conversation. */
class NodeMember {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: ReadableStreamDefaultReader<string>;
  constructor(readonly id: string) {
    this.#child = new Deno.Command("node", {
      args: ["scripts/run.mjs", "tests/deno/ring_node.ts", id],
      cwd: root,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.#lines = this.#child.stdout
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(splitLines())
      .getReader();
  }
  async next(event: string, ms: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.id}: no ${event} within ${ms} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        this.#lines.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${this.id}: no ${event} within ${ms} ms`)), left);
        }),
      ]).finally(() => clearTimeout(timer));
      if (r.done) throw new Error(`${this.id} exited`);
      if (!r.value.startsWith("{")) continue;
      const o = JSON.parse(r.value) as Record<string, unknown>;
      if (o.event === event) return o;
    }
  }
  send(o: unknown): Promise<void> {
    return this.#writer.write(new TextEncoder().encode(`${JSON.stringify(o)}\n`));
  }
  async report(): Promise<Report> {
    await this.send({ cmd: "report" });
    return (await this.next("report", 5_000)) as unknown as Report;
  }
  async stop(): Promise<void> {
    try {
      await this.send({ cmd: "exit" });
      await this.#writer.close();
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* exited */ }
    }, 5_000);
    await this.#child.status;
    clearTimeout(timer);
    await this.#lines.cancel().catch(() => undefined);
  }
}

function splitLines(): TransformStream<string, string> {
  let buf = "";
  return new TransformStream({
    transform(chunk, controller) {
      buf += chunk;
      const parts = buf.split("\n");
      buf = parts.pop()!;
      for (const p of parts) controller.enqueue(p);
    },
    flush(controller) {
      if (buf) controller.enqueue(buf);
    },
  });
}

async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const last = (views: string[][]) => (views.at(-1) ?? []).slice().sort().join(",");

Deno.test({
  name: "a Deno process joins a ring of Node processes over WebSocket and delivers the same order",
  // Node children and Deno.serve connections wind down after the test body; everything is closed.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const members = ["node-1", "node-2", "node-3"].map((id) => new NodeMember(id));
    const deno = await openWebNode({ nodeId: "deno-1", listenPort: 0, webrtc: false });
    try {
      assert(
        deno.ws.addresses[0].startsWith("ws://127.0.0.1:"),
        `Deno server address ${deno.ws.addresses[0]}`,
      );
      const peers: WebPeer[] = [{ id: "deno-1", addresses: [...deno.ws.addresses] }];
      for (const m of members) {
        const l = await m.next("listening", 60_000);
        peers.push({ id: m.id, addresses: [String(l.address)] });
      }
      const nodeIds = members.map((m) => m.id);
      // The Node ring first (they know each other, not the Deno node yet)…
      for (const m of members) await m.send({ cmd: "start", peers, join: nodeIds });
      await until("the Node ring of three", 20_000, async () => {
        const r = await Promise.all(members.map((m) => m.report()));
        return r.every((x) => last(x.views) === nodeIds.join(",")) ? true : undefined;
      });
      // …then Deno joins it.
      const node = deno.start(peers, ["node-1"]);
      const all = ["deno-1", ...nodeIds].sort().join(",");
      await until("a view of four everywhere", 20_000, async () => {
        const r = await Promise.all(members.map((m) => m.report()));
        return last(node.views) === all && r.every((x) => last(x.views) === all) ? true : undefined;
      });

      const enc = new TextEncoder();
      for (let i = 0; i < 5; i++) node.gcm.multicast(enc.encode(`deno-${i}`));
      for (const m of members) {
        await m.send({ cmd: "multicast", texts: [0, 1, 2, 3, 4].map((i) => `${m.id}-${i}`) });
      }
      const reports = await until("20 deliveries everywhere", 20_000, async () => {
        const r = await Promise.all(members.map((m) => m.report()));
        return node.delivered.length >= 20 && r.every((x) => x.delivered.length >= 20) ? r : undefined;
      });
      assert(node.delivered.length === 20, `Deno delivered ${node.delivered.length}`);
      for (const [i, r] of reports.entries()) {
        assert(
          JSON.stringify(r.delivered) === JSON.stringify(node.delivered),
          `${members[i].id} delivered another order:\n${r.delivered.join(" ")}\nvs Deno:\n${
            node.delivered.join(" ")
          }`,
        );
      }
      const fromDeno = node.delivered.filter((d) => d.startsWith("deno-1:")).map((d) => d.slice(7));
      assert(
        JSON.stringify(fromDeno) === JSON.stringify([0, 1, 2, 3, 4].map((i) => `deno-${i}`)),
        "Deno FIFO",
      );
    } finally {
      await Promise.all(members.map((m) => m.stop()));
      await deno.close();
    }
  },
});
