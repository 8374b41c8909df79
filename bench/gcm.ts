/**
 * The GCM benchmark suite of the README: multicast flood (100 B and 1,000 B), paced latency,
 * fail-over with default and tuned timeouts, and packets on the wire. Prints markdown tables and
 * writes bench/results/gcm.json.
 *
 *   node --import tsx bench/gcm.ts [--quick]
 * @module
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { type FailoverTrial, percentile, runFailoverBench, TUNED_FLAGS } from "./failover.ts";
import { runMulticastBench } from "./multicast.ts";
import { countWire } from "./wire.ts";

const quick = process.argv.includes("--quick");
const scale = quick ? 0.1 : 1;
const log = (line: string) => console.error(line);

const multicastRuns = [
  { name: "flood 4 × 20,000 × 100 B", nodes: 4, senders: 4, size: 100, count: 20_000 * scale, rate: 0 },
  { name: "flood 4 × 5,000 × 1,000 B", nodes: 4, senders: 4, size: 1000, count: 5_000 * scale, rate: 0 },
  {
    name: "paced 4 × 1,000/s × 10 s × 100 B",
    nodes: 4,
    senders: 4,
    size: 100,
    count: 10_000 * scale,
    rate: 1000,
  },
];

const multicast = [];
for (const run of multicastRuns) {
  log(`multicast: ${run.name}`);
  const members = await runMulticastBench(run);
  const med = (key: string) => percentile(members.map((m) => m[key] as number), 0.5);
  multicast.push({
    ...run,
    msgs_per_s: med("msgs_per_s"),
    MB_per_s: med("MB_per_s"),
    lat_ms_p50: med("lat_ms_p50"),
    lat_ms_p99: Math.max(...members.map((m) => m.lat_ms_p99 as number)),
    one_order: new Set(members.map((m) => m.order_hash)).size === 1,
    fifo_ok: members.every((m) => m.fifo_ok === true),
    members,
  });
}

const failover = [];
for (const [name, flags] of [["default", []], ["tuned", TUNED_FLAGS]] as const) {
  log(`failover: ${name} timeouts`);
  const trials = await runFailoverBench({ trials: quick ? 3 : 20, flags });
  const stat = (key: keyof FailoverTrial) => ({
    p50: percentile(trials.map((t) => t[key]), 0.5),
    p99: percentile(trials.map((t) => t[key]), 0.99),
  });
  failover.push({
    timeouts: name,
    flags: flags.join(" "),
    trials: trials.length,
    sigkill: stat("killMs"),
    rejoin: stat("rejoinMs"),
    sigstop: stat("stopMs"),
    sigcont: stat("contMs"),
  });
}

const wire = [3, 4, 6, 8].map((n) => countWire(n, 100));

const f = (x: number, d = 0) =>
  x.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
console.log("\n| run | msgs/s per member | MB/s | latency p50 | p99 | one order | FIFO |");
console.log("| --- | ---: | ---: | ---: | ---: | :---: | :---: |");
for (const m of multicast) {
  console.log(
    `| ${m.name} | ${f(m.msgs_per_s)} | ${f(m.MB_per_s, 1)} | ${f(m.lat_ms_p50, 2)} ms | ${
      f(m.lat_ms_p99, 2)
    } ms | ${m.one_order ? "yes" : "NO"} | ${m.fifo_ok ? "yes" : "NO"} |`,
  );
}
console.log(
  "\n| timeouts | SIGKILL → new view p50 / p99 | restart → rejoined p50 / p99 | SIGSTOP → new view p50 / p99 | SIGCONT → rejoined p50 / p99 |",
);
console.log("| --- | ---: | ---: | ---: | ---: |");
for (const r of failover) {
  const s = (x: { p50: number; p99: number }) => `${f(x.p50)} / ${f(x.p99)} ms`;
  console.log(`| ${r.timeouts} | ${s(r.sigkill)} | ${s(r.rejoin)} | ${s(r.sigstop)} | ${s(r.sigcont)} |`);
}
console.log(
  "\n| members | ring: packets for N one-message multicasts (token hops + acks) | unicast broadcast + acks | (N−1)² |",
);
console.log("| ---: | ---: | ---: | ---: |");
for (const r of wire) {
  console.log(
    `| ${r.nodes} | ${r.ringPackets} (${r.ringTokenHops} + ${
      r.ringPackets - r.ringTokenHops
    }) | ${r.unicastPackets} | ${r.thesisBroadcast} |`,
  );
}

mkdirSync("bench/results", { recursive: true });
const machine = {
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  loadavg: loadavg(),
  node: process.version,
  quick,
};
writeFileSync(
  "bench/results/gcm.json",
  JSON.stringify({ machine, multicast, failover, wire, at: new Date().toISOString() }, null, 2) + "\n",
);
log("wrote bench/results/gcm.json");
