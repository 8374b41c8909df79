/**
 * The README's 20-line example (examples/readme.ts, the same code) runs as written: three members on
 * UDP loopback agree on one view, multicast in one order, take the token and replicate an item.
 */
import { execFile } from "node:child_process";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../tools/json_child.ts";

describe("README example", () => {
  it("runs to the end and prints what the README promises", async () => {
    const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", "examples/readme.ts"],
        { cwd: repoRoot, timeout: 60_000 },
        (error, stdout, stderr) =>
          resolve({ code: error === null ? 0 : (error.code as number) ?? 1, out: stdout + stderr }),
      );
    });
    expect(out).toContain("only b runs this now");
    expect(out).toContain("a's replica: hello, cluster");
    expect(out).toContain("a#1 agreed: hello");
    expect(out).toContain("b#1 safe: world");
    expect(out).toMatch(/view #\d+: (\w \w \w)/);
    expect(code).toBe(0);
  });
});
