/**
 * The browser bundle (scripts/build-browser.mjs over mod.ts, the whole public API) holds every layer
 * and no Node-only module: no `node:` import a bundler could see (the UDP backend and FileStorage
 * load theirs lazily, out of sight), ws/werift replaced by stubs, cbor-x bundled.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../tools/json_child.ts";

describe("browser bundle (scripts/build-browser.mjs)", () => {
  it("bundles every layer without Node-only modules", () => {
    const dir = mkdtempSync(join(tmpdir(), "raincore-browser-"));
    try {
      const out = join(dir, "raincore.browser.js");
      const r = spawnSync(process.execPath, ["scripts/build-browser.mjs", "--outfile", out], {
        cwd: repoRoot,
        encoding: "utf8",
      });
      expect(r.status, r.stderr).toBe(0);
      const code = readFileSync(out, "utf8");
      const names = [
        "createWebSocketTransport",
        "createWebRtcTransport",
        "TransportManager",
        "createUdpTransport",
        "createNode",
        "GroupDataManager",
        "IndexedDbStorage",
        "FileStorage",
        "cyclicMasks",
      ];
      for (const name of names) expect(code).toContain(name);
      expect(code).not.toMatch(/from\s*["'](node:|ws["']|werift|cbor-x)/);
      expect(code).not.toMatch(/import\(\s*["'](ws|werift|npm:|node:)/);
      expect(code).not.toMatch(/require\(/);
      expect(code).toContain("is not available in browsers"); // the ws/werift stubs
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
