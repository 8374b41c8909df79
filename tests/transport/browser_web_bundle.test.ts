/**
 * scripts/build-browser.mjs: one ES module for browsers with the web transports in it and no
 * Node-only module: no `node:` import esbuild could see, and ws/werift replaced by stubs.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("browser bundle (scripts/build-browser.mjs)", () => {
  it("bundles the web transports without Node-only modules", () => {
    const dir = mkdtempSync(join(tmpdir(), "raincore-browser-"));
    try {
      const out = join(dir, "raincore.browser.js");
      const r = spawnSync(process.execPath, ["scripts/build-browser.mjs", "--outfile", out], {
        cwd: root,
        encoding: "utf8",
      });
      expect(r.status, r.stderr).toBe(0);
      const code = readFileSync(out, "utf8");
      for (const name of ["createWebSocketTransport", "createWebRtcTransport", "TransportManager"]) {
        expect(code).toContain(name);
      }
      expect(code).not.toMatch(/from\s*["'](node:|ws["']|werift)/);
      expect(code).not.toMatch(/import\(\s*["'](ws|werift|npm:)/);
      expect(code).not.toMatch(/require\(/);
      expect(code).toContain("is not available in browsers"); // the ws/werift stubs
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
