/**
 * A Node member and an edge node (examples/edge: `Deno.serve` + `WebSocketTransport.accept`) form
 * one ring: the Node process dials the edge over WebSocket, both commit the view of two, and a
 * data item written on each side reaches the other. Run by scripts/deno-tests.mjs
 * (`deno test --allow-net=127.0.0.1,[::1] --allow-read --allow-run=node`).
 */
import { createEdgeNode, type EdgeNode } from "../../examples/edge/edge_node.ts";

const root = new URL("../..", import.meta.url).pathname;

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

async function until<T>(what: string, ms: number, fn: () => T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test("a Node member and a Deno.serve edge node form one ring and share data", async () => {
  const ref: { edge?: EdgeNode } = {};
  const abort = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: abort.signal, onListen: () => {} },
    (req) => ref.edge?.fetch(req) ?? new Response("starting", { status: 503 }),
  );
  const url = `ws://127.0.0.1:${server.addr.port}/`;
  const edge = await createEdgeNode({ url, upgrade: (r) => Deno.upgradeWebSocket(r) });
  ref.edge = edge;
  const child = new Deno.Command("node", {
    args: ["--import", "tsx", "examples/edge/node_member.ts", "--id", "node-1", "--edge", url],
    cwd: root,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines: Record<string, unknown>[] = [];
  const reading = (async () => {
    let buf = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        lines.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
    }
  })();
  try {
    const both = "edge,node-1";
    await until("the view of two at the Node member and the edge", 15_000, () => {
      const nodeView = lines.filter((l) => l.event === "view").at(-1)?.members as string[] | undefined;
      const edgeView = edge.node.gcm.view.members.slice().sort().join(",");
      return nodeView?.slice().sort().join(",") === both && edgeView === both ? true : undefined;
    });
    // The Node member wrote hello/node-1 on joining; the edge writes hello/edge.
    await until("hello/node-1 at the edge", 10_000, () => edge.gdm.get("hello/node-1") ? true : undefined);
    await edge.gdm.set("hello/edge", { from: "edge", runtime: "deno" });
    await until(
      "hello/edge at the Node member",
      10_000,
      () =>
        lines.some((l) => l.event === "data" && l.key === "hello/edge" && l.writer === "edge")
          ? true
          : undefined,
    );
    const status = await (await edge.fetch(new Request(url.replace("ws:", "http:")))).json();
    assert(status.view.members.length === 2, `status: ${JSON.stringify(status)}`);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await reading.catch(() => {});
    await edge.close();
    abort.abort();
    await server.finished;
  }
});
