/**
 * The contract between the Group Communication Manager and the layer below it (the Transport
 * Manager, or anything with the same three members), and a promise wrapper for the API calls that
 * wait on one send.
 * @module
 */

/**
 * What the GCM needs from the layer below; the Transport Manager satisfies it. `post` reports
 * success once the whole message is acknowledged, and an error when every resend on every address
 * failed — that failure is the GCM's failure detector (3.2, 3.5).
 */
export interface MessageLayer {
  /** This node's ID. */
  readonly nodeId: string;
  /**
   * Sends one message reliably and atomically; no ordering between messages is needed. `outcome` is
   * called exactly once, from the layer's own event that decides it (never from a promise
   * continuation, so a simulated run does not depend on how many `await`s a chain has).
   */
  post(nodeId: string, channel: number, msg: Uint8Array, outcome: (error?: Error) => void): void;
  /**
   * Registers the handler of one channel. Each message comes in a buffer of its own that the layer
   * never touches again (the Transport Manager's do): decoded payloads are views into it.
   */
  onMessage(channel: number, fn: (from: string, msg: Uint8Array) => void): void;
  /**
   * Optional: the longest time a send to a node never measured takes to fail, ms. The GCM's Hungry
   * timeout must exceed it (`timing.ts`).
   */
  readonly failureTimeMs?: number;
  /** Optional: the shortest time a send can take to fail (timeouts at their floor), ms. */
  readonly failureTimeFloorMs?: number;
  /** Optional: the time a send to `nodeId` would take to fail from now on (measured), ms. */
  failureTimeOf?(nodeId: string): number;
  /**
   * Optional: this node's own addresses (every backend's), preferred first. The GCM declares them to
   * the group, so that members that never heard of this node can reach it (`addresses.ts`).
   */
  readonly addresses?: readonly string[];
  /** Optional: calls `fn` whenever {@link addresses} changed (one function; a later call replaces it). */
  onAddressesChanged?(fn: () => void): void;
  /**
   * Optional: node `nodeId` declared these addresses for itself (preferred first); the layer uses
   * those it can send to (the TransportManager: unless the application configured that node's).
   */
  declareAddresses?(nodeId: string, addresses: readonly string[]): void;
}

/** Sends one message through `layer` and resolves when it is acknowledged (rejects when it failed). */
export function sendVia(
  layer: MessageLayer,
  nodeId: string,
  channel: number,
  msg: Uint8Array,
): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    layer.post(nodeId, channel, msg, (error) => error === undefined ? resolve() : reject(error))
  );
}
