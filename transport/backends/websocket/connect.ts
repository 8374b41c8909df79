/**
 * The client side: which WebSocket implementation dials out. Browsers and Deno have one built in;
 * on Node the `ws` package (loaded lazily, so browser bundles never include it).
 * @module
 */

import { loadWs } from "./node_server.ts";
import type { WebSocketConstructorLike } from "./socket.ts";

/** Whether this is Node (not Deno, nor the Cloudflare Workers runtime: both also have `process`). */
export function isNode(): boolean {
  const g = globalThis as {
    process?: { versions?: { node?: string } };
    Deno?: unknown;
    navigator?: { userAgent?: string };
  };
  if (g.navigator?.userAgent === "Cloudflare-Workers") return false;
  return g.Deno === undefined && typeof g.process?.versions?.node === "string";
}

/** The platform's WebSocket client: `ws` on Node, the global `WebSocket` elsewhere. */
export async function platformWebSocket(): Promise<WebSocketConstructorLike | undefined> {
  if (isNode()) {
    const { WebSocket } = await loadWs();
    // Packets are already compact binary; per-message deflate would only cost CPU.
    return class extends WebSocket {
      constructor(url: string) {
        super(url, { perMessageDeflate: false });
      }
    } as unknown as WebSocketConstructorLike;
  }
  const g = globalThis as { WebSocket?: WebSocketConstructorLike };
  return g.WebSocket;
}
