/**
 * Merge benchmark (3.7.3): four `raincore node` processes over UDP loopback, each reaching the others
 * through a fault-injecting relay (tools/udp_relay.ts). Each trial splits them 2 + 2, waits until
 * both sides have committed views of their own, heals, and measures the time from the heal to the
 * last process committing the one view of all four (from the processes' own event stamps `t`).
 * Default discovery settings (no tuning flags). JSON to bench/results/merge.json.
 *
 *   node --import tsx bench/merge.ts [--trials 20]
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { type JsonChild, type JsonLine, killAll, startRaincore, waitUntil } from "../tools/json_child.ts";
import { freeUdpPorts } from "../tools/ports.ts";
import { UdpRelay } from "../tools/udp_relay.ts";

const i = process.argv.indexOf("--trials");
const TRIALS = i >= 0 ? Number(process.argv[i + 1]) : 20;
const ids = ["m1", "m2", "m3", "m4"];
const DEADLINE_MS = 30_000;

function lastView(c: JsonChild): JsonLine | undefined {
  return c.lines.findLast((l) => l.event === "view");
}
function viewKey(c: JsonChild): string {
  const v = lastView(c);
  return v === undefined ? "none" : `${v.index}:${[...(v.members as string[])].sort().join(",")}`;
}
async function sameView(cs: readonly JsonChild[], want: readonly string[]): Promise<void> {
  const w = [...want].sort().join(",");
  await waitUntil(
    cs,
    () => cs.every((c) => viewKey(c).endsWith(`:${w}`)) && new Set(cs.map(viewKey)).size === 1,
    DEADLINE_MS,
    () => cs.map((c) => `${c.name}=${viewKey(c)}`).join(" "),
  );
}

const ports = await freeUdpPorts(ids.length);
const relay = await UdpRelay.open(ids, ports);
const nodes = ids.map((id, k) =>
  startRaincore(id, ["node", "--id", id, "--listen", `udp://127.0.0.1:${ports[k]}`, ...relay.peerFlags(id)])
);
const times: number[] = [];
try {
  await sameView(nodes, ids);
  for (let t = 0; t < TRIALS; t++) {
    // Alternate the split so the lowest ID is on either side of a different pairing.
    const a = t % 2 === 0 ? ["m1", "m2"] : ["m1", "m3"];
    const b = ids.filter((x) => !a.includes(x));
    relay.partition([a, b]);
    await sameView(nodes.filter((c) => a.includes(c.name)), a);
    await sameView(nodes.filter((c) => b.includes(c.name)), b);
    await new Promise((r) => setTimeout(r, 300));
    const healedAt = Date.now();
    relay.heal();
    await sameView(nodes, ids);
    const done = Math.max(...nodes.map((c) => Number(lastView(c)!.t)));
    times.push(Math.round(done - healedAt));
    console.error(`trial ${t + 1}/${TRIALS}: ${Math.round(done - healedAt)} ms`);
  }
} finally {
  await killAll(nodes);
  await relay.close();
}
const sorted = times.slice().sort((x, y) => x - y);
const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const result = {
  bench: "merge",
  description: "heal of a 2+2 partition of 4 raincore node processes (UDP via relay) to one committed view",
  settings: "raincore node with its default timing (runtime/timing_flags.ts)",
  trials: times.length,
  p50Ms: q(0.5),
  p99Ms: q(0.99),
  minMs: sorted[0],
  maxMs: sorted[sorted.length - 1],
  targetMs: 500,
  timesMs: times,
  date: new Date().toISOString(),
  loadAverage1m: loadavg()[0],
};
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/merge.json", JSON.stringify(result, null, 2) + "\n");
console.log("| trials | p50 ms | p99 ms | min ms | max ms | target |");
console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
console.log(
  `| ${result.trials} | ${result.p50Ms} | ${result.p99Ms} | ${result.minMs} | ${result.maxMs} | ≤ 500 |`,
);
