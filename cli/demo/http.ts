/**
 * The demo's web server: one port serves the page (`public/`), the browser bundle,
 * `/config.json` and (with a key) `/credential.json`, and upgrades `/` WebSocket requests to the
 * raincore hub (signaling and relay, {@link WebSocketTransport.accept}, which bounds what each
 * WebSocket client may cost). Node's `node:http` with the `ws` package; Deno runs the same through
 * its Node compatibility. A request must send its headers within `headersTimeoutMs`, and at most
 * `maxSockets` TCP connections are open at once.
 * @module
 */
import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { extname, join, normalize } from "node:path";
import { WebSocketServer } from "ws";
import type { WebSocketLike } from "../../mod.ts";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json",
  ".png": "image/png",
};

/** What the web server serves. */
export interface WebServerOptions {
  /** Host to bind. */
  host: string;
  /** Port (0 = any free one). */
  port: number;
  /** Folder of the page. */
  publicDir: string;
  /** Path of the browser bundle, served as `/raincore.browser.js`. */
  bundle: string;
  /** Body of `/config.json`, given the server's own `ws://` URL. */
  config: (hub: string) => unknown;
  /** Body of `/credential.json` (undefined: 503, none left); without it the path is 404. */
  credential?: () => Promise<unknown | undefined>;
  /** Time a request has to send its headers, ms. */
  headersTimeoutMs: number;
  /** TCP connections open at once. */
  maxSockets: number;
  /** Each upgraded WebSocket. */
  accept: (socket: WebSocketLike) => void;
}

/** A listening web server. */
export interface WebServer {
  /** `http://host:port/`. */
  url: string;
  /** `ws://host:port/`. */
  hub: string;
  /** Closes every connection and stops listening. */
  close(): Promise<void>;
}

/** Starts the web server. */
export async function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20, perMessageDeflate: false });
  let hub = "";
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    try {
      if (path === "/config.json") {
        res.writeHead(200, { "content-type": TYPES[".json"], "cache-control": "no-store" });
        res.end(JSON.stringify(o.config(hub)));
        return;
      }
      if (path === "/credential.json" && o.credential !== undefined) {
        const body = await o.credential();
        res.writeHead(body === undefined ? 503 : 200, {
          "content-type": TYPES[".json"],
          "cache-control": "no-store",
        });
        res.end(JSON.stringify(body ?? { error: "every tab ID is in use" }));
        return;
      }
      const file = path === "/raincore.browser.js"
        ? o.bundle
        : join(o.publicDir, normalize(path === "/" ? "/index.html" : path).replace(/^(\.\.[/\\])+/, ""));
      if (!file.startsWith(o.publicDir) && file !== o.bundle) throw new Error("outside");
      const body = await readFile(file);
      res.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "cache-control": "no-cache",
      });
      res.end(body);
    } catch {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  };
  const server = createServer({
    headersTimeout: o.headersTimeoutMs,
    requestTimeout: o.headersTimeoutMs * 3,
    connectionsCheckingInterval: Math.min(1000, o.headersTimeoutMs), // Node's default is 30 s
  }, (req, res) => void serve(req, res));
  server.maxConnections = o.maxSockets;
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(req, socket, head, (ws) => o.accept(ws as unknown as WebSocketLike));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : o.port;
  // A wildcard bind is shown (and announced to tabs) as loopback; bind a LAN IP to share it.
  const host = o.host === "0.0.0.0" ? "127.0.0.1" : o.host === "::" ? "::1" : o.host;
  const shown = host.includes(":") ? `[${host}]` : host;
  hub = `ws://${shown}:${port}/`;
  return {
    url: `http://${shown}:${port}/`,
    hub,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
