/**
 * The browser bundle the page imports: `dist/raincore.browser.js`. In a checkout it is rebuilt with
 * `scripts/build-browser.mjs` when it is missing or older than any library source file; an installed
 * package ships it built (and no build script).
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const LIBRARY = ["mod.ts", "transport", "gcm", "gdm", "min"];

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return path.endsWith(".ts") ? st.mtimeMs : 0;
  let newest = 0;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/** Whether the bundle under `root` is missing or older than the library sources. */
export function bundleIsStale(root: string): boolean {
  const bundle = join(root, "dist", "raincore.browser.js");
  if (!existsSync(bundle)) return true;
  const built = statSync(bundle).mtimeMs;
  return LIBRARY.some((p) => existsSync(join(root, p)) && newestMtime(join(root, p)) > built);
}

/** Builds the bundle if stale (in a checkout); `log` gets progress lines. Resolves with the bundle's path. */
export async function ensureBundle(root: string, log: (line: string) => void): Promise<string> {
  const bundle = join(root, "dist", "raincore.browser.js");
  const script = join(root, "scripts", "build-browser.mjs");
  if (!existsSync(script)) {
    if (!existsSync(bundle)) throw new Error(`${bundle} is missing: reinstall raincore`);
    return bundle;
  }
  if (!bundleIsStale(root)) return bundle;
  log("building dist/raincore.browser.js …");
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn("node", [script], {
      cwd: root,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d: Uint8Array) => (err += new TextDecoder().decode(d)));
    child.on("error", reject);
    child.on(
      "exit",
      (code) =>
        code === 0 ? resolve() : reject(new Error(`scripts/build-browser.mjs failed (${code}): ${err}`)),
    );
  });
  log(`built dist/raincore.browser.js in ${Date.now() - started} ms`);
  return bundle;
}
