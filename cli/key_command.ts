/**
 * `raincore key new [--out FILE]`: a fresh cluster key — 32 random bytes as one line of base64, the
 * format `--key-file` reads. With `--out` it is written to FILE, readable by its owner only (0600),
 * and never over an existing file; without, printed on stdout.
 * @module
 */

import { parseFlags, UsageError } from "../runtime/args.ts";
import type { Command } from "./commands.ts";

const usage = `raincore key — cluster keys

usage: raincore key new [--out FILE]

  new         make a cluster key: 32 random bytes, one line of base64
  --out FILE  write it to FILE (created with mode 0600; an existing file is left alone)
              instead of printing it

Copy the file to every member and start each with --key-file FILE (docs/security.md).`;

/** A fresh cluster key as the text of a key file. */
export function newClusterKeyText(): string {
  const bytes = new Uint8Array(32);
  globalThis.crypto.getRandomValues(bytes);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin) + "\n";
}

/** The `key` subcommand. */
export const keyCommand: Command = {
  summary: "make a cluster key (raincore key new --out cluster.key)",
  usage,
  async run(argv) {
    const [action, ...rest] = argv;
    if (action !== "new") {
      throw new UsageError(action === undefined ? "which action? (new)" : `unknown action "${action}"`);
    }
    const out = parseFlags(rest, { out: {} }).get("out")?.[0];
    const text = newClusterKeyText();
    if (out === undefined) {
      console.log(text.trimEnd());
      return 0;
    }
    const { open } = await import("node:fs/promises");
    let file;
    try {
      file = await open(out, "wx", 0o600);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      throw new UsageError(
        e.code === "EEXIST"
          ? `--out: ${out} exists; remove it first or choose another name`
          : `--out: ${e.message}`,
      );
    }
    try {
      await file.chmod(0o600); // whatever the umask did
      await file.writeFile(text);
    } finally {
      await file.close();
    }
    console.error(
      `raincore key: wrote a cluster key to ${out} (mode 0600); give it to every member with --key-file`,
    );
    return 0;
  },
};
