/**
 * The WebSocket server on Node: the `ws` package (`ws`), loaded only when a server is
 * started so that browser bundles never pull it in. Every accepted socket goes to
 * {@link WebSocketTransport.accept}.
 * @module
 */

import { MissingDependencyError } from "../../../base/errors.ts";
import { TransportBindError } from "../../errors.ts";
import type { WebSocketLike } from "./socket.ts";

/** A listening server: its port and how to stop it. */
export interface ListeningServer {
  /** The bound port. */
  port: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Where to listen. */
export interface ListenOptions {
  /** Host to bind. @default {"127.0.0.1"} */
  host?: string;
  /** Port; 0 picks a free one. @default {0} */
  port?: number;
  /** Largest WebSocket message accepted, in bytes. */
  maxPayload: number;
}

/** The parts of the `ws` package used here. */
export interface WsModule {
  /** The server class. */
  WebSocketServer: typeof import("ws").WebSocketServer;
  /** The client class. */
  WebSocket: typeof import("ws").WebSocket;
}

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
  opts: ListenOptions,
  accept: (s: WebSocketLike) => void,
): Promise<ListeningServer> {
  const ws = await loadWs();
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? 0;
  const server = new ws.WebSocketServer({
    host,
    port,
    maxPayload: opts.maxPayload,
    perMessageDeflate: false,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
  } catch (err) {
    server.close();
    throw new TransportBindError(`ws://${host}:${port}/`, { cause: err });
  }
  server.on("error", () => {/* after listening: per-connection errors close that connection */});
  server.on("connection", (socket) => accept(socket as unknown as WebSocketLike));
  const address = server.address();
  const bound = typeof address === "object" && address !== null ? address.port : port;
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of server.clients) c.terminate();
        server.close(() => resolve());
      }),
  };
}
