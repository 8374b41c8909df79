/**
 * `raincore bench`: the multicast and fail-over benchmarks. They start member processes from the
 * TypeScript sources, so they run in a checkout of the repository only (the npm package does not
 * ship them); in a checkout this command runs `bench/main.ts` with the same arguments, so that
 * `npx raincore bench multicast …` and `npm run bench -- multicast …` are one program.
 * @module
 */
import { CommandFailedError } from "../runtime/args.ts";
import type { Command } from "./commands.ts";

const usage = `raincore bench — benchmarks (in a checkout of the raincore repository)

usage:
  raincore bench multicast --nodes N --senders S --size B --count C [--rate R] [--eating-ms N]
  raincore bench failover [--trials 20] [--tuned]

Same as \`npm run bench -- …\`; see the README's Benchmarks section.`;

/** The `bench` subcommand. */
export const benchCommand: Command = {
  summary: "benchmarks: multicast, failover (in a checkout of the repository)",
  usage,
  async run(argv) {
    const { existsSync } = await import("node:fs");
    const { dirname, join } = await import("node:path");
    const { fileURLToPath } = await import("node:url");
    // This module runs from cli/ (sources) or dist/ (the build): the checkout is above either.
    let dir = dirname(fileURLToPath(import.meta.url));
    let root: string | undefined;
    for (let i = 0; i < 4 && root === undefined; i++, dir = dirname(dir)) {
      if (existsSync(join(dir, "bench", "main.ts")) && existsSync(join(dir, "package.json"))) root = dir;
    }
    if (root === undefined) {
      throw new CommandFailedError(
        "the benchmarks run in a checkout of the raincore repository (they start members from its sources)",
      );
    }
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, ["--import", "tsx", join(root, "bench", "main.ts"), ...argv], {
      cwd: root,
      stdio: "inherit",
    });
    return await new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? 1)));
  },
};
