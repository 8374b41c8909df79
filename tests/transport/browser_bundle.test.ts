/**
 * mod.ts must load in browsers although it re-exports the UDP backend: `node:dgram` is imported
 * only inside createUdpTransport, out of a bundler's sight. Proved by bundling mod.ts for the
 * browser platform with esbuild (which fails on any node: import it can see).
 */
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
// @ts-ignore: plain .mjs helper shared with the esbuild build
import { npmSpecifierPlugin } from "../../scripts/npm_specifier_plugin.mjs";
import { repoRoot } from "../../tools/json_child.ts";

describe("browser bundle of mod.ts", () => {
  it("builds for the browser platform with no node: import in sight", async () => {
    const result = await build({
      entryPoints: ["mod.ts"],
      absWorkingDir: repoRoot,
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
      plugins: [npmSpecifierPlugin],
    });
    expect(result.errors).toEqual([]);
    const code = result.outputFiles[0].text;
    expect(code).toContain("createUdpTransport");
    expect(code).not.toMatch(/from\s*["']node:/);
  });
});
