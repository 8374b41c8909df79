/**
 * `raincore node` as a user meets it, each case a real process of the built CLI (bin/raincore.js):
 * every bad flag is one line on stderr that names the flag and what it accepts, exit code 2, no
 * stack trace — and it is found before any socket opens (each bad-flag run listens on a port this
 * test holds, so a CLI that bound first would report the port in use instead). Port 0 binds a free
 * port and `ready` shows it; a port in use is one line with a hint; `--version`; `leave` and the end
 * of stdin both leave the group gracefully and end the process.
 */
import { spawnSync } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { VERSION } from "../../cli/version.ts";
import { type JsonChild, killAll, repoRoot, startRaincore, waitUntil } from "../../tools/json_child.ts";
import { freeUdpPorts } from "../../tools/ports.ts";

const RUN_MS = 15_000;
let held: Socket;
let heldPort = 0;
let scratch = "";

beforeAll(async () => {
  held = createSocket("udp4");
  await new Promise<void>((resolve) => held.bind(0, "127.0.0.1", resolve));
  heldPort = held.address().port;
  scratch = mkdtempSync(join(tmpdir(), "raincore-cli-flags-"));
  writeFileSync(join(scratch, "a-file"), "not a directory");
  writeFileSync(join(scratch, "short.key"), "c2hvcnQ=\n");
});

afterAll(async () => {
  await new Promise<void>((resolve) => held.close(() => resolve()));
  rmSync(scratch, { recursive: true, force: true });
});

const running = new Set<JsonChild>();
afterEach(async () => {
  await killAll(running);
  running.clear();
});

/** Runs `raincore ARGS…` to completion (stdin closed at once); a hang fails the test. */
function raincore(args: readonly string[]) {
  const r = spawnSync(process.execPath, ["bin/raincore.js", ...args], {
    cwd: repoRoot,
    encoding: "utf8",
    timeout: RUN_MS,
    input: "",
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

describe("raincore node: flag errors", () => {
  const cases: Array<[flags: string[], says: RegExp]> = [
    [["--retries", "abc"], /^raincore node: --retries must be an integer in 1\.\.1000, got "abc"/],
    [["--retries", "1.5"], /--retries must be an integer in 1\.\.1000, got "1\.5"/],
    [["--rto-min-ms", "-5"], /--rto-min-ms must be a number in 1\.\.60000, got "-5"/],
    [["--rto-initial-ms", "0"], /--rto-initial-ms must be a number in 1\.\.60000, got "0"/],
    [
      ["--rto-min-ms", "50", "--rto-max-ms", "10"],
      /node: --rto-min-ms \(50 ms\) must not exceed --rto-max-ms \(10 ms\)/,
    ],
    [["--rto-ms", "20"], /unknown flag --rto-ms/],
    [["--join", "ws://127.0.0.1:1/"], /--join "ws:\/\/127\.0\.0\.1:1\/" is not udp:\/\/IPV4:PORT/],
    // The rule between the layers: the default Transport Manager needs 3,400 ms to declare a failure
    // at first contact (200 + 400 + 800 + 1000 + 1000).
    [
      ["--hungry-ms", "1000"],
      /node: --hungry-ms \(1000 ms\) must exceed the Transport Manager's failure time \(3400 ms/,
    ],
    [["--eating-ms", "1e999"], /--eating-ms must be a number in 0\.\.60000, got "1e999"/],
    [["--batch-ms", "-1"], /--batch-ms must be a number in 0\.\.60000, got "-1"/],
    [
      ["--batch-ms", "500", "--hungry-ms", "400", "--rto-initial-ms", "10", "--rto-max-ms", "50"],
      /node: --batch-ms \(500 ms\) must be below the Hungry timeout/,
    ],
    [["--hungry-ms", "0"], /--hungry-ms must be a number in 1\.\.600000, got "0"/],
    [["--mode", "fast"], /--mode must be one of three-phase, two-phase, every-token, got "fast"/],
    [
      ["--key-file", "/nonexistent/cluster.key"],
      /--key-file \/nonexistent\/cluster\.key: cannot read it \(ENOENT\)/,
    ],
    [["--key-file", "SCRATCH/short.key"], /--key-file .*short\.key: cluster key must be at least 16 bytes/],
    [["--encrypt"], /--encrypt needs --key-file/],
    [["--data-dir", "SCRATCH/a-file"], /--data-dir .*a-file is not a directory/],
    [["--data-dir", "SCRATCH/missing"], /--data-dir .*missing does not exist/],
    [["--peer", "b=udp://127.0.0.1:0"], /--peer b=udp:\/\/127\.0\.0\.1:0: .* \(port 1\.\.65535\)/],
    [["--bogus", "1"], /unknown flag --bogus/],
  ];
  for (const [flags, says] of cases) {
    it(`${flags.join(" ")}: one line, exit 2, before any socket opens`, () => {
      const args = flags.map((f) => f.replace("SCRATCH", scratch));
      const r = raincore(["node", "--id", "a", "--listen", `udp://127.0.0.1:${heldPort}`, ...args]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(says);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe("");
    });
  }

  it("an empty or a 300-character --id: one line, exit 2", () => {
    for (const id of ["", "x".repeat(300)]) {
      const r = raincore(["node", "--id", id, "--listen", `udp://127.0.0.1:${heldPort}`]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim()).toMatch(
        /^raincore node: --id: a node ID must be 1\.\.255 bytes of UTF-8, got \d+ bytes/,
      );
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("a port in use: one line with a hint, exit 1", () => {
    const r = raincore(["node", "--id", "a", "--listen", `udp://127.0.0.1:${heldPort}`]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr.trim()).toBe(
      `raincore node: --listen udp://127.0.0.1:${heldPort}: the port is in use (another process holds it); ` +
        "pick another port, or 0 for any free one",
    );
  });

  it("--version prints the version of package.json and deno.json", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
    const deno = JSON.parse(readFileSync(join(repoRoot, "deno.json"), "utf8"));
    expect([pkg.version, deno.version]).toEqual([VERSION, VERSION]);
    const r = raincore(["--version"]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(`raincore ${VERSION}`);
  });
});

describe("raincore node: port 0, leave, end of input", () => {
  it("--listen on port 0 binds a free port and ready shows it; the end of stdin means leave", async () => {
    const a = startRaincore("a", ["node", "--id", "a", "--listen", "udp://127.0.0.1:0"]);
    running.add(a);
    const ready = await a.waitFor((l) => l.event === "ready", RUN_MS);
    const port = Number(/^udp:\/\/127\.0\.0\.1:(\d+)$/.exec(String(ready.address))?.[1]);
    expect(port).toBeGreaterThan(0);
    a.process.stdin!.end();
    await a.waitFor((l) => l.event === "leave" && l.graceful === true, RUN_MS);
    await a.waitFor((l) => l.event === "exit", RUN_MS);
    expect(await a.exit).toBe(0);
  });

  it("leave: the member leaves, the other sees it go, and the process ends with stdin still open", async () => {
    const [pa, pb] = await freeUdpPorts(2);
    const peers = ["--peer", `a=udp://127.0.0.1:${pa}`, "--peer", `b=udp://127.0.0.1:${pb}`];
    const a = startRaincore("a", ["node", "--id", "a", "--listen", `udp://127.0.0.1:${pa}`, ...peers]);
    const b = startRaincore("b", ["node", "--id", "b", "--listen", `udp://127.0.0.1:${pb}`, ...peers]);
    running.add(a).add(b);
    const both = (c: JsonChild) =>
      c.lines.some((l) => l.event === "view" && (l.members as string[]).length === 2);
    await waitUntil([a, b], () => both(a) && both(b), RUN_MS, () => "a view of a and b on both");
    a.write("leave");
    await a.waitFor((l) => l.event === "leave" && l.graceful === true, RUN_MS);
    expect(await a.exit).toBe(0);
    await b.waitFor((l) => l.event === "view" && String(l.members) === "b", RUN_MS);
  });
});
