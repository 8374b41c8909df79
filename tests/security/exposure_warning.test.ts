/**
 * The warning of `raincore node` and `raincore demo` when they listen beyond loopback without a
 * key: one paragraph on stderr, and none with a key or on loopback. The processes bind 0.0.0.0, so
 * this file runs only inside the loopback-only namespace (`npm test`, or
 * `node scripts/loopback-only.mjs npx vitest run tests/security/exposure_warning.test.ts`).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { exposureWarning, isLoopbackHost } from "../../cli/exposure_warning.ts";
import { type JsonChild, killAll, startRaincore } from "../../tools/json_child.ts";
import { freeUdpPorts } from "../../tools/ports.ts";
import { webRtcSkipReason } from "../helpers/loopback_netns.ts";
import { until } from "../helpers/until.ts";

const running = new Set<JsonChild>();
afterEach(async () => {
  await killAll(running);
  running.clear();
});

function start(args: string[]): JsonChild {
  const c = startRaincore("warn", args);
  running.add(c);
  return c;
}

describe("exposure warning", () => {
  it("knows loopback hosts", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"]) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of ["0.0.0.0", "::", "10.0.0.5", "192.168.1.2", "fe80::1"]) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
    expect(exposureWarning("raincore node", "udp://0.0.0.0:7001")).toMatch(
      /raincore key new --out cluster\.key/,
    );
  });

  it("raincore node and raincore demo warn on 0.0.0.0 without a key, and not with one", async () => {
    const skip = webRtcSkipReason(); // the same guard: only where nothing can reach the port
    if (skip !== undefined) throw new Error(`cannot run here: ${skip}`);
    const dir = mkdtempSync(join(tmpdir(), "raincore-warn-"));
    const key = join(dir, "cluster.key");
    writeFileSync(key, btoa(String.fromCharCode(...new Uint8Array(32).fill(3))) + "\n");
    const [p1, p2, p3] = await freeUdpPorts(3);
    const bare = start(["node", "--id", "a", "--listen", `udp://0.0.0.0:${p1}`]);
    const keyed = start(["node", "--id", "b", "--listen", `udp://0.0.0.0:${p2}`, "--key-file", key]);
    const loop = start(["node", "--id", "c", "--listen", `udp://127.0.0.1:${p3}`]);
    const demo = start(["demo", "--host", "0.0.0.0", "--port", "0"]);
    for (const c of [bare, keyed, loop]) await c.waitFor((l) => l.event === "ready", 20_000);
    await until("demo warning", 30_000, () => demo.stderr.join("").includes("WARNING"));
    const stderr = (c: JsonChild) => c.stderr.join("");
    expect(stderr(bare)).toMatch(
      /raincore node: WARNING — listening on udp:\/\/0\.0\.0\.0:\d+, which other hosts can reach, without a cluster key/,
    );
    expect(stderr(demo)).toMatch(/raincore demo: WARNING — listening on http:\/\/0\.0\.0\.0:\d+\//);
    expect(stderr(keyed)).not.toMatch(/WARNING/);
    expect(stderr(loop)).not.toMatch(/WARNING/);
  }, 60_000);
});
