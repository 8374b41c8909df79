/**
 * The WebSocket backend: packets over WebSocket connections, with a server that relays between
 * clients that cannot reach each other (two browser tabs). Runs on Node (`ws`), Deno
 * (`Deno.serve`, built-in client) and in browsers (client only); an edge runtime that does its own
 * HTTP upgrade hands the socket to {@link WebSocketTransport.accept}.
 *
 * ```ts
 * // A server node (Node or Deno), reachable at ws://127.0.0.1:8080/
 * const server = await createWebSocketTransport({ listen: { port: 8080 } });
 * // A browser tab attached to it, reachable at relay+ws://127.0.0.1:8080/#tab-1
 * const tab = await createWebSocketTransport({ id: "tab-1", servers: ["ws://127.0.0.1:8080/"] });
 * ```
 * Addresses are described in `address.ts`; the wire format in `frame.ts`.
 * @module
 */

import { platformWebSocket } from "./connect.ts";
import { denoNamespace, listenDeno } from "./deno_server.ts";
import { MAX_FRAME_OVERHEAD } from "./frame.ts";
import type { ListenOptions } from "./listen.ts";
import { listenNode } from "./node_server.ts";
import type { WebSocketConstructorLike } from "./socket.ts";
import { type WebSocketCoreOptions, WebSocketTransport } from "./transport.ts";

export {
  formatRelayAddress,
  parseWebSocketAddress,
  tryParseWebSocketAddress,
  WEBSOCKET_SCHEMES,
  type WebSocketAddress,
} from "./address.ts";
export type { WebSocketConstructorLike, WebSocketEventLike, WebSocketLike } from "./socket.ts";
export type { ListenOptions } from "./listen.ts";
export type { RelayKey } from "./relay_auth.ts";
export {
  type GoneHandler,
  type ReconnectOptions,
  type SignalHandler,
  WEBSOCKET_DEFAULT_MTU,
  type WebSocketCoreOptions,
  WebSocketTransport,
  type WebSocketTransportStats,
} from "./transport.ts";

/** Options of {@link createWebSocketTransport}. */
export interface WebSocketTransportOptions extends WebSocketCoreOptions {
  /**
   * Start a server (Node: `ws`; Deno: `Deno.serve`) on this host and port; its URL
   * `ws://HOST:PORT/` becomes the first address. On Node also the HTTP limits of
   * {@link ListenOptions} (`headersTimeoutMs`, `maxSockets`). Not in browsers.
   * @default {undefined} (no server)
   */
  listen?: ListenOptions;
  /**
   * Server URLs to announce instead of the listening one (behind a proxy, or `wss://` terminated
   * elsewhere), or for an endpoint fed only through `accept()`. @default {[]}
   */
  advertise?: readonly string[];
  /** WebSocket client constructor to dial with. @default {`ws` on Node, the global `WebSocket` elsewhere} */
  WebSocket?: WebSocketConstructorLike;
  /** How long creation waits for the first connection to each of `servers`, in ms. @default {5_000} */
  attachTimeoutMs?: number;
}

/**
 * Creates a WebSocket transport: starts its server if `listen` is given, and dials `servers`.
 * Resolves once the server listens and each server was dialled once (opened or failed; it keeps
 * redialling).
 * @throws {RangeError} for invalid options.
 * @throws {TransportBindError} when the server cannot listen.
 */
export async function createWebSocketTransport(
  opts: WebSocketTransportOptions = {},
): Promise<WebSocketTransport> {
  const connect = opts.WebSocket ?? await platformWebSocket();
  const t = new WebSocketTransport(opts, connect);
  try {
    if (opts.listen !== undefined) {
      const accept = t.accept.bind(t);
      const maxPayload = t.mtu + MAX_FRAME_OVERHEAD + 1024;
      const server = denoNamespace() !== undefined
        ? await listenDeno(opts.listen, accept)
        : await listenNode({ ...opts.listen, maxPayload }, accept);
      const host = opts.listen.host ?? "127.0.0.1";
      const shown = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : bracket(host);
      const advertise = opts.advertise?.length ? opts.advertise : [`ws://${shown}:${server.port}/`];
      advertise.forEach((a, i) => t._addServer(a, i === 0 ? () => server.close() : undefined));
    } else {
      for (const a of opts.advertise ?? []) t._addServer(a);
    }
    await t._attach(opts.attachTimeoutMs ?? 5_000);
  } catch (err) {
    await t.close();
    throw err;
  }
  return t;
}

function bracket(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
