/**
 * GDM benchmark, figure 22 of the thesis: two members as OS processes over UDP loopback keep
 * 10,000 data items (fewer where 10,000 × size would exceed ~100 MB per process); each member
 * updates RATE random items of SIZE bytes per second; each process measures its own CPU time
 * (process.cpuUsage) over the window; the table shows the mean of the two members.
 *
 *   node --import tsx bench/gdm.ts [--quick] [--ms 3000] [--out bench/results/gdm.json]
 *        [--size BYTES] [--rate N]    one cell only    [--eating-ms 20]  the GCM's idle token hold
 *        [--batch-ms 0]  with traffic, how long a member keeps the token to batch (timing.batchMs)
 *        [--idle-round-ms 250]  the longest idle round (timing.idleRoundMs)
 *   node --import tsx bench/gdm.ts --durable [--members 4] [--size 1024] [--ms 5000] [--window 256]
 *        durable writes: every member keeps WINDOW writes in flight, each resolving once fsync'd in
 *        its member's journal (group commit); prints writes/s of all members together, latency and
 *        fsyncs per second; writes bench/results/gdm_durable.json. `--level safe`: each write resolves
 *        once on the disk of every member
 * Profile the members with RAINCORE_CHILD_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
 *
 * Sizes 10 B, 100 B, 1 KB, 10 KB, 100 KB; rates 10, 100, 200, 500, 1,000, 2,000, 5,000, 10,000
 * per node, as far as each size allows (RATE × SIZE ≤ 50 MB/s per node). Also an idle row (rate 0:
 * the token ring's own cost). Writes bench/results/gdm.json and bench/results/gdm.svg.
 * @module
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type JsonChild, type JsonLine, killAll, startTs } from "../tools/json_child.ts";
import { freeUdpPorts } from "../tools/ports.ts";
import type { GdmMemberConfig } from "./gdm_member.ts";
import { chartSvg } from "./gdm_svg.ts";

const root = resolve(dirname(process.argv[1]), "..");
const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    ms: { type: "string" },
    out: { type: "string", default: "bench/results/gdm.json" },
    "eating-ms": { type: "string", default: "20" },
    "batch-ms": { type: "string", default: "0" },
    "idle-round-ms": { type: "string", default: "250" },
    size: { type: "string" },
    rate: { type: "string" },
    durable: { type: "boolean", default: false },
    members: { type: "string", default: "4" },
    window: { type: "string", default: "256" },
    level: { type: "string", default: "agreed" },
  },
});
const QUICK = values.quick === true;
/** The members' timing flags, as every member gets them. */
const MEMBER_TIMING = {
  eatingMs: Number(values["eating-ms"]),
  batchMs: Number(values["batch-ms"]),
  idleRoundMs: Number(values["idle-round-ms"]),
};
const MS = Number(values.ms ?? (QUICK ? 1000 : 3000));
const SIZES = values.size !== undefined ? [Number(values.size)] : [10, 100, 1024, 10 * 1024, 100 * 1024];
const RATES = values.rate !== undefined
  ? [Number(values.rate)]
  : QUICK
  ? [10, 500, 2000, 10_000]
  : [10, 100, 200, 500, 1000, 2000, 5000, 10_000];
const MAX_BYTES_PER_S = 50 * 1024 * 1024;
const MAX_STATE = 100 * 1024 * 1024;

/** One measured cell. */
export interface Cell {
  size: number;
  rate: number;
  items: number;
  cpuPct: number;
  cpuPctPerNode: number[];
  /** Of `cpuPct`, the part spent in the kernel (system calls: sends, receives, wake-ups). */
  systemCpuPct: number;
  appliedPerS: number;
  /** UDP packets sent per second per node (token passes, multicast data, acks). */
  packetsPerS: number;
  /** Token visits per second per node. */
  tokensPerS: number;
  failed: number;
}

const children: JsonChild[] = [];
process.on("exit", () => {
  for (const ch of children) ch.signal("SIGKILL");
});

/** Durable writes of every member together (see the module comment). */
async function durableMain(): Promise<void> {
  const members = Number(values.members);
  const size = Number(values.size ?? 1024);
  const ms = Number(values.ms ?? 5000);
  const window = Number(values.window);
  const ports = await freeUdpPorts(members);
  const dir = mkdtempSync(join(tmpdir(), "raincore-gdm-bench-"));
  try {
    for (let index = 0; index < members; index++) {
      const config: GdmMemberConfig = {
        index,
        ports,
        ...MEMBER_TIMING,
        dataDir: dir,
        level: values.level === "safe" ? "safe" : "agreed",
      };
      children.push(startTs(`m${index}`, "bench/gdm_member.ts", [JSON.stringify(config)]));
    }
    await Promise.all(children.map((ch) => ch.waitFor((l) => l.event === "joined", 30_000)));
    const load = loadavg();
    console.log(
      `GDM durable writes (${
        values.level === "safe" ? "safe: on every member's disk" : "agreed: on the writer's disk"
      }): ` +
        `${members} processes over UDP loopback, ${size} B values, ${window} in flight per member, ` +
        `${ms} ms, journals in ${tmpdir()} (fsync of data and directory); ${cpus().length} cores, load ${
          load.map((x) => x.toFixed(2)).join(" ")
        }`,
    );
    const marks = children.map((ch) => ch.lines.length);
    for (const ch of children) ch.write(`durable ${size} ${ms} ${window}`);
    const res = await Promise.all(
      children.map((ch, i) => ch.waitFor((l) => l.event === "durable", ms + 60_000, marks[i])),
    );
    const total = res.reduce((a, r) => a + (r.perS as number), 0);
    for (const r of res) {
      console.log(
        `  m${r.node}: ${(r.perS as number).toFixed(0)} durable writes/s, p50 ${
          (r.p50 as number).toFixed(1)
        } ms, p99 ${(r.p99 as number).toFixed(1)} ms, ${
          (r.commitsPerS as number).toFixed(0)
        } commits/s, cpu ${(r.cpuPct as number).toFixed(0)} %, failed ${r.failed}`,
      );
    }
    console.log(`total: ${total.toFixed(0)} durable ${size} B writes/s (${members} members together)`);
    for (const ch of children) ch.write("quit");
    await Promise.race([
      Promise.all(children.map((ch) => ch.exit)),
      new Promise((r) => setTimeout(r, 10_000)),
    ]);
    await killAll(children);
    const out = resolve(
      root,
      values.out === "bench/results/gdm.json" ? "bench/results/gdm_durable.json" : values.out!,
    );
    const meta = {
      date: new Date().toISOString(),
      level: values.level,
      ms,
      size,
      window,
      members,
      cores: cpus().length,
      cpu: cpus()[0]?.model,
      node: process.version,
      load,
    };
    writeFileSync(out, JSON.stringify({ meta, totalPerS: total, members: res }, null, 2) + "\n");
    console.log(`wrote ${out}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const ports = await freeUdpPorts(2);
  for (let index = 0; index < 2; index++) {
    const config: GdmMemberConfig = {
      index,
      ports,
      ...MEMBER_TIMING,
    };
    children.push(startTs(`m${index}`, "bench/gdm_member.ts", [JSON.stringify(config)]));
  }
  await Promise.all(children.map((ch) => ch.waitFor((l) => l.event === "joined", 30_000)));
  const cells: Cell[] = [];
  const ask = async (cmd: string, event: string, timeoutMs: number): Promise<JsonLine[]> => {
    const marks = children.map((ch) => ch.lines.length);
    for (const ch of children) ch.write(cmd);
    return await Promise.all(
      children.map((ch, i) => ch.waitFor((l) => l.event === event, timeoutMs, marks[i])),
    );
  };
  const measure = async (size: number, rate: number, items: number) => {
    const res = await ask(`run ${size} ${rate} ${MS} ${items}`, "result", MS + 60_000);
    // Let the last updates drain before the next cell.
    await new Promise((r) => setTimeout(r, 300));
    const per = res.map((r) => r.cpuPct as number);
    const cell: Cell = {
      size,
      rate,
      items,
      cpuPct: per.reduce((a, b) => a + b, 0) / per.length,
      cpuPctPerNode: per,
      systemCpuPct: res.reduce((a, r) => a + (r.systemCpuPct as number), 0) / res.length,
      appliedPerS: res.reduce((a, r) => a + (r.applied as number) / ((r.wallMs as number) / 1000), 0) /
        res.length,
      failed: res.reduce((a, r) => a + (r.failed as number), 0),
      packetsPerS: res.reduce((a, r) => a + (r.packetsPerS as number), 0) / res.length,
      tokensPerS: res.reduce((a, r) => a + (r.tokensPerS as number), 0) / res.length,
    };
    cells.push(cell);
    console.log(
      `${fmtSize(size).padStart(7)} ${String(rate).padStart(6)}/s  cpu ${
        cell.cpuPct.toFixed(2).padStart(6)
      } % (kernel ${cell.systemCpuPct.toFixed(2)} %)  ` +
        `(${per.map((p) => p.toFixed(2)).join(" / ")})  applied ${cell.appliedPerS.toFixed(0)}/s, ` +
        `token visits ${cell.tokensPerS.toFixed(0)}/s, packets ${
          cell.packetsPerS.toFixed(0)
        }/s per node, items ${items}`,
    );
  };
  console.log(
    `GDM benchmark: 2 processes over UDP loopback, ${MS} ms per cell, ${cpus().length} cores (${
      cpus()[0]?.model ?? "?"
    }), load ${loadavg()[0].toFixed(2)}`,
  );
  for (const size of SIZES) {
    const items = Math.min(10_000, Math.floor(MAX_STATE / size));
    await ask(`load ${size} ${items}`, "loaded", 180_000);
    if (size === SIZES[0] && values.rate === undefined) await measure(size, 0, items);
    for (const rate of RATES) {
      if (rate * size > MAX_BYTES_PER_S) continue;
      await measure(size, rate, items);
    }
  }
  for (const ch of children) ch.write("quit");
  // Let members exit on their own first (a --cpu-prof profile is written at exit).
  await Promise.race([Promise.all(children.map((ch) => ch.exit)), new Promise((r) => setTimeout(r, 10_000))]);
  await killAll(children);
  const out = resolve(root, values.out!);
  mkdirSync(dirname(out), { recursive: true });
  const meta = {
    date: new Date().toISOString(),
    ms: MS,
    quick: QUICK,
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    node: process.version,
    load: loadavg(),
  };
  writeFileSync(out, JSON.stringify({ meta, cells }, null, 2) + "\n");
  writeFileSync(out.replace(/\.json$/, ".svg"), chartSvg(cells, SIZES));
  console.log(`wrote ${out} and ${out.replace(/\.json$/, ".svg")}`);
}

function fmtSize(n: number): string {
  return n >= 1024 ? `${n / 1024} KB` : `${n} B`;
}

await (values.durable ? durableMain() : main()).catch(async (err) => {
  console.error(err);
  await killAll(children);
  process.exit(1);
});
