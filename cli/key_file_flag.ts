/**
 * `--key-file FILE`, shared by `raincore node` and `raincore demo`: reads and parses a key file (a
 * cluster key or a node credential) and loads node:crypto for synchronous per-packet crypto. Every
 * problem is a usage error that names the file and says what to do.
 * @module
 */

import { InvalidKeyError } from "../transport/errors.ts";
import type { NodeCredential } from "../transport/secure/keys.ts";
import { parseKeyFile } from "../transport/secure/key_file.ts";
import { loadNodeCrypto } from "../transport/secure/node_crypto.ts";
import { UsageError } from "../runtime/args.ts";

/**
 * The key in `file`.
 * @throws {UsageError} when the file cannot be read or holds no usable key.
 */
export async function readKeyFile(file: string): Promise<Uint8Array | NodeCredential> {
  const { readFile } = await import("node:fs/promises");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new UsageError(
      `--key-file ${file}: cannot read it (${(error as { code?: string }).code ?? error})`,
    );
  }
  let key: Uint8Array | NodeCredential;
  try {
    key = parseKeyFile(text);
  } catch (error) {
    if (!(error instanceof InvalidKeyError)) throw error;
    throw new UsageError(`--key-file ${file}: ${error.message}`);
  }
  await loadNodeCrypto();
  return key;
}
