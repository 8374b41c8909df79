#!/usr/bin/env node
// `npm run test:deno`: the library's proofs on Deno (node_modules/.bin/deno, the `deno` dev dependency).
//   1. deno test      tests/deno/*_test.ts inside the repo (e.g. the UDP backend on Deno's node:dgram)
//   2. URL consumer   the README's Deno-by-URL recipe, as written in tests/deno/consumer/: its
//                     package.json (installed with npm, offline from the cache: scripts/offline-install.mjs)
//                     and its deno.json (the import map, "raincore" pointed at a static server
//                     started here); `deno check` and `deno run` of tests/deno/consumer/main.ts.
//                     Deno may read only that directory: nothing comes from the repo but over HTTP.
// Prints a summary; exits 1 if anything failed.
// Env: RAINCORE_KEEP_CONSUMER=1 keeps the temporary project.
import { spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { installOffline } from "./offline-install.mjs";
import { startStaticServer } from "./static-server.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const deno = join(root, "node_modules", ".bin", "deno");
const LOOPBACK_NET = "127.0.0.1,[::1]";
const results = [];

/** Runs a command, streaming nothing; resolves with its exit code and output (bounded by a deadline). */
function run(cmd, args, { cwd = root, env = process.env, timeoutMs = 300_000 } = {}) {
  return new Promise((ok) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => {
      err += `\n(killed after ${timeoutMs} ms)`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (e) => (err += String(e)));
    child.on("close", (code) => {
      clearTimeout(timer);
      ok({ code: code ?? 1, out, err });
    });
  });
}

async function step(name, fn) {
  const started = Date.now();
  process.stdout.write(`▶ ${name}\n`);
  try {
    const detail = await fn();
    results.push({ name, ok: true, ms: Date.now() - started, detail });
  } catch (e) {
    results.push({
      name,
      ok: false,
      ms: Date.now() - started,
      detail: e instanceof Error ? e.message : String(e),
    });
  }
}

function strip(s) {
  // deno colours its output even into a pipe unless NO_COLOR is set; strip what slips through.
  // deno-lint-ignore no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, "");
}

await step("deno runtime", async () => {
  if (!existsSync(deno)) throw new Error(`${deno} not found: run npm install (the "deno" dev dependency)`);
  const { code, out, err } = await run(deno, ["--version"]);
  if (code !== 0) throw new Error(err);
  return out.split("\n")[0];
});

await step("deno task node --help (the tasks of deno.json run the CLI)", async () => {
  const { code, out, err } = await run(deno, ["task", "node", "--help"], {
    env: { ...process.env, NO_COLOR: "1" },
  });
  if (code !== 0 || !out.includes("raincore node")) throw new Error(strip(out + err).slice(-2000));
  return "raincore node usage printed";
});

// werift (WebRTC) needs broad permissions; it runs only where no packet can leave the host: in the
// loopback-only network namespace of `npm test` (scripts/loopback-only.mjs).
const WEBRTC_TEST = "webrtc_test.ts";
const isolated = process.env.RAINCORE_LOOPBACK_NETNS === "1";

await step("deno test tests/deno/", async () => {
  const tests = readdirSync(join(root, "tests", "deno"))
    .filter((f) => /(_|\.)test\.ts$/.test(f) && f !== WEBRTC_TEST);
  if (tests.length === 0) throw new Error("no tests in tests/deno/");
  const { code, out, err } = await run(
    deno,
    // --allow-run=node: websocket_ring_test.ts starts Node ring members.
    [
      "test",
      `--allow-net=${LOOPBACK_NET}`,
      "--allow-read",
      "--allow-run=node",
      ...tests.map((t) => join("tests", "deno", t)),
    ],
    { env: { ...process.env, NO_COLOR: "1" } },
  );
  const text = strip(out + err);
  const summary = text.split("\n").find((l) => /\d+ passed \| \d+ failed/.test(l)) ?? "";
  if (code !== 0) throw new Error(`${summary}\n${text.slice(-3000)}`);
  return `${tests.join(", ")}: ${summary.trim()}`;
});

await step("deno test tests/deno/webrtc_test.ts (werift on Deno, loopback-only namespace)", async () => {
  if (!isolated) {
    throw new Error(
      "not in a loopback-only namespace: run it through `npm test` (scripts/loopback-only.mjs)",
    );
  }
  const { code, out, err } = await run(deno, ["test", "-A", join("tests", "deno", WEBRTC_TEST)], {
    env: { ...process.env, NO_COLOR: "1" },
  });
  const text = strip(out + err);
  const summary = text.split("\n").find((l) => /\d+ passed \| \d+ failed/.test(l)) ?? "";
  if (code !== 0 || !/ 1 passed/.test(summary)) throw new Error(`${summary}\n${text.slice(-3000)}`);
  return summary.trim();
});

await step("Deno imports mod.ts by http:// URL and runs a cluster", async () => {
  const server = await startStaticServer(root);
  const dir = mkdtempSync(join(tmpdir(), "raincore-deno-consumer-"));
  const notes = [];
  try {
    const recipe = join(root, "tests", "deno", "consumer");
    const denoJson = JSON.parse(readFileSync(join(recipe, "deno.json"), "utf8"));
    // The recipe maps every bare specifier as raincore's own deno.json does (so it cannot drift).
    const { raincore: _raincore, ...mapped } = denoJson.imports;
    const ours = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")).imports;
    if (JSON.stringify(mapped) !== JSON.stringify(ours)) {
      throw new Error(
        `tests/deno/consumer/deno.json maps ${JSON.stringify(mapped)}, deno.json ${JSON.stringify(ours)}`,
      );
    }
    denoJson.imports.raincore = denoJson.imports.raincore.replace("https://YOUR-HOST/raincore/", server.url);
    writeFileSync(join(dir, "deno.json"), JSON.stringify(denoJson, null, 2));
    const packageJson = JSON.parse(readFileSync(join(recipe, "package.json"), "utf8"));
    // Offline: the versions in the npm cache, cbor-extract at the version raincore pins.
    installOffline({
      repo: root,
      dir,
      packageJson: { ...packageJson, overrides: { "cbor-extract": "2.2.2" } },
    });
    notes.push("recipe: tests/deno/consumer/{package.json,deno.json}, npm ci --offline");
    const readPaths = [dir];
    for (const f of ["main.ts", "scenarios.ts"]) copyFileSync(join(recipe, f), join(dir, f));
    const host = new URL(server.url).host;
    const env = { ...process.env, NO_COLOR: "1", DENO_DIR: join(dir, ".deno-dir") };
    const check = await run(deno, ["check", `--allow-import=${host}`, "main.ts"], {
      cwd: dir,
      env,
      timeoutMs: 180_000,
    });
    if (check.code !== 0) {
      throw new Error(`deno check main.ts failed:\n${strip(check.out + check.err).slice(-3000)}`);
    }
    notes.push("deno check main.ts: no type errors");
    const { code, out, err } = await run(
      deno,
      [
        "run",
        `--allow-import=${host}`,
        `--allow-net=${LOOPBACK_NET}`,
        `--allow-read=${readPaths.join(",")}`,
        "--allow-env",
        "main.ts",
      ],
      { cwd: dir, env, timeoutMs: 180_000 },
    );
    const lines = out.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    const fetched = server.requests.filter((r) => r.startsWith("200 ")).length;
    const refused = server.requests.filter((r) => !r.startsWith("200 "));
    const report = [
      `${fetched} modules fetched from ${server.url}; ${notes.join("; ")}`,
      ...lines.map((l) => `${l.ok ? "✓" : "✗"} ${l.scenario}${l.ok ? ` (${l.ms} ms)` : `: ${l.error}`}`),
    ];
    if (!server.requests.includes("200 /mod.ts")) report.push("✗ mod.ts was never fetched over HTTP");
    if (refused.length > 0) report.push(`✗ refused or missing: ${refused.join(", ")}`);
    const ok = code === 0 && lines.length > 0 && lines.every((l) => l.ok) &&
      server.requests.includes("200 /mod.ts") &&
      refused.length === 0;
    if (!ok) throw new Error(`${report.join("\n")}\n(deno exit ${code})\n${strip(err).slice(-3000)}`);
    return report.join("\n");
  } finally {
    await server.close();
    if (process.env.RAINCORE_KEEP_CONSUMER === "1") console.log(`  (consumer kept in ${dir})`);
    else rmSync(dir, { recursive: true, force: true });
  }
});

console.log("\nDeno checks");
for (const r of results) {
  console.log(`${r.ok ? "  ✓" : "  ✗"} ${r.name} (${(r.ms / 1000).toFixed(1)} s)`);
  for (const line of String(r.detail ?? "").split("\n")) if (line) console.log(`      ${line}`);
}
const failed = results.filter((r) => !r.ok).length;
console.log(
  failed === 0
    ? `\nall ${results.length} Deno checks passed`
    : `\n${failed} of ${results.length} Deno checks FAILED`,
);
process.exit(failed === 0 ? 0 : 1);
