/**
 * The crypto back ends of the secure transport: Web Crypto (`crypto.subtle`, every runtime,
 * asynchronous) and, where it loads (Node, Deno, Bun), `node:crypto`, used synchronously because it
 * is several times faster per packet. Both produce the same bytes. Also HMAC-SHA-256 on either.
 * @module
 */

import { InvalidKeyError } from "../errors.ts";

/** The parts of `node:crypto` the wrapper uses. */
export interface NodeCryptoModule {
  createHmac(alg: string, key: Uint8Array): { update(d: Uint8Array): unknown; digest(): Uint8Array };
  createCipheriv(alg: string, key: Uint8Array, iv: Uint8Array, o: { authTagLength: number }): NodeCipher;
  createDecipheriv(alg: string, key: Uint8Array, iv: Uint8Array, o: { authTagLength: number }): NodeCipher;
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
}
/** A `node:crypto` AES-GCM cipher or decipher. */
export interface NodeCipher {
  setAAD(aad: Uint8Array): unknown;
  update(d: Uint8Array): Uint8Array;
  final(): Uint8Array;
  getAuthTag(): Uint8Array;
  setAuthTag(t: Uint8Array): unknown;
}

let nodeCrypto: NodeCryptoModule | undefined;
let nodeCryptoLoading: Promise<boolean> | undefined;

/**
 * Loads `node:crypto` (Node, Deno, Bun) for synchronous per-packet crypto; resolves `false` where
 * it does not exist (browsers), which leaves Web Crypto in use. Safe to call many times.
 */
export function loadNodeCrypto(): Promise<boolean> {
  nodeCryptoLoading ??= (async () => {
    try {
      const spec = "node:crypto";
      const m = (await import(/* @vite-ignore */ spec)) as NodeCryptoModule & { default?: NodeCryptoModule };
      nodeCrypto = typeof m.createHmac === "function" ? m : m.default;
      return nodeCrypto !== undefined;
    } catch {
      return false;
    }
  })();
  return nodeCryptoLoading;
}

/**
 * Web Crypto's `subtle`.
 * @throws {InvalidKeyError} where it does not exist (an insecure browser context, an old runtime).
 */
export function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) {
    throw new InvalidKeyError(
      "Web Crypto (crypto.subtle) is not available; use a secure context (https) or a newer runtime",
    );
  }
  return s;
}

/** node:crypto once {@link loadNodeCrypto} has loaded it, else `undefined`. */
export function loadedNodeCrypto(): NodeCryptoModule | undefined {
  return nodeCrypto;
}

/** HMAC-SHA-256: with `c` (node:crypto) when given, else Web Crypto. */
export async function hmacAsync(
  c: NodeCryptoModule | undefined,
  key: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array> {
  if (c !== undefined) return hmacSync(c, key, data);
  const k = await subtle().importKey("raw", key as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await subtle().sign("HMAC", k, data as BufferSource));
}

/** HMAC-SHA-256 with node:crypto. */
export function hmacSync(c: NodeCryptoModule, key: Uint8Array, data: Uint8Array): Uint8Array {
  const h = c.createHmac("sha256", key);
  h.update(data);
  return new Uint8Array(h.digest());
}
