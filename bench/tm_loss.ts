/**
 * Loss curve of the Transport Manager: goodput of one sender flooding 1 KB messages to one
 * receiver over a simulated network ({@link SimNetwork} on a {@link VirtualClock}: deterministic,
 * in virtual time, so the figures do not depend on this machine or its load), under 0 %, 1 %, 5 %
 * and 20 % random loss (each direction, acks too), without and with a bottleneck (a bandwidth
 * behind a drop-tail queue). Prints a table and writes bench/results/tm_loss.json.
 *
 *   node --import tsx bench/tm_loss.ts [--duration-ms 2000] [--delay-ms 5] [--bandwidth 10000]
 *        [--queue 64] [--seed 1] [--out bench/results/tm_loss.json]
 *        [--baseline DIR]   also run the Transport Manager of another checkout (e.g. a worktree of
 *                           an older commit: `git worktree add /tmp/before COMMIT`, with a
 *                           node_modules link) on the same network, for a before/after comparison
 *
 * Method. Both managers use mtu 1,400 (one 1 KB message per packet), their default window and
 * timing, and 50 retries (so that 20 % loss does not end sessions). The sender keeps 2,048
 * messages unacknowledged for `duration-ms` of virtual time; goodput = payload delivered at the
 * receiver in that time / that time. Then every outstanding send settles, and each acknowledged
 * message must have been delivered exactly once. Resends per packet = retransmissions / messages
 * delivered. "of link" = goodput / bottleneck bandwidth (headers take about 4 % of it).
 * @module
 */
import { execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { VirtualClock } from "../base/clock.ts";
import { Random } from "../base/random.ts";
import { type LinkOptions, SimNetwork } from "../transport/backends/memory.ts";
import { TransportManager } from "../transport/manager.ts";
import { writeResults } from "./_tm_load.ts";

const { values } = parseArgs({
  options: {
    "duration-ms": { type: "string", default: "2000" },
    "delay-ms": { type: "string", default: "5" },
    bandwidth: { type: "string", default: "10000" },
    queue: { type: "string", default: "64" },
    seed: { type: "string", default: "1" },
    out: { type: "string", default: "bench/results/tm_loss.json" },
    baseline: { type: "string" },
  },
});
const DURATION_MS = Number(values["duration-ms"]);
const DELAY_MS = Number(values["delay-ms"]);
const BANDWIDTH = Number(values.bandwidth);
const QUEUE = Number(values.queue);
const SEED = Number(values.seed);
const LOSSES = [0, 0.01, 0.05, 0.2];
const MESSAGE_BYTES = 1024;
const MTU = 1400;
const OUTSTANDING = 2048;
const MB = 1e6;

type Manager = typeof TransportManager;

interface Result {
  code: string;
  loss: number;
  bottleneck: boolean;
  mbPerS: number;
  messagesPerS: number;
  resendsPerPacket: number;
  delivered: number;
  exactlyOnce: boolean;
}

/** One turn of the event loop: every reaction to a settled send (a promise callback) runs. */
function nextTurn(): Promise<void> {
  return new Promise((ok) => setImmediate(ok));
}

/** One flood of `duration-ms` virtual ms through `Manager` on a network with `link`. */
async function flood(Manager: Manager, link: Partial<LinkOptions>): Promise<Omit<Result, "code">> {
  const clock = new VirtualClock();
  const net = new SimNetwork({ clock, random: new Random(SEED), mtu: MTU, link });
  const common = { clock, retries: 50 };
  const tx = new Manager({ nodeId: "tx", transports: [net.createTransport("mem://tx")], ...common });
  const rx = new Manager({ nodeId: "rx", transports: [net.createTransport("mem://rx")], ...common });
  tx.setAddresses("rx", ["mem://rx"]);
  const copies = new Uint8Array(1 << 22);
  let inTime = 0;
  let delivered = 0;
  rx.onMessage(1, (_from, message) => {
    const no = new DataView(message.buffer, message.byteOffset).getUint32(0);
    copies[no]++;
    delivered++;
    if (clock.now() <= DURATION_MS) inTime++;
  });
  let next = 0;
  let outstanding = 0;
  const acked: number[] = [];
  let failed = 0;
  const topUp = (): void => {
    while (outstanding < OUTSTANDING && clock.now() < DURATION_MS) {
      const no = next++;
      const message = new Uint8Array(MESSAGE_BYTES);
      new DataView(message.buffer).setUint32(0, no);
      outstanding++;
      tx.send("rx", 1, message).then(() => {
        outstanding--;
        acked.push(no);
      }, () => {
        outstanding--;
        failed++;
      });
    }
  };
  while (clock.now() < DURATION_MS) {
    topUp();
    clock.advance(1);
    await nextTurn();
  }
  for (let waited = 0; outstanding > 0 && waited < 600_000; waited += 10) {
    clock.advance(10);
    await nextTurn();
  }
  const exactlyOnce = outstanding === 0 && failed === 0 && acked.every((no) => copies[no] === 1) &&
    copies.every((c) => c <= 1);
  const result = {
    loss: link.loss ?? 0,
    bottleneck: (link.bandwidth ?? 0) > 0,
    mbPerS: (inTime * MESSAGE_BYTES) / MB / (DURATION_MS / 1000),
    messagesPerS: inTime / (DURATION_MS / 1000),
    resendsPerPacket: tx.stats.retransmissions / Math.max(1, delivered),
    delivered,
    exactlyOnce,
  };
  await tx.close();
  await rx.close();
  return result;
}

/** The commit checked out in `dir`, for the results file. */
function commitOf(dir: string): string {
  return execFileSync("git", ["-C", dir, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
}

const codes: Array<{ code: string; Manager: Manager }> = [{ code: "this", Manager: TransportManager }];
if (values.baseline !== undefined) {
  const entry = pathToFileURL(resolve(values.baseline, "transport/manager.ts")).href;
  const mod = (await import(entry)) as { TransportManager: Manager };
  codes.push({ code: "baseline", Manager: mod.TransportManager });
}

const results: Result[] = [];
for (const bottleneck of [false, true]) {
  for (const loss of LOSSES) {
    const link: Partial<LinkOptions> = {
      loss,
      delayMs: { min: DELAY_MS, max: DELAY_MS },
      ...(bottleneck ? { bandwidth: BANDWIDTH, queuePackets: QUEUE } : {}),
    };
    for (const { code, Manager } of codes) {
      const r = { code, ...(await flood(Manager, link)) };
      results.push(r);
      process.stderr.write(
        `  ${code}, loss ${loss * 100} %, bottleneck ${bottleneck}: ${r.mbPerS.toFixed(2)} MB/s\n`,
      );
    }
  }
}

const header = ["code", "loss", "bottleneck", "MB/s", "of link", "msgs/s", "resends/packet", "once"];
const table = results.map((r) => [
  r.code,
  `${r.loss * 100} %`,
  r.bottleneck ? `${BANDWIDTH / 1000} MB/s, ${QUEUE} pkts` : "none",
  r.mbPerS.toFixed(2),
  r.bottleneck ? `${Math.round((r.mbPerS * 1000 / BANDWIDTH) * 100)} %` : "",
  Math.round(r.messagesPerS).toLocaleString("en-US"),
  r.resendsPerPacket.toFixed(3),
  r.exactlyOnce ? "yes" : "NO",
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
const line = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i])).join("  ");
console.log(
  `\nTransport Manager loss curve: ${MESSAGE_BYTES} B messages, mtu ${MTU}, one-way delay ${DELAY_MS} ms, ` +
    `${DURATION_MS} ms of virtual time per run, seed ${SEED}`,
);
console.log(line(header));
for (const row of table) console.log(line(row));
writeResults(resolve(values.out!), {
  durationMs: DURATION_MS,
  delayMs: DELAY_MS,
  bottleneck: { bytesPerMs: BANDWIDTH, queuePackets: QUEUE },
  seed: SEED,
  commits: {
    this: commitOf("."),
    ...(values.baseline !== undefined ? { baseline: commitOf(values.baseline) } : {}),
  },
  results,
});
console.log(`\nwrote ${values.out}`);
if (!results.every((r) => r.exactlyOnce)) process.exitCode = 1;
