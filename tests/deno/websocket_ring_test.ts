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

/** Wakes every `until` whenever a member's state changes (a Node member's line, the Deno node's event). */
const waiters: Array<() => void> = [];
const changed = () => {
  for (const w of waiters.splice(0)) w();
};

/** Re-checks `fn` on every change until it returns a value; fails after `ms`. */
async function until<T>(what: string, ms: number, fn: () => T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out after ${ms} ms: ${what}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      waiters.push(resolve);
      timer = setTimeout(resolve, left);
    });
    clearTimeout(timer);
  }
}

/** A Node ring member and its JSON-lines conversation; `state` follows the member's own reports. */
class NodeMember {
  readonly #child: Deno.ChildProcess;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #lines: ReadableStreamDefaultReader<string>;
  readonly #events: Record<string, unknown>[] = [];
  state: Report = { views: [], delivered: [] };
  constructor(readonly id: string) {
    this.#child = new Deno.Command("node", {
      args: ["--import", "tsx", "tests/deno/ring_node.ts", id],
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
    void this.#read();
  }
  async #read(): Promise<void> {
    for (;;) {
      const r = await this.#lines.read().catch(() => ({ done: true, value: undefined }));
      if (r.done) return;
      if (!r.value!.startsWith("{")) continue;
      const o = JSON.parse(r.value!) as Record<string, unknown>;
      if (o.event === "state") this.state = o as unknown as Report;
      else this.#events.push(o);
      changed();
    }
  }
  next(event: string, ms: number): Promise<Record<string, unknown>> {
    return until(`${this.id}: ${event}`, ms, () => {
      const i = this.#events.findIndex((o) => o.event === event);
      return i < 0 ? undefined : this.#events.splice(i, 1)[0];
    });
  }
  send(o: unknown): Promise<void> {
    return this.#writer.write(new TextEncoder().encode(`${JSON.stringify(o)}\n`));
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
      await until(
        "the Node ring of three",
        20_000,
        () => members.every((m) => last(m.state.views) === nodeIds.join(",")) ? true : undefined,
      );
      // …then Deno joins it.
      const node = deno.start(peers, ["node-1"]);
      node.gcm.on("view", changed);
      node.gcm.on("deliver", changed);
      const all = ["deno-1", ...nodeIds].sort().join(",");
      await until(
        "a view of four everywhere",
        20_000,
        () =>
          last(node.views) === all && members.every((m) => last(m.state.views) === all) ? true : undefined,
      );

      const enc = new TextEncoder();
      for (let i = 0; i < 5; i++) node.gcm.multicast(enc.encode(`deno-${i}`));
      for (const m of members) {
        await m.send({ cmd: "multicast", texts: [0, 1, 2, 3, 4].map((i) => `${m.id}-${i}`) });
      }
      const reports = await until(
        "20 deliveries everywhere",
        20_000,
        () =>
          node.delivered.length >= 20 && members.every((m) => m.state.delivered.length >= 20)
            ? members.map((m) => m.state)
            : undefined,
      );
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
