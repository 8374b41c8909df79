/**
 * The README's "Waiting, cancelling, watching" example (examples/api.ts, the same code) runs as
 * written: ready() resolves with a view of both members, an aborted wait rejects with the signal's
 * reason, and the counters and the logger saw the ring.
 */
import { execFile } from "node:child_process";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../tools/json_child.ts";

describe("README API example", () => {
  it("waits for the group, gives up a wait by its signal and reads the counters", async () => {
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "examples/api.ts"],
        { cwd: repoRoot, timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: error === null ? 0 : (error.code as number) ?? 1, out: stdout + stderr }),
      );
    });
    expect(out).toMatch(/ready: view \S+ with a b/);
    expect(out).toContain("a gave up waiting for the token: TimeoutError");
    expect(out).not.toContain("never printed");
    expect(out).toMatch(/rounds\/s [1-9]\d* views [1-9]\d* packets [1-9]\d*/);
    expect(out).toMatch(/log entries: [1-9]\d*/);
    expect(code).toBe(0);
  });
});
