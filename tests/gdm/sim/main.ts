// node scripts/run.mjs tests/gdm/sim/main.ts [--seeds N] [--from F] [--seed S] [--verbose]
import { gdmSimMain } from "./cli.ts";
process.exitCode = await gdmSimMain(process.argv.slice(2));
