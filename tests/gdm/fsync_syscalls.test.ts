/**
 * What FileStorage asks of the kernel, seen with strace in a child process: a synced commit is
 * fdatasync'd before it counts as stored, the directory is fsync'd when the journal first appears,
 * and a replace writes a new file, fdatasyncs it, renames it over the journal and fsyncs the
 * directory — in that order, so a crash at any point leaves the old journal or the new one, whole.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
    const trace = join(dir, "trace.txt");
    await new Promise<void>((resolve, reject) =>
      execFile(
        "strace",
        [
          "-f",
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
    // The calls on the journal, its directory and the replacement, in order, with file descriptors
    // replaced by what they were opened for.
    const names = new Map<string, string>();
    const seen: string[] = [];
    for (const line of joinInterrupted(readFileSync(trace, "utf8").split("\n"))) {
      const open = /openat\(AT_FDCWD, "([^"]+)", [^)]*\) = (\d+)/.exec(line);
      if (open !== null) {
        const what = open[1] === dir
          ? "dir"
          : open[1] === join(dir, "a.gdm")
          ? "journal"
          : open[1].endsWith(".tmp")
          ? "tmp"
          : "";
        if (what === "") names.delete(open[2]);
        else {
          names.set(open[2], what);
          if (what !== "dir") seen.push(`open ${what}`);
        }
        continue;
      }
      const sync = /(fsync|fdatasync)\((\d+)\)\s+= 0/.exec(line);
      if (sync !== null && names.has(sync[2])) seen.push(`${sync[1]} ${names.get(sync[2])}`);
      if (/rename\(".*a\.gdm\.tmp", ".*a\.gdm"\) = 0/.test(line)) seen.push("rename tmp journal");
    }
    expect(seen).toEqual([
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

/**
 * strace -f splits a call that another thread interrupts into `PID call(args <unfinished ...>` and, later,
 * `PID <... call resumed>rest`; joined here into one line per call (a split fdatasync was missed before).
 */
function joinInterrupted(lines: readonly string[]): string[] {
  const pending = new Map<string, string>();
  const out: string[] = [];
  for (const line of lines) {
    const unfinished = /^(\d+)\s+(.*) <unfinished \.\.\.>$/.exec(line);
    if (unfinished !== null) {
      pending.set(unfinished[1], `${unfinished[1]} ${unfinished[2]}`);
      continue;
    }
    const resumed = /^(\d+)\s+<\.\.\. \w+ resumed>(.*)$/.exec(line);
    if (resumed !== null && pending.has(resumed[1])) {
      out.push(pending.get(resumed[1]) + resumed[2]);
      pending.delete(resumed[1]);
      continue;
    }
    out.push(line);
  }
  return out;
}
