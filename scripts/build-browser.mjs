#!/usr/bin/env node
// Browser builds. Node-only modules never enter them: `node:*` imports fail the build, and the npm
// packages that only Node and Deno use (ws, werift: loaded lazily by the backends) are replaced by a
// stub that throws if it is ever called — in a browser the backends use the native WebSocket and
// RTCPeerConnection instead. Two shapes, both written by `npm run build` (scripts/build.mjs):
//   - dist/raincore.browser.js: one ES module of the whole public API (mod.ts), for a <script> tag
//     or a static server (the demo serves it);
//   - dist/browser/: the package's entry points (mod.ts, transport/, gcm/, gdm/, min/) with shared
//     chunks, which the `browser` export condition points at, so bundlers pick them by themselves.
//   node scripts/build-browser.mjs [--outfile dist/raincore.browser.js] [--minify]
//        [--entry tests/browser/page.ts]   another entry (the Chromium test's page) under the same rules
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** npm packages that only Node and Deno load (lazily); stubbed in browser builds. */
const NODE_ONLY_PACKAGES = /^(ws|werift)(\/.*)?$/;
/** npm packages that work in browsers and are bundled (cbor-x: the GDM's value encoding). */
const BROWSER_PACKAGES = /^cbor-x(\/.*)?$/;

/** esbuild plugin: stub the Node/Deno-only npm packages, bundle the browser-safe ones, refuse `node:` and anything else. */
export const browserOnly = {
  name: "browser-only",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({
      errors: [{ text: `${args.path} (imported by ${args.importer}) must not reach a browser build` }],
    }));
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (NODE_ONLY_PACKAGES.test(args.path)) return { path: args.path, namespace: "node-only-stub" };
      if (BROWSER_PACKAGES.test(args.path)) return undefined; // esbuild resolves it from node_modules
      return {
        errors: [{ text: `npm package ${args.path} is not bundled for browsers; add it or stub it` }],
      };
    });
    b.onLoad({ filter: /.*/, namespace: "node-only-stub" }, (args) => ({
      contents: `const fail = () => { throw new Error(${
        JSON.stringify(`${args.path} is not available in browsers`)
      }); };
export const WebSocket = fail, WebSocketServer = fail, RTCPeerConnection = fail;
export default fail;`,
      loader: "js",
    }));
  },
};

/** The package's entry points (the sub-paths of package.json and deno.json). */
export const LIBRARY_ENTRIES = ["mod.ts", "transport/mod.ts", "gcm/mod.ts", "gdm/mod.ts", "min/mod.ts"];

const common = {
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2022"],
  plugins: [browserOnly],
  sourcemap: true,
  logLevel: "warning",
  absWorkingDir: root,
};

/** Builds one entry into one self-contained ES module; resolves with its size in bytes. */
export async function buildBrowserBundle(
  { entry = "mod.ts", outfile = "dist/raincore.browser.js", minify = false } = {},
) {
  const path = resolve(root, entry);
  if (!existsSync(path)) throw new Error(`${path} not found`);
  const result = await build({
    ...common,
    entryPoints: [path],
    outfile: resolve(root, outfile),
    minify,
    metafile: true,
  });
  const out = Object.entries(result.metafile.outputs).find(([f]) => f.endsWith(".js"));
  return { bytes: out[1].bytes, inputs: Object.keys(result.metafile.inputs).length };
}

/** Builds the library entries into `outdir` with shared chunks (the `browser` export condition). */
export async function buildBrowserEntries(outdir = "dist/browser") {
  await build({
    ...common,
    entryPoints: LIBRARY_ENTRIES.map((e) => resolve(root, e)),
    outdir: resolve(root, outdir),
    outbase: root,
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      outfile: { type: "string", default: "dist/raincore.browser.js" },
      entry: { type: "string", default: "mod.ts" },
      minify: { type: "boolean" },
    },
  });
  const { bytes, inputs } = await buildBrowserBundle({
    entry: values.entry,
    outfile: values.outfile,
    minify: values.minify === true,
  });
  console.log(`${values.outfile}: ${(bytes / 1024).toFixed(1)} KiB, ${inputs} inputs`);
}
