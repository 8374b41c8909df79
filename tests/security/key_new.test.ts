/**
 * `raincore key new`: a fresh cluster key, readable by its owner only, that `--key-file` accepts;
 * never written over an existing file.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseKeyFile } from "../../transport/secure/key_file.ts";
import { startRaincore } from "../../tools/json_child.ts";

/** Runs the CLI; non-JSON stdout lines are kept (JsonChild files them with stderr, marked). */
async function run(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const c = startRaincore("key", args);
  const code = await c.exit;
  const mark = "(stdout, not JSON) ";
  return {
    code,
    out: c.stderr.filter((s) => s.startsWith(mark)).map((s) => s.slice(mark.length)).join("\n"),
    err: c.stderr.filter((s) => !s.startsWith(mark)).join(""),
  };
}

describe("raincore key new", () => {
  it("writes a 32-byte key with mode 0600, different each time, and refuses to overwrite", async () => {
    const dir = mkdtempSync(join(tmpdir(), "raincore-keynew-"));
    const a = join(dir, "a.key");
    const b = join(dir, "b.key");
    expect((await run(["key", "new", "--out", a])).code).toBe(0);
    expect((await run(["key", "new", "--out", b])).code).toBe(0);
    expect(statSync(a).mode & 0o777).toBe(0o600);
    const ka = parseKeyFile(readFileSync(a, "utf8"));
    const kb = parseKeyFile(readFileSync(b, "utf8"));
    expect(ka).toBeInstanceOf(Uint8Array);
    expect((ka as Uint8Array).length).toBe(32);
    expect(ka).not.toEqual(kb);
    writeFileSync(a, "precious\n");
    const again = await run(["key", "new", "--out", a]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/exists/);
    expect(readFileSync(a, "utf8")).toBe("precious\n");
  });

  it("prints the key without --out, and says what is wrong without an action", async () => {
    const printed = await run(["key", "new"]);
    expect(printed.code).toBe(0);
    expect(printed.out).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    const bare = await run(["key"]);
    expect(bare.code).toBe(2);
    expect(bare.err).toMatch(/which action\? \(new\)/);
  });
});
