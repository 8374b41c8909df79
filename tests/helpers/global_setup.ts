/**
 * Vitest global setup: bundles dist/ once, so the tests that start `raincore` processes run the
 * same `bin/raincore.js` a user runs, built from the current sources.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function setup(): void {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  execFileSync(process.execPath, ["scripts/build.mjs", "--node-only"], { cwd: root, stdio: "inherit" });
}
