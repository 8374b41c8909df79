/**
 * The `raincore` command line: `raincore node …` runs one cluster member as an OS process,
 * `raincore min …` works with multistage networks, `raincore sim …` runs the deterministic simulator,
 * `raincore demo` starts the local demo. Node runs it through `bin/raincore.js` (bundled to dist/),
 * Deno as `deno run -A cli.ts …`.
 * @module
 */

import { CommandFailedError, UsageError } from "./runtime/args.ts";
import { commands } from "./cli/commands.ts";
import { VERSION } from "./cli/version.ts";

const usage = `raincore — fault-tolerant clusters of servers, edge nodes and browser tabs

usage: raincore <command> [flags]   (raincore <command> --help for its flags)
       raincore --version

commands:
${Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`).join("\n")}
`;

/** Runs the command line; resolves with the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-V") {
    console.log(`raincore ${VERSION}`);
    return 0;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    console.log(usage);
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    console.error(`raincore: unknown command "${name}" (commands: ${Object.keys(commands).join(", ")})`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    // The user's mistakes and the machine's refusals are one line each, never a stack trace.
    if (error instanceof UsageError) {
      console.error(`raincore ${name}: ${error.message} (raincore ${name} --help lists the flags)`);
      return 2;
    }
    if (error instanceof CommandFailedError) {
      console.error(`raincore ${name}: ${error.message}`);
      return 1;
    }
    throw error;
  }
}

// Deno: `deno run -A cli.ts …`
const deno = (globalThis as { Deno?: { args: string[]; exit(code: number): never } }).Deno;
if (deno !== undefined && (import.meta as { main?: boolean }).main) deno.exit(await main(deno.args));
