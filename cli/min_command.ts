/**
 * `raincore min`: multistage interconnection networks (thesis chapter 5) from the command line;
 * the work is done by min/cli.ts.
 * @module
 */

import { minUsage, runMinCli } from "../min/cli.ts";
import type { Command } from "./commands.ts";

/** The `min` subcommand. */
export const minCommand: Command = {
  summary: "fault-tolerant multistage networks: tolerance, routes, disjoint paths, SVG",
  usage: minUsage,
  run: (argv) => runMinCli([...argv]),
};
