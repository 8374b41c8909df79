/**
 * `--key-file FILE`, shared by `raincore node` and `raincore demo`: reads and parses a key file (a
 * cluster key or a node credential) and loads node:crypto for synchronous per-packet crypto.
 * @module
 */

import type { NodeCredential } from "../transport/secure/keys.ts";
import { parseKeyFile } from "../transport/secure/key_file.ts";
import { loadNodeCrypto } from "../transport/secure/node_crypto.ts";
import { UsageError } from "./args.ts";

/**
 * The key in `file`.
 * @throws {UsageError} when the file cannot be read.
 * @throws {InvalidKeyError} when it holds no usable key (the message says how to make one).
 */
export async function readKeyFile(file: string): Promise<Uint8Array | NodeCredential> {
  const { readFile } = await import("node:fs/promises");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new UsageError(`--key-file: cannot read ${file}: ${(error as Error).message}`);
  }
  await loadNodeCrypto();
  return parseKeyFile(text);
}
