/**
 * `deno task edge`: an edge node on `Deno.serve` (PORT, default 8787; HOST, default 127.0.0.1).
 * Members join it over WebSocket, e.g. `raincore`'s WebSocket transport with
 * `servers: ["ws://127.0.0.1:8787/"]` and `peers: { edge: ["ws://127.0.0.1:8787/"] }`;
 * `curl http://127.0.0.1:8787/` shows the view. Ctrl-C leaves the ring.
 * @module
 */
import type { WebSocketLike } from "../../mod.ts";
import { createEdgeNode, type EdgeNode } from "./edge_node.ts";

/** The part of the Deno namespace used here (declared so that `tsc` checks this file too). */
interface DenoApi {
  env: { get(name: string): string | undefined };
  serve(
    options: { hostname: string; port: number; signal: AbortSignal; onListen?: () => void },
    handler: (request: Request) => Response,
  ): { addr: { port: number }; finished: Promise<void> };
  upgradeWebSocket(request: Request): { socket: WebSocketLike; response: Response };
  addSignalListener(signal: "SIGINT" | "SIGTERM", fn: () => void): void;
  exit(code: number): never;
}
const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

const hostname = Deno.env.get("HOST") ?? "127.0.0.1";
const port = Number(Deno.env.get("PORT") ?? "8787");
const ref: { edge?: EdgeNode } = {}; // requests that arrive before the node exists get 503
const abort = new AbortController();
const server = Deno.serve(
  { hostname, port, signal: abort.signal, onListen: () => {} },
  (req) => ref.edge?.fetch(req) ?? new Response("starting", { status: 503 }),
);
const url = `ws://${hostname}:${server.addr.port}/`;
const edge = await createEdgeNode({ url, upgrade: (r) => Deno.upgradeWebSocket(r) });
ref.edge = edge;
edge.node.gcm.on("view", (v) => console.log(`view #${v.index}: [${v.members.join(", ")}]`));
console.log(
  `edge node "edge" at ${url} (GET http://${hostname}:${server.addr.port}/ for its view; Ctrl-C stops)`,
);
const stop = async () => {
  await edge.close();
  abort.abort();
  await server.finished;
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", () => void stop());
Deno.addSignalListener("SIGTERM", () => void stop());
