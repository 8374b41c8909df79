import { runGdmSeed } from "./sim/gdm/run.ts";
import { checkOpHistory, formatAnomalies } from "./tests/jepsen/checker.ts";
const seed = Number(process.argv[2]);
const r = await runGdmSeed(seed, { verbose: process.argv[3] === "v" });
console.log(r.ok, r.violations.slice(0, 5), r.summary);
console.log(formatAnomalies(checkOpHistory(r.history)).join("\n"));
if (process.argv[3] === "h") for (const op of r.history.ops) console.log(JSON.stringify(op));
