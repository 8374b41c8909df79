/**
 * Two Node members and an edge node (examples/edge: `Deno.serve` + `WebSocketTransport.accept`) form
 * one ring although each member was given only the edge's URL: they dial the edge over WebSocket,
 * find its ID behind the URL, learn each other's relay address from the join, commit one view of
 * three, and data written anywhere reaches everyone. Run by scripts/deno-tests.mjs
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

/** A Node member process joining the edge at `url` with `--id id`, and the JSON lines it printed. */
function spawnMember(id: string, url: string) {
  const child = new Deno.Command("node", {
    args: ["--import", "tsx", "examples/edge/node_member.ts", "--id", id, "--edge", url],
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
  return {
    lines,
    view: () =>
      (lines.filter((l) => l.event === "view").at(-1)?.members as string[] | undefined)?.slice().sort(),
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await reading.catch(() => {});
    },
  };
}

Deno.test("two Node members that know only the edge's URL and a Deno.serve edge node form one ring", async () => {
  const ref: { edge?: EdgeNode } = {};
  const abort = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: abort.signal, onListen: () => {} },
    (req) => ref.edge?.fetch(req) ?? new Response("starting", { status: 503 }),
  );
  const url = `ws://127.0.0.1:${server.addr.port}/`;
  const edge = await createEdgeNode({ url, upgrade: (r) => Deno.upgradeWebSocket(r) });
  ref.edge = edge;
  const members = [spawnMember("node-1", url), spawnMember("node-2", url)];
  try {
    // Each member was given the edge's URL and nothing else: it finds the edge's ID behind it, and
    // learns the other member's (relay) address from the join.
    const all = "edge,node-1,node-2";
    await until("one view of the three at every member", 20_000, () => {
      const edgeView = edge.node.gcm.view.members.slice().sort().join(",");
      return edgeView === all && members.every((m) => m.view()?.join(",") === all) ? true : undefined;
    });
    // Each member wrote hello/<id> on joining; the edge writes hello/edge; everyone has all three.
    await until(
      "hello/node-1 and hello/node-2 at the edge",
      10_000,
      () => edge.gdm.get("hello/node-1") && edge.gdm.get("hello/node-2") ? true : undefined,
    );
    await edge.gdm.set("hello/edge", { from: "edge", runtime: "deno" });
    for (const [i, m] of members.entries()) {
      const other = `hello/node-${2 - i}`;
      await until(
        `hello/edge and ${other} at node-${i + 1}`,
        10_000,
        () =>
          ["hello/edge", other].every((key) => m.lines.some((l) => l.event === "data" && l.key === key))
            ? true
            : undefined,
      );
    }
    // The view stayed: no flapping between the two members (each view event lists three members
    // once the ring formed).
    const lastViews = members.map((m) => m.lines.filter((l) => l.event === "view").at(-1));
    assert(lastViews.every((v) => (v?.members as string[]).length === 3), JSON.stringify(lastViews));
    const status = await (await edge.fetch(new Request(url.replace("ws:", "http:")))).json();
    assert(status.view.members.length === 3, `status: ${JSON.stringify(status)}`);
  } finally {
    await Promise.all(members.map((m) => m.stop()));
    await edge.close();
    abort.abort();
    await server.finished;
  }
});
