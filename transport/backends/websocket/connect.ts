/**
 * The client side: which WebSocket implementation dials out. Browsers and Deno have one built in;
 * on Node the `ws` package (loaded lazily, so browser bundles never include it).
 * @module
 */

import { isLoopbackHost } from "../../../base/loopback_host.ts";
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
    return class extends WebSocket {
      constructor(url: string) {
        // Packets are already compact binary; per-message deflate would only cost CPU.
        super(url, {
          perMessageDeflate: false,
          ...(unmaskedFramesAllowed(url) ? { generateMask: zeroMask } : {}),
        });
      }
    } as unknown as WebSocketConstructorLike;
  }
  const g = globalThis as { WebSocket?: WebSocketConstructorLike };
  return g.WebSocket;
}

/**
 * Whether frames to `url` may carry a zero masking key. A client masks its frames (RFC 6455, 10.3) so
 * that an HTTP intermediary on the path cannot be tricked by chosen payload bytes; over TLS (`wss:`)
 * no intermediary reads the frames, and on a loopback host there is none. There, random masks only
 * cost a copy and an XOR pass over every frame on both ends (`ws` skips both for a zero key): the
 * 4-member WebSocket ring flood moved ~23k msgs/s of 1 KB with them and ~36k without.
 */
export function unmaskedFramesAllowed(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === "wss:" || isLoopbackHost(u.hostname);
}

function zeroMask(mask: Uint8Array): void {
  mask.fill(0);
}
