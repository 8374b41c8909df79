/**
 * What a WebSocket server listens with and returns, shared by the Node (`node_server.ts`) and Deno
 * (`deno_server.ts`) servers. Kept apart from them so that the public types never reach the `ws`
 * package's own (a program that does not install `@types/ws` still type-checks).
 * @module
 */

/** A listening server: its port and how to stop it. */
export interface ListeningServer {
  /** The bound port. */
  port: number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Where to listen, and the HTTP server's own limits (Node; Deno's `Deno.serve` has its own). */
export interface ListenOptions {
  /** Host to bind. @default {"127.0.0.1"} */
  host?: string;
  /** Port; 0 picks a free one. @default {0} */
  port?: number;
  /** Time an HTTP request (the WebSocket upgrade) has to send its headers, ms. @default {10_000} */
  headersTimeoutMs?: number;
  /** TCP connections open at once, upgraded or not; more are closed on arrival. @default {2048} */
  maxSockets?: number;
}
