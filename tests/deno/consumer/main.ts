/**
 * Entry point of the Deno URL consumer (copied into a temporary project by scripts/deno-tests.mjs):
 * runs every scenario with a deadline and prints one JSON line per scenario; exits 1 on failure.
 * @module
 */

import { scenarios } from "./scenarios.ts";

const DEADLINE_MS = 60_000;
let failed = 0;
for (const scenario of scenarios) {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      scenario.run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no result within ${DEADLINE_MS} ms`)), DEADLINE_MS);
      }),
    ]);
    console.log(
      JSON.stringify({ scenario: scenario.name, ok: true, ms: Math.round(performance.now() - started) }),
    );
  } catch (err) {
    failed++;
    const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    console.log(JSON.stringify({ scenario: scenario.name, ok: false, error }));
  } finally {
    clearTimeout(timer);
  }
}
Deno.exit(failed === 0 ? 0 : 1);
