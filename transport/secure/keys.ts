/**
 * Keys of the secure transport: the cluster key, the pair key of two node IDs derived from it
 * (`HMAC-SHA-256(clusterKey, "raincore/1 pair" | sorted length-prefixed IDs)`), the direction key of
 * one sender towards one receiver (`HMAC-SHA-256(pairKey, "raincore/1 dir 1|2")`), and node
 * credentials — the pair keys of one node with its eligible peers, issued by the operator so that
 * their holder can speak only as itself.
 * @module
 */

import { InvalidKeyError } from "../errors.ts";
import { hmacAsync, loadedNodeCrypto, subtle } from "./node_crypto.ts";

/** Smallest cluster key accepted, in bytes. */
export const MIN_KEY_BYTES = 16;

/** A node's credential: its pair keys with the eligible peers, issued by the operator. */
export interface NodeCredential {
  /** The node ID this credential speaks for. */
  readonly nodeId: string;
  /** Peer node ID → pair key (32 bytes) shared by this node and that peer. */
  readonly peers: Readonly<Record<string, Uint8Array>>;
}

const enc = new TextEncoder();

/** The label of the pair key of `a` and `b`: their IDs sorted, each length-prefixed. */
export function pairLabel(a: string, b: string): Uint8Array {
  const [x, y] = a < b ? [a, b] : [b, a];
  const xb = enc.encode(x);
  const yb = enc.encode(y);
  const label = enc.encode("raincore/1 pair");
  const out = new Uint8Array(label.length + 2 + xb.length + yb.length);
  out.set(label, 0);
  out[label.length] = xb.length;
  out.set(xb, label.length + 1);
  out[label.length + 1 + xb.length] = yb.length;
  out.set(yb, label.length + 2 + xb.length);
  return out;
}

/** Direction byte: 1 when the sender's ID sorts first, else 2. */
export function dirLabel(src: string, dst: string): Uint8Array {
  return enc.encode(src < dst ? "raincore/1 dir 1" : "raincore/1 dir 2");
}

/**
 * The pair key of nodes `a` and `b` under `clusterKey` (order of `a` and `b` does not matter).
 * @throws {InvalidKeyError} when the cluster key is shorter than {@link MIN_KEY_BYTES}.
 */
export async function derivePairKey(clusterKey: Uint8Array, a: string, b: string): Promise<Uint8Array> {
  checkClusterKey(clusterKey);
  return await hmacAsync(loadedNodeCrypto(), clusterKey, pairLabel(a, b));
}

/**
 * Issues the credential of node `nodeId`: its pair keys with each of `eligible` (the other node
 * IDs allowed in the cluster). Give it to that node instead of the cluster key; it cannot speak as
 * any other ID.
 */
export async function issueNodeCredential(
  clusterKey: Uint8Array,
  nodeId: string,
  eligible: readonly string[],
): Promise<NodeCredential> {
  checkId(nodeId);
  const peers: Record<string, Uint8Array> = {};
  for (const peer of eligible) {
    if (peer === nodeId) continue;
    checkId(peer);
    peers[peer] = await derivePairKey(clusterKey, nodeId, peer);
  }
  return { nodeId, peers };
}

/**
 * Checks a cluster key's type and length.
 * @throws {InvalidKeyError} saying how to make a good one.
 */
export function checkClusterKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length < MIN_KEY_BYTES) {
    throw new InvalidKeyError(
      `cluster key must be at least ${MIN_KEY_BYTES} bytes; generate one with \`raincore key new --out cluster.key\` (or \`head -c 32 /dev/urandom | base64\`)`,
    );
  }
}

/**
 * Checks a node ID for use in key derivation.
 * @throws {InvalidKeyError} when it is not 1..255 bytes of UTF-8.
 */
export function checkId(id: string): void {
  const n = enc.encode(id).length;
  if (typeof id !== "string" || n === 0 || n > 255) {
    throw new InvalidKeyError(`node ID must be 1..255 bytes of UTF-8, got ${JSON.stringify(id)}`);
  }
}

/** A direction key: raw bytes (for node:crypto) and lazily imported Web Crypto keys. */
export class DirKey {
  #hmac?: Promise<CryptoKey>;
  #aes?: Promise<CryptoKey>;
  /** The 32-byte direction key. */
  readonly raw: Uint8Array;
  /** @param raw the 32-byte direction key. */
  constructor(raw: Uint8Array) {
    this.raw = raw;
  }
  /** The key imported for Web Crypto HMAC. */
  hmac(): Promise<CryptoKey> {
    this.#hmac ??= subtle().importKey(
      "raw",
      this.raw as BufferSource,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    return this.#hmac;
  }
  /** The key imported for Web Crypto AES-GCM. */
  aes(): Promise<CryptoKey> {
    this.#aes ??= subtle().importKey("raw", this.raw as BufferSource, { name: "AES-GCM" }, false, [
      "encrypt",
      "decrypt",
    ]);
    return this.#aes;
  }
}
