/**
 * Who may use a relay ID at a WebSocket server. A server that holds a key (the cluster key, or a node
 * credential) takes a client's HELLO only with a proof over the nonce of the CHALLENGE it opened the
 * connection with:
 *
 * ```text
 * proof = HMAC-SHA-256(pairKey(clientId, serverId), "raincore/1 relay hello" | nonce | len | serverId | len | clientId)
 * ```
 * `pairKey` is the secure transport's pair key (`transport/secure/keys.ts`): a cluster-key holder
 * derives it for any pair, a credential holder has it only between its own ID and its listed peers.
 * So a client cannot attach under another member's relay ID, and a credential is good for its own
 * ID only. The nonce makes a recorded HELLO useless on another connection.
 * @module
 */

import { checkClusterKey, checkId, type NodeCredential, pairLabel } from "../../secure/keys.ts";
import { equalTag } from "../../secure/envelope.ts";
import { hmacAsync, loadedNodeCrypto } from "../../secure/node_crypto.ts";
import { InvalidKeyError } from "../../errors.ts";

/** What a WebSocket endpoint may hold to prove and check relay IDs. */
export type RelayKey = Uint8Array | NodeCredential;

const encoder = new TextEncoder();
const LABEL = encoder.encode("raincore/1 relay hello");

/**
 * Checks a relay key for an endpoint whose relay ID is `id`.
 * @throws {InvalidKeyError} for a short cluster key, or a credential issued for another ID.
 */
export function checkRelayKey(key: RelayKey, id: string): void {
  if (key instanceof Uint8Array) {
    checkClusterKey(key);
    return;
  }
  checkId(key.nodeId);
  if (key.nodeId !== id) {
    throw new InvalidKeyError(`credential is for node "${key.nodeId}", not for relay ID "${id}"`);
  }
}

/** The pair key of `a` and `b` under `key`, or undefined when the key does not cover the pair. */
async function pairKey(key: RelayKey, a: string, b: string): Promise<Uint8Array | undefined> {
  if (key instanceof Uint8Array) return await hmacAsync(loadedNodeCrypto(), key, pairLabel(a, b));
  const other = a === key.nodeId ? b : b === key.nodeId ? a : undefined;
  if (other === undefined || !Object.hasOwn(key.peers, other)) return undefined;
  return key.peers[other];
}

function message(nonce: Uint8Array, serverId: string, clientId: string): Uint8Array {
  const s = encoder.encode(serverId);
  const c = encoder.encode(clientId);
  const out = new Uint8Array(LABEL.length + nonce.length + 2 + s.length + c.length);
  let p = 0;
  for (const part of [LABEL, nonce, new Uint8Array([s.length]), s, new Uint8Array([c.length]), c]) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

/** The proof a client with `key` sends in its HELLO; undefined when its key does not cover the server. */
export async function relayProof(
  key: RelayKey,
  clientId: string,
  serverId: string,
  nonce: Uint8Array,
): Promise<Uint8Array | undefined> {
  const k = await pairKey(key, clientId, serverId);
  return k === undefined
    ? undefined
    : await hmacAsync(loadedNodeCrypto(), k, message(nonce, serverId, clientId));
}

/** Whether `proof` shows that the client holds a key for `clientId` (checked with the server's `key`). */
export async function relayProofValid(
  key: RelayKey,
  clientId: string,
  serverId: string,
  nonce: Uint8Array,
  proof: Uint8Array | undefined,
): Promise<boolean> {
  if (proof === undefined) return false;
  const want = await relayProof(key, clientId, serverId, nonce);
  return want !== undefined && equalTag(want, proof);
}
