import { defineConfig } from "vitest/config";
// @ts-ignore: plain .mjs helper shared with the esbuild build
import { npmSpecifierVitePlugin } from "./scripts/npm_specifier_plugin.mjs";

export default defineConfig({
  plugins: [npmSpecifierVitePlugin],
  test: {
    include: ["tests/**/*.test.ts"],
    // Known failing, kept out of the default run and tracked as open work (issue 5): the 3 + 3
    // partition through the relay sometimes never splits (one side keeps its six-member view for
    // 20 s+). Run it with `npx vitest run --config vitest.known.config.ts`.
    exclude: ["tests/deno/**", "node_modules/**", "tests/gcm/partition_process.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    globalSetup: ["tests/helpers/global_setup.ts"],
  },
});
