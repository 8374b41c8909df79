import { defineConfig } from "vitest/config";
// @ts-ignore: plain .mjs helper shared with the esbuild build
import { npmSpecifierVitePlugin } from "./scripts/npm_specifier_plugin.mjs";

export default defineConfig({
  plugins: [npmSpecifierVitePlugin],
  test: {
    include: ["tests/**/*.test.ts"],
    exclude: ["tests/deno/**", "node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    globalSetup: ["tests/helpers/global_setup.ts"],
  },
});
