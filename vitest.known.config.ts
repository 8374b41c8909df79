// The tests kept out of the default run because they are known to fail intermittently (see
// vitest.config.ts); `npx vitest run --config vitest.known.config.ts` runs just them.
import { defineConfig } from "vitest/config";
// @ts-ignore: plain .mjs helper shared with the esbuild build
import { npmSpecifierVitePlugin } from "./scripts/npm_specifier_plugin.mjs";

export default defineConfig({
  plugins: [npmSpecifierVitePlugin],
  test: {
    include: ["tests/gcm/partition_process.test.ts"],
    testTimeout: 120_000,
    pool: "forks",
    globalSetup: ["tests/helpers/global_setup.ts"],
  },
});
