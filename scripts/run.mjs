#!/usr/bin/env node
// Runs a TypeScript entry point on Node 20 (which cannot load .ts itself): bundles it with esbuild
// into node_modules/.cache/raincore/ and imports the result. Used by the CLI, the benchmarks and
// the tests that start real OS processes.
//   node scripts/run.mjs path/to/entry.ts [args...]
import { build } from "esbuild";
import { mkdirSync, rmSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createHash } from "node:crypto";
import { npmSpecifierPlugin } from "./npm_specifier_plugin.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const entry = process.argv[2];
if (!entry) {
  console.error("usage: node scripts/run.mjs ENTRY.ts [args...]");
  process.exit(2);
}
const entryPath = resolve(entry);
const cacheDir = join(root, "node_modules", ".cache", "raincore");
mkdirSync(cacheDir, { recursive: true });
const tag = createHash("sha1").update(entryPath).digest("hex").slice(0, 10);
const outfile = join(cacheDir, `${basename(entryPath, ".ts")}-${tag}-${process.pid}.mjs`);
await build({
  entryPoints: [entryPath],
  outfile,
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  plugins: [npmSpecifierPlugin],
  sourcemap: "inline",
  logLevel: "error",
  absWorkingDir: root,
});
process.argv.splice(1, 2, entryPath);
process.on("exit", () => rmSync(outfile, { force: true }));
await import(pathToFileURL(outfile).href);
