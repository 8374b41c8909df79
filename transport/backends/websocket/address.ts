/**
 * WebSocket addresses. A node that runs a WebSocket server is reachable at the server's URL; a
 * client behind a server (a browser tab) is reachable through the server, which relays:
 *
 * | address | meaning |
 * | --- | --- |
 * | `ws://127.0.0.1:8080/` | the endpoint that listens there (`wss://` for TLS) |
 * | `relay+ws://127.0.0.1:8080/#tab-7` | the client whose relay ID is `tab-7`, attached to that server |
 *
 * The part before `#` of a relay address is the server's own address with `relay+` in front; the
 * fragment is the client's relay ID, percent-encoded. URLs are normalised (`new URL().href`), so
 * `ws://127.0.0.1:8080` and `ws://127.0.0.1:8080/` are one address.
 * @module
 */

/** A parsed WebSocket or relay address. */
export interface WebSocketAddress {
  /** Normalised server URL, `ws://…` or `wss://…`, without fragment. */
  server: string;
  /** Relay ID of the client behind `server`, or `undefined` for the server itself. */
  relayId: string | undefined;
}

/** Address schemes the WebSocket backend sends to. */
export const WEBSOCKET_SCHEMES: readonly string[] = Object.freeze(["ws", "wss", "relay+ws", "relay+wss"]);

/** Longest relay ID in UTF-8 bytes (it travels in a one-byte length field). */
export const MAX_RELAY_ID_BYTES = 255;

/** Normalises a `ws://` or `wss://` URL (no fragment), or returns `undefined` if it is not one. */
export function normalizeServerUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if ((u.protocol !== "ws:" && u.protocol !== "wss:") || u.hash !== "" || u.username !== "") return undefined;
  return u.href;
}

/** Parses a WebSocket or relay address, or returns `undefined` when it is neither. */
export function tryParseWebSocketAddress(address: string): WebSocketAddress | undefined {
  if (address.startsWith("relay+")) {
    const hash = address.indexOf("#");
    if (hash < 0) return undefined;
    const server = normalizeServerUrl(address.slice(6, hash));
    if (server === undefined) return undefined;
    let relayId: string;
    try {
      relayId = decodeURIComponent(address.slice(hash + 1));
    } catch {
      return undefined;
    }
    if (!validRelayId(relayId)) return undefined;
    return { server, relayId };
  }
  const server = normalizeServerUrl(address);
  return server === undefined ? undefined : { server, relayId: undefined };
}

/**
 * Parses a WebSocket or relay address.
 * @throws {RangeError} when `address` is neither.
 */
export function parseWebSocketAddress(address: string): WebSocketAddress {
  const parsed = tryParseWebSocketAddress(address);
  if (parsed === undefined) {
    throw new RangeError(
      `not a WebSocket address: "${address}" (expected ws://HOST:PORT/PATH or relay+ws://HOST:PORT/PATH#ID)`,
    );
  }
  return parsed;
}

/** The relay address of client `relayId` behind `server` (a normalised `ws://` or `wss://` URL). */
export function formatRelayAddress(server: string, relayId: string): string {
  return `relay+${server}#${encodeURIComponent(relayId)}`;
}

/** Whether `id` can be a relay ID: 1..255 bytes of UTF-8. */
export function validRelayId(id: string): boolean {
  if (id.length === 0) return false;
  return new TextEncoder().encode(id).length <= MAX_RELAY_ID_BYTES;
}
