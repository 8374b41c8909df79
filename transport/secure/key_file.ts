/**
 * Key files, as `--key-file` reads them and `raincore key new` / `tools/issue_credential.ts` write
 * them: a cluster key as one line of base64 (or hex), or a node credential as JSON.
 * @module
 */

import { InvalidKeyError } from "../errors.ts";
import { checkClusterKey, checkId, type NodeCredential } from "./keys.ts";

/**
 * Parses a key file: either a cluster key (one line of base64 or hex, ≥ 16 bytes) or a node
 * credential as JSON `{"nodeId": "a", "peers": {"b": "<base64>", …}}`.
 * @throws {InvalidKeyError} with what is wrong and how to make a good file.
 */
export function parseKeyFile(text: string): Uint8Array | NodeCredential {
  const t = text.trim();
  if (t.startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(t);
    } catch (e) {
      throw new InvalidKeyError(`key file looks like JSON but does not parse: ${(e as Error).message}`);
    }
    const o = json as { nodeId?: unknown; peers?: unknown };
    if (typeof o.nodeId !== "string" || typeof o.peers !== "object" || o.peers === null) {
      throw new InvalidKeyError('node credential must be {"nodeId": string, "peers": {id: base64 key}}');
    }
    checkId(o.nodeId);
    const peers: Record<string, Uint8Array> = {};
    for (const [id, v] of Object.entries(o.peers as Record<string, unknown>)) {
      if (typeof v !== "string") throw new InvalidKeyError(`pair key of "${id}" must be a base64 string`);
      const k = decodeKeyText(v);
      if (k.length !== 32) throw new InvalidKeyError(`pair key of "${id}" must be 32 bytes, got ${k.length}`);
      peers[id] = k;
    }
    return { nodeId: o.nodeId, peers };
  }
  const key = decodeKeyText(t);
  checkClusterKey(key);
  return key;
}

/** Formats a node credential as the JSON that {@link parseKeyFile} reads. */
export function formatNodeCredential(c: NodeCredential): string {
  const peers: Record<string, string> = {};
  for (const [id, k] of Object.entries(c.peers)) peers[id] = toBase64(k);
  return JSON.stringify({ nodeId: c.nodeId, peers }) + "\n";
}

function decodeKeyText(t: string): Uint8Array {
  const s = t.trim();
  if (/^[0-9a-fA-F]+$/.test(s) && s.length % 2 === 0) {
    const out = new Uint8Array(s.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
    return out;
  }
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  throw new InvalidKeyError(
    "key must be base64 or hex text; generate one with `raincore key new --out cluster.key` (or `head -c 32 /dev/urandom | base64`)",
  );
}

function toBase64(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}
