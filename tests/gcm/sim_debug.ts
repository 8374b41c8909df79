import { runSeed } from "./sim/run.ts";
const from = Number(process.argv[2] ?? 1);
const count = Number(process.argv[3] ?? 50);
const net = (process.argv[4] ?? "real") as "real" | "fake";
let fails = 0;
const t0 = Date.now();
for (let s = from; s < from + count; s++) {
  const res = await runSeed(s, { net });
  if (!res.ok) {
    fails++;
    console.log(`seed ${s} FAIL mode=${res.mode} nodes=${res.nodes}\n  ${res.violations.slice(0, 3).join("\n  ")}`);
  }
}
console.log(`${count} seeds, ${fails} failures, ${Date.now() - t0} ms`);
