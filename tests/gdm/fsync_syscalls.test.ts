/**
 * What FileStorage asks of the kernel, seen with strace in a child process: a synced commit is
 * fdatasync'd before it counts as stored, the directory is fsync'd when the journal first appears,
 * and a replace writes a new file, fdatasyncs it, renames it over the journal and fsyncs the
 * directory — in that order, so a crash at any point leaves the old journal or the new one, whole.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { repoRoot } from "../../tools/json_child.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const PROBE = `
import { FileStorage } from ${JSON.stringify(join(repoRoot, "gdm/storage_file.ts"))};
const dir = process.argv[2];
const s = new FileStorage(dir + "/a.gdm");
await s.load();
const commit = (c, extra) =>
  s.write({ items: [["k", { stamp: [c, "a"] }]], locks: [], clock: c, applied: c, replace: false, sync: true, ...extra });
await commit(1);
await commit(2, { sync: false });
await commit(3);
await commit(4, { replace: true });
await s.close();
`;

describe("FileStorage durability, at the system calls", () => {
  it("fdatasyncs synced commits, fsyncs the directory, and replaces by rename between syncs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gdm-strace-"));
    dirs.push(dir);
    const probe = join(dir, "probe.mts");
    writeFileSync(probe, PROBE);
    // One trace file per thread (-ff), so no call is split across lines by another thread's; each line
    // stamped (-ttt) to merge them in order, and every file descriptor shown with its path (-y).
    const trace = join(dir, "trace");
    await new Promise<void>((resolve, reject) =>
      execFile(
        "strace",
        [
          "-ff",
          "-ttt",
          "-y",
          "-e",
          "trace=openat,fsync,fdatasync,rename",
          "-o",
          trace,
          process.execPath,
          "--import",
          "tsx",
          probe,
          dir,
        ],
        { cwd: repoRoot, timeout: 60_000 },
        (
          error,
          _out,
          stderr,
        ) => (error === null ? resolve() : reject(new Error(`${error.message}\n${stderr}`))),
      )
    );
    const lines = mergeByTime(dir, "trace.").filter((line) => line.includes(dir));
    // The calls on the journal, its directory and the replacement, in order, named by their paths.
    const what = (path: string) =>
      path === dir ? "dir" : path === join(dir, "a.gdm") ? "journal" : path.endsWith(".tmp") ? "tmp" : "";
    const seen: string[] = [];
    for (const line of lines) {
      const open = /openat\([^,]+, "([^"]+)", [^)]*\) = \d+/.exec(line);
      if (open !== null && what(open[1]) !== "" && what(open[1]) !== "dir") {
        seen.push(`open ${what(open[1])}`);
      }
      const sync = /(fsync|fdatasync)\(\d+<([^>]+)>\) = 0/.exec(line);
      if (sync !== null && what(sync[2]) !== "") seen.push(`${sync[1]} ${what(sync[2])}`);
      if (/rename\(".*a\.gdm\.tmp", ".*a\.gdm"\) = 0/.test(line)) seen.push("rename tmp journal");
    }
    expect(seen, lines.join("\n")).toEqual([
      "open journal", // the first append (the read before found none)
      "fdatasync journal", // commit 1, synced
      "fsync dir", // the journal's directory entry, once
      // commit 2 asked no sync: none; commit 3 did:
      "fdatasync journal",
      "open tmp", // commit 4 replaces everything
      "fdatasync tmp",
      "rename tmp journal",
      "fsync dir",
    ]);
  }, 90_000);
});

/** The lines of every `PREFIX<tid>` trace file in `dir`, merged in the order of their time stamps. */
function mergeByTime(dir: string, prefix: string): string[] {
  const stamped = readdirSync(dir)
    .filter((name) => name.startsWith(prefix))
    .flatMap((name) => readFileSync(join(dir, name), "utf8").split("\n"))
    .filter((line) => line !== "")
    .map((line) => ({ at: Number.parseFloat(line), line }));
  return stamped.sort((a, b) => a.at - b.at).map((s) => s.line);
}
