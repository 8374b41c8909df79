/**
 * The npm package as a user gets it: `npm pack` of a clean copy of the working tree (no dist/:
 * `prepare` must build everything), installed into a fresh project with `npm ci --offline` (see
 * scripts/offline-install.mjs), then used the way the README says — strict types under `nodenext` and
 * `bundler` resolution, three UDP members on Node, an esbuild browser bundle that must pick the
 * browser build by itself, the installed `raincore` command, and the same program under Bun and Deno.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../tools/json_child.ts";
// @ts-ignore: a plain .mjs helper shared with scripts/deno-tests.mjs
import { installOffline } from "../../scripts/offline-install.mjs";

const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
  name: string;
  version: string;
};
let work = "";
let project = "";
let nodenext: { status: number | null; output: string };

/** Runs a command to completion; returns its status and combined output. */
function run(cmd: string, args: readonly string[], cwd: string, timeoutMs = 120_000) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", timeout: timeoutMs });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "raincore-pack-"));
  // A clean copy of the working tree: tracked and new files, nothing ignored (no dist/, no node_modules/).
  const tree = join(work, "tree");
  const files = run("git", ["ls-files", "-co", "--exclude-standard", "-z"], repoRoot).output.split("\0");
  for (const file of files) {
    if (file === "" || !existsSync(join(repoRoot, file))) continue; // deleted in the working tree
    mkdirSync(dirname(join(tree, file)), { recursive: true });
    copyFileSync(join(repoRoot, file), join(tree, file));
  }
  symlinkSync(join(repoRoot, "node_modules"), join(tree, "node_modules"), "dir");
  const packed = run("npm", ["pack", "--pack-destination", work], tree, 240_000);
  expect(packed.status, packed.output).toBe(0);
  const tarball = join(work, `${pkg.name}-${pkg.version}.tgz`);
  project = join(work, "project");
  mkdirSync(project);
  copyFileSync(tarball, join(project, `${pkg.name}-${pkg.version}.tgz`));
  const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")).packages;
  const tools = Object.fromEntries(
    ["typescript", "@types/node", "esbuild"].map((name) => [name, lock[`node_modules/${name}`].version]),
  );
  installOffline({
    repo: repoRoot,
    dir: project,
    packageJson: {
      name: "raincore-consumer",
      private: true,
      type: "module",
      dependencies: { [pkg.name]: `file:${pkg.name}-${pkg.version}.tgz` },
      devDependencies: tools,
      // As in raincore's own package.json: the newer cbor-extract builds are not on every mirror.
      overrides: { "cbor-extract": "2.2.2" },
    },
    local: {
      [pkg.name]: {
        tarball: join(project, `${pkg.name}-${pkg.version}.tgz`),
        manifest: JSON.parse(readFileSync(join(work, "tree", "package.json"), "utf8")),
      },
    },
  });
  cpSync(join(repoRoot, "tests", "package", "consumer"), project, { recursive: true });
  nodenext = run(
    process.execPath,
    ["node_modules/typescript/bin/tsc", "-p", "tsconfig.nodenext.json"],
    project,
  );
}, 600_000);

/** Resolves with the page URL the demo prints on stdout ("open http://…"); rejects after `ms` or on exit. */
function printedUrl(child: ChildProcess, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no URL within ${ms} ms; printed: ${out}`)), ms);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /open (http:\/\/\S+)/.exec(out);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`demo exited (${code}) before printing its URL: ${out}`));
    });
  });
}

afterAll(() => {
  if (work !== "") rmSync(work, { recursive: true, force: true });
});

describe("the packed npm package, installed into a fresh project", () => {
  it("ships the builds, the types, the demo page and the license, and no tests", () => {
    const root = join(project, "node_modules", pkg.name);
    for (
      const file of [
        "LICENSE",
        "dist/mod.js",
        "dist/cli.js",
        "dist/raincore.browser.js",
        "dist/browser/mod.js",
        "dist/types/mod.d.ts",
        "dist/types/gdm/mod.d.ts",
        "cli/demo/public/index.html",
      ]
    ) expect(existsSync(join(root, file)), file).toBe(true);
    expect(existsSync(join(root, "tests"))).toBe(false);
    expect(existsSync(join(project, "node_modules", "werift")), "werift is an optional peer").toBe(false);
  });

  it("type-checks with strict under nodenext (Node) and bundler (browser, no @types/node) resolution", () => {
    expect(nodenext.status, nodenext.output).toBe(0);
    const bundler = run(
      process.execPath,
      ["node_modules/typescript/bin/tsc", "-p", "tsconfig.bundler.json"],
      project,
    );
    expect(bundler.status, bundler.output).toBe(0);
  });

  it("runs three UDP members on Node; WebRTC without werift fails with MissingDependencyError", () => {
    const r = run(process.execPath, ["out/cluster.js"], project, 60_000);
    const result = JSON.parse(r.output.trim().split("\n").at(-1) ?? "{}");
    expect(result, r.output).toMatchObject({ ok: true, members: 3, webrtc: "missing werift" });
    expect(result.values).toEqual(['{"n":1}', '{"n":1}', '{"n":1}']);
  });

  it("runs the same program under Bun", () => {
    const bun = join(repoRoot, "node_modules", ".bin", "bun");
    const r = run(bun, ["cluster.ts"], project, 60_000);
    const result = JSON.parse(r.output.trim().split("\n").at(-1) ?? "{}");
    expect(result, r.output).toMatchObject({ ok: true, members: 3, webrtc: "missing werift" });
  });

  it("runs the same program under Deno from node_modules (the deno export condition)", () => {
    writeFileSync(join(project, "deno.json"), JSON.stringify({ nodeModulesDir: "manual" }));
    const r = run(
      join(repoRoot, "node_modules", ".bin", "deno"),
      ["run", "--allow-net=127.0.0.1", "--allow-read", "--allow-env", "--allow-sys", "cluster.ts"],
      project,
      60_000,
    );
    const result = JSON.parse(r.output.trim().split("\n").at(-1) ?? "{}");
    expect(result, r.output).toMatchObject({ ok: true, members: 3, webrtc: "missing werift" });
  });

  it("bundles for the browser with plain esbuild, which picks the browser build by itself", () => {
    const r = run(
      join(project, "node_modules", ".bin", "esbuild"),
      [
        "browser.ts",
        "--bundle",
        "--platform=browser",
        "--format=esm",
        "--outfile=out/app.js",
        "--metafile=out/meta.json",
        "--log-level=warning",
      ],
      project,
    );
    expect(r.status, r.output).toBe(0);
    const inputs = Object.keys(JSON.parse(readFileSync(join(project, "out", "meta.json"), "utf8")).inputs);
    const fromPackage = inputs.filter((i) => i.includes(`node_modules/${pkg.name}/`));
    expect(fromPackage.length).toBeGreaterThan(0);
    expect(fromPackage.every((i) => i.includes(`node_modules/${pkg.name}/dist/browser/`)), fromPackage.join())
      .toBe(
        true,
      );
    const app = readFileSync(join(project, "out", "app.js"), "utf8");
    expect(app).not.toMatch(/from\s*["'](node:|ws["']|werift)/); // no static Node-only import
    expect(app).not.toMatch(/import\(\s*["'](ws|werift|node:)/); // nor a dynamic one a bundler sees
  });

  it("the installed raincore command: --version, node --help, demo serves its page", async () => {
    const bin = join(project, "node_modules", ".bin", "raincore");
    const version = run(bin, ["--version"], project);
    expect(version, version.output).toMatchObject({ status: 0 });
    expect(version.output.trim()).toBe(`raincore ${pkg.version}`);
    const help = run(bin, ["node", "--help"], project);
    expect(help.status, help.output).toBe(0);
    expect(help.output).toContain("raincore node");

    const demo = spawn(bin, ["demo", "--port", "0"], { cwd: project, stdio: ["ignore", "pipe", "pipe"] });
    try {
      const url = await printedUrl(demo, 30_000);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain("<html");
      const bundle = await fetch(new URL("/raincore.browser.js", url));
      expect(bundle.status).toBe(200);
      expect(await bundle.text()).toContain("createNode");
      const exited = new Promise((resolve) => demo.once("exit", resolve));
      demo.kill("SIGINT");
      expect(await exited).toBe(0);
    } finally {
      if (demo.exitCode === null) demo.kill("SIGKILL");
    }
  });
});
