/**
 * The WebSocket server on Deno: `Deno.serve` with `Deno.upgradeWebSocket`; every upgraded socket
 * goes to {@link WebSocketTransport.accept}. Other requests get `426 Upgrade Required`.
 * @module
 */

import { TransportBindError } from "../../errors.ts";
import type { ListeningServer } from "./listen.ts";
import type { WebSocketLike } from "./socket.ts";

interface DenoServe {
  serve(
    options: {
      hostname: string;
      port: number;
      signal: AbortSignal;
      onListen?: (addr: { port: number }) => void;
    },
    handler: (request: Request) => Response,
  ): { addr: { port: number }; finished: Promise<void> };
  upgradeWebSocket(request: Request): { socket: WebSocketLike; response: Response };
}

/** The `Deno` namespace when running on Deno. */
export function denoNamespace(): DenoServe | undefined {
  const d = (globalThis as { Deno?: DenoServe }).Deno;
  return typeof d === "object" && typeof d.serve === "function" ? d : undefined;
}

/**
 * Starts `Deno.serve` and hands each upgraded socket to `accept`.
 * @throws {TransportBindError} when the port cannot be bound.
 */
export function listenDeno(
  opts: { host?: string; port?: number },
  accept: (s: WebSocketLike) => void,
): Promise<ListeningServer> {
  const deno = denoNamespace();
  if (deno === undefined) throw new Error("Deno.serve is not available");
  const hostname = opts.host ?? "127.0.0.1";
  const port = opts.port ?? 0;
  const abort = new AbortController();
  let server: { addr: { port: number }; finished: Promise<void> };
  try {
    server = deno.serve({ hostname, port, signal: abort.signal, onListen: () => {} }, (request) => {
      if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        return new Response("WebSocket only", { status: 426 });
      }
      const { socket, response } = deno.upgradeWebSocket(request);
      accept(socket);
      return response;
    });
  } catch (err) {
    return Promise.reject(new TransportBindError(`ws://${hostname}:${port}/`, { cause: err }));
  }
  return Promise.resolve({
    port: server.addr.port,
    close: async () => {
      abort.abort();
      await server.finished.catch(() => undefined);
    },
  });
}
