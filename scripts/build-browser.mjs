#!/usr/bin/env node
// Builds the browser bundle: one ES module, dist/raincore.browser.js, from mod.ts (the whole
// public API). Node-only modules never enter it: `node:*` imports fail the build,
// and the npm packages that only Node and Deno use (ws, werift: loaded lazily by the backends)
// are replaced by a stub that throws if it is ever called — in a browser the backends use the
// native WebSocket and RTCPeerConnection instead.
//   node scripts/build-browser.mjs [--outfile dist/raincore.browser.js] [--minify]
//        [--entry tests/browser/page.ts]   another entry (the Chromium test's page) under the same rules
import { build } from "esbuild";
import { stripNpmSpecifier } from "./npm_specifier_plugin.mjs";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values } = parseArgs({
  options: {
    outfile: { type: "string", default: "dist/raincore.browser.js" },
    entry: { type: "string", default: "mod.ts" },
    minify: { type: "boolean" },
  },
});
const NODE_ONLY_PACKAGES = /^npm:(ws|werift)@/;
/** npm packages that work in browsers and are bundled (cbor-x: the GDM's value encoding). */
const BROWSER_PACKAGES = /^npm:(cbor-x|uint8arrays)@/;

/** esbuild plugin: stub the Node/Deno-only npm packages, bundle the browser-safe ones, refuse `node:` and anything else. */
const browserOnly = {
  name: "browser-only",
  setup(b) {
    b.onResolve(
      { filter: BROWSER_PACKAGES },
      (args) => b.resolve(stripNpmSpecifier(args.path), { kind: args.kind, resolveDir: args.resolveDir }),
    );
    b.onResolve(
      { filter: /^npm:/ },
      (args) =>
        NODE_ONLY_PACKAGES.test(args.path)
          ? { path: args.path, namespace: "node-only-stub" }
          : { errors: [{ text: `npm package ${args.path} is not bundled for browsers; add it or stub it` }] },
    );
    b.onLoad({ filter: /.*/, namespace: "node-only-stub" }, (args) => ({
      contents: `const fail = () => { throw new Error(${
        JSON.stringify(`${args.path} is not available in browsers`)
      }); };
export const WebSocket = fail, WebSocketServer = fail, RTCPeerConnection = fail;
export default fail;`,
      loader: "js",
    }));
    b.onResolve({ filter: /^node:/ }, (args) => ({
      errors: [{ text: `${args.path} (imported by ${args.importer}) must not reach the browser bundle` }],
    }));
  },
};

const entry = resolve(root, values.entry);
if (!existsSync(entry)) throw new Error(`${entry} not found`);
const result = await build({
  entryPoints: [entry],
  outfile: resolve(root, values.outfile),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  plugins: [browserOnly],
  sourcemap: true,
  minify: values.minify === true,
  metafile: true,
  logLevel: "warning",
});
const out = Object.entries(result.metafile.outputs).find(([f]) => f.endsWith(".js"));
console.log(
  `${values.outfile}: ${(out[1].bytes / 1024).toFixed(1)} KiB, ${
    Object.keys(result.metafile.inputs).length
  } inputs`,
);
