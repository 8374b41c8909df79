import { runBatch } from "./sim/batch.ts";
import { SIM_KINDS } from "./sim/kinds.ts";
import { checkOpHistory, formatAnomalies } from "./tests/jepsen/checker.ts";
const from = Number(process.argv[2] ?? 1), count = Number(process.argv[3] ?? 100);
const kind = { ...SIM_KINDS.gdm };
const run = kind.run;
let anomalies = 0;
kind.run = async (seed, o) => {
  const r = await run(seed, o) as Awaited<ReturnType<typeof run>> & { history?: any };
  if (r.history && process.env.JEPSEN !== "0") {
    const a = checkOpHistory(r.history);
    if (a.length > 0) { anomalies++; r.ok = false; r.violations.push(...formatAnomalies(a).map((l) => "jepsen " + l)); }
  }
  return r;
};
const seeds = Array.from({ length: count }, (_, i) => from + i);
const res = await runBatch(kind, seeds, { keepGoing: true });
console.log("anomalous histories", anomalies);
process.exit(res.failed.length ? 1 : 0);
