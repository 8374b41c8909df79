/**
 * The part of the WHATWG `WebSocket` the backend uses, so that any implementation plugs in: the
 * browser's and Deno's own, the `ws` package on Node, or the socket an edge runtime hands over
 * after its own HTTP upgrade.
 * @module
 */

/** An event of a {@link WebSocketLike}: `data` for `message`, `code` for `close`. */
export interface WebSocketEventLike {
  /** Message payload (`ArrayBuffer` with `binaryType = "arraybuffer"`, or a string). */
  readonly data?: unknown;
  /** Close code. */
  readonly code?: number;
}

/** The subset of the WHATWG `WebSocket` interface the backend needs. */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Bytes queued by `send()` and not yet handed to the network. */
  readonly bufferedAmount: number;
  /** Set to `"arraybuffer"` by the backend. */
  binaryType: string;
  /** Sends one binary message. */
  send(data: Uint8Array): void;
  /** Closes the connection. */
  close(code?: number, reason?: string): void;
  /** Subscribes to `open`, `message`, `close` or `error`. */
  addEventListener(type: string, listener: (event: WebSocketEventLike) => void): void;
}

/** A constructor of client WebSockets, like the global `WebSocket`. */
export type WebSocketConstructorLike = new (url: string) => WebSocketLike;

/** `WebSocket.OPEN`. */
export const OPEN = 1;
/** `WebSocket.CONNECTING`. */
export const CONNECTING = 0;

/** The bytes of a message event's data, or `undefined` for text and other non-binary data. */
export function binaryData(data: unknown): Uint8Array | undefined {
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}
