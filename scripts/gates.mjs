#!/usr/bin/env node
// `npm run test:gates` (the first step of `npm test`): the source-level gates, each a tool's own
// verdict, none weakened by ignore lists.
//   fmt        deno fmt --check          (lineWidth 110, deno.json "fmt")
//   lint       deno lint                 (recommended rules, deno.json "lint")
//   doc        deno doc --lint ENTRIES   (JSDoc on every exported symbol, no private types in the API)
//   types      tsc --noEmit -p .         (strict)
//   jsr        deno publish --dry-run    (explicit types, what JSR would publish)
//   imports    scripts/import-rules.mjs  (import specifiers every runtime resolves; folder layout)
// Prints one line per gate and the tail of a failing gate's output; exits 1 if any failed.
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { LIBRARY_ENTRIES } from "./build-browser.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const deno = join(root, "node_modules", ".bin", "deno");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");

const GATES = [
  ["fmt", deno, ["fmt", "--check"]],
  ["lint", deno, ["lint"]],
  ["doc", deno, ["doc", "--lint", ...LIBRARY_ENTRIES]],
  ["types", process.execPath, [tsc, "--noEmit", "-p", "."]],
  ["jsr", deno, ["publish", "--dry-run", "--allow-dirty"]],
  ["imports", process.execPath, [join(root, "scripts", "import-rules.mjs")]],
];

/** Runs one gate; resolves with its exit code and output. */
function run(cmd, args) {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("error", (e) => done({ code: 1, out: String(e) }));
    child.on("close", (code) => done({ code: code ?? 1, out }));
  });
}

let failed = 0;
for (const [name, cmd, args] of GATES) {
  const started = Date.now();
  const { code, out } = await run(cmd, args);
  const s = ((Date.now() - started) / 1000).toFixed(1);
  if (code === 0) console.log(`  ✓ ${name} (${s} s)`);
  else {
    failed++;
    console.log(`  ✗ ${name} (${s} s): ${[cmd === deno ? "deno" : "node", ...args].join(" ")}`);
    for (const line of out.trim().split("\n").slice(-60)) console.log(`      ${line}`);
  }
}
console.log(failed === 0 ? `all ${GATES.length} gates passed` : `${failed} of ${GATES.length} gates FAILED`);
process.exit(failed === 0 ? 0 : 1);
