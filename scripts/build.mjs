// Builds the Node entry points (dist/) from the TypeScript sources with esbuild.
// Deno and the tests use the .ts sources directly; Node 20 cannot, so `npm ci` runs this in `prepare`.
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { npmSpecifierPlugin } from "./npm_specifier_plugin.mjs";

const entryPoints = ["mod.ts", "min/mod.ts", "cli.ts"].filter((p) => existsSync(p));
await build({
  entryPoints,
  outdir: "dist",
  outbase: ".",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  plugins: [npmSpecifierPlugin],
  sourcemap: true,
  logLevel: "warning",
});
