/**
 * The WebSocket server on Node: the `ws` package (`ws`) on a `node:http` server, both loaded only
 * when a server is started so that browser bundles never pull them in. Every accepted socket goes to
 * {@link WebSocketTransport.accept}, which bounds what a WebSocket client may cost; the HTTP server
 * bounds what a TCP connection that never upgrades may cost: its headers must arrive within
 * `headersTimeoutMs` (a "slowloris" trickling bytes is cut off), and at most `maxSockets` are open at
 * once.
 * @module
 */

import { MissingDependencyError } from "../../../base/errors.ts";
import { TransportBindError } from "../../errors.ts";
import type { ListeningServer, ListenOptions } from "./listen.ts";
import type { WebSocketLike } from "./socket.ts";

/**
 * The parts of the `ws` package used here, typed by hand: the package's own types would make every
 * consumer's type check need `@types/ws` (this file's declaration is part of the package's types).
 */
export interface WsModule {
  /** The server class. */
  WebSocketServer: new (
    options: { server: unknown; maxPayload: number; perMessageDeflate: boolean },
  ) => WsServer;
  /** The client class. */
  WebSocket: new (url: string, options: { perMessageDeflate: boolean }) => object;
}

/** The parts of a `ws` server used here. */
export interface WsServer {
  /** Server errors (after listening: ignored, each connection handles its own). */
  on(event: "error", fn: (error: unknown) => void): void;
  /** A new connection. */
  on(event: "connection", fn: (socket: unknown) => void): void;
  /** The open connections. */
  readonly clients: Iterable<{ terminate(): void }>;
  /** Stops accepting. */
  close(): void;
}

/** Held in a variable so that bundlers for browsers do not follow the import (it is never run there). */
const HTTP_MODULE = "node:http";

/** Loads the `ws` package (Node only). */
export async function loadWs(): Promise<WsModule> {
  try {
    return (await import("ws")) as unknown as WsModule;
  } catch (err) {
    throw new MissingDependencyError("ws", "the WebSocket backend on Node", { cause: err });
  }
}

/**
 * Starts a `ws` server and hands each connection to `accept`.
 * @throws {TransportBindError} when the port cannot be bound.
 */
export async function listenNode(
  opts: ListenOptions & { maxPayload: number },
  accept: (s: WebSocketLike) => void,
): Promise<ListeningServer> {
  const ws = await loadWs();
  const { createServer } = (await import(/* @vite-ignore */ HTTP_MODULE)) as typeof import("node:http");
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? 0;
  const headersTimeout = opts.headersTimeoutMs ?? 10_000;
  const http = createServer({
    headersTimeout,
    requestTimeout: headersTimeout * 3,
    // How often Node checks those timeouts (30 s by default, far longer than the timeout itself).
    connectionsCheckingInterval: Math.min(1000, headersTimeout),
  }, (_req, res) => res.writeHead(426, { "content-type": "text/plain" }).end("WebSocket only"));
  http.maxConnections = opts.maxSockets ?? 2048;
  const server = new ws.WebSocketServer({
    server: http,
    maxPayload: opts.maxPayload,
    perMessageDeflate: false,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      http.listen(port, host, () => resolve());
    });
  } catch (err) {
    server.close();
    http.close();
    throw new TransportBindError(`ws://${host}:${port}/`, { cause: err });
  }
  http.on("error", () => {/* after listening: per-connection errors close that connection */});
  server.on("error", () => {});
  server.on("connection", (socket) => accept(socket as unknown as WebSocketLike));
  const address = http.address();
  const bound = typeof address === "object" && address !== null ? address.port : port;
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of server.clients) c.terminate();
        server.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
