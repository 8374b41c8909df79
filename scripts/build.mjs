#!/usr/bin/env node
// `npm run build` (also `prepare`, so `npm ci` and `npm pack` run it): everything the package ships
// that is not a source file.
//   dist/*.js, dist/{transport,gcm,gdm,min}/mod.js, dist/cli.js   Node ESM (npm dependencies external)
//   dist/browser/…, dist/raincore.browser.js                       browser builds (scripts/build-browser.mjs)
//   dist/types/…                                                   declarations for every entry (tsc)
//   node scripts/build.mjs [--node-only]   --node-only: just the Node ESM (the test setup needs no more)
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildBrowserBundle, buildBrowserEntries, LIBRARY_ENTRIES } from "./build-browser.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const nodeOnly = process.argv.includes("--node-only");

/** Node ESM: the library entries and the CLI, shared code in chunks, npm packages left as imports. */
async function buildNode() {
  await build({
    entryPoints: [...LIBRARY_ENTRIES, "cli.ts"].map((e) => join(root, e)),
    outdir: dist,
    outbase: root,
    bundle: true,
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    format: "esm",
    platform: "node",
    target: "node22",
    packages: "external",
    sourcemap: true,
    logLevel: "warning",
  });
}

/**
 * Declarations: tsc over the entries, then relative `.ts` specifiers become `.js` (the emitted
 * files sit beside each other as `.d.ts`, which `.js` specifiers find under every module resolution).
 */
function buildTypes() {
  const out = join(dist, "types");
  rmSync(out, { recursive: true, force: true });
  const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], {
    stdio: "inherit",
    cwd: root,
  });
  const rewrite = (path) => {
    for (const name of readdirSync(path)) {
      const p = join(path, name);
      if (statSync(p).isDirectory()) rewrite(p);
      else if (p.endsWith(".d.ts")) {
        const text = readFileSync(p, "utf8");
        const fixed = text.replace(
          /((?:from|import)\s*\(?\s*["'])(\.\.?\/[^"']*)\.ts(["'])/g,
          (_, head, spec, tail) => `${head}${spec}.js${tail}`,
        );
        if (fixed !== text) writeFileSync(p, fixed);
      }
    }
  };
  rewrite(out);
}

const started = Date.now();
await buildNode();
if (!nodeOnly) {
  await buildBrowserEntries();
  const { bytes } = await buildBrowserBundle();
  buildTypes();
  console.log(
    `build: dist/ (Node, browser, types; raincore.browser.js ${(bytes / 1024).toFixed(0)} KiB) in ${
      ((Date.now() - started) / 1000).toFixed(1)
    } s`,
  );
}
