/**
 * The table of `raincore` subcommands. Each loads its implementation lazily, so `raincore min`
 * does not pay for starting the network stack and vice versa.
 * @module
 */

import { benchCommand } from "./bench_command.ts";
import { demoCommand } from "./demo_command.ts";
import { keyCommand } from "./key_command.ts";
import { minCommand } from "./min_command.ts";
import { nodeCommand } from "./node_command.ts";
import { simCommand } from "./sim_command.ts";

/** One subcommand of the `raincore` command line. */
export interface Command {
  /** One line for the command list. */
  summary: string;
  /** Full usage text, printed for `--help` and after a usage error. */
  usage: string;
  /** Runs the command; resolves with the exit code. */
  run(argv: readonly string[]): Promise<number>;
}

/** Every subcommand by name. */
export const commands: Record<string, Command> = {
  bench: benchCommand,
  demo: demoCommand,
  node: nodeCommand,
  min: minCommand,
  key: keyCommand,
  sim: simCommand,
};
