/**
 * The version the `raincore --version` command prints; equal to package.json's and deno.json's
 * (tests/cli/cli_errors.test.ts checks all three agree).
 * @module
 */

/** raincore's version. */
export const VERSION = "0.1.0";
