/**
 * One member of the GDM benchmark (figure 22) as its own OS process, started by bench/gdm.ts:
 * a Transport Manager over UDP, a GCM and a GroupDataManager. Commands on stdin, JSON lines out:
 *   load SIZE COUNT        this member writes its half of COUNT items of SIZE bytes; prints
 *                          `loaded` once it holds all COUNT
 *   run SIZE RATE MS COUNT updates RATE random items per second of its half for MS ms, measuring
 *                          its own CPU time (process.cpuUsage) over the window; prints `result`
 *   durable SIZE MS WINDOW writes SIZE-byte items as fast as durable writes complete, WINDOW of them
 *                          in flight, for MS ms (with a data directory: each resolves once fsync'd);
 *                          prints `durable` (writes/s, latency percentiles, commits)
 *   quit
 * @module
 */
import { startMember } from "../runtime/member.ts";
import { emitLine } from "../runtime/json_out.ts";
import { forEachStdinLine } from "../runtime/lines.ts";
import { GroupDataManager } from "../gdm/manager.ts";
import { FileStorage } from "../gdm/storage_file.ts";
import { createUdpTransport } from "../transport/backends/udp.ts";

/** Configuration passed as a JSON argument. */
export interface GdmMemberConfig {
  index: number;
  ports: number[];
  eatingMs: number;
  /** `timing.batchMs`: with traffic, how long a member keeps the token to batch. */
  batchMs: number;
  /** `timing.idleRoundMs`: the longest idle round. */
  idleRoundMs: number;
  /** A directory for this member's journal (durable writes), or none (memory only). */
  dataDir?: string;
  /** Delivery level of writes (`safe` with a journal: durable on every member). */
  level?: "agreed" | "safe";
}

const c = JSON.parse(process.argv[2]) as GdmMemberConfig;
const ids = c.ports.map((_, i) => `m${i}`);
const peers: Record<string, string[]> = {};
ids.forEach((id, i) => (peers[id] = [`udp://127.0.0.1:${c.ports[i]}`]));
const udp = await createUdpTransport({ port: c.ports[c.index], mtu: 65_000 });
const storage = c.dataDir === undefined ? undefined : new FileStorage(`${c.dataDir}/${ids[c.index]}.gdm`);
const initial = storage === undefined ? undefined : await storage.load();
let commits = 0;
if (storage !== undefined) {
  const write = storage.write.bind(storage);
  storage.write = (b) => {
    commits++;
    return write(b);
  };
}
let gdm!: GroupDataManager;
const { gcm, tm } = startMember({
  id: ids[c.index],
  transports: [udp],
  peers,
  timing: { eatingMs: c.eatingMs, batchMs: c.batchMs, idleRoundMs: c.idleRoundMs },
  beforeStart: (tm, g) => {
    gdm = new GroupDataManager({ gcm: g, layer: tm, storage, initial, level: c.level });
  },
});
gcm.on("view", (v) => {
  if (v.members.length === ids.length) emitLine("joined", { index: v.index });
});
let applied = 0;
gdm.on("change", () => applied++);

function valueOf(size: number, salt: number): Uint8Array {
  const v = new Uint8Array(size);
  v.fill(salt & 0xff);
  if (size >= 4) new DataView(v.buffer).setUint32(0, salt);
  return v;
}

function myKeys(count: number): number[] {
  const keys: number[] = [];
  for (let k = c.index; k < count; k += ids.length) keys.push(k);
  return keys;
}

async function load(size: number, count: number): Promise<void> {
  const keys = myKeys(count);
  // Writes in batches so the token carries a bounded amount at a time.
  for (let i = 0; i < keys.length; i += 200) {
    await Promise.all(keys.slice(i, i + 200).map((k) => gdm.set(`item${k}`, valueOf(size, k))));
  }
  const t0 = performance.now();
  while (gdm.size < count && performance.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 20));
  emitLine("loaded", { items: gdm.size });
}

async function run(size: number, rate: number, ms: number, count: number): Promise<void> {
  const keys = myKeys(count);
  let sent = 0;
  let failed = 0;
  applied = 0;
  const packets0 = tm.stats.packetsSent;
  let tokens = 0;
  const offToken = gcm.on("token", () => tokens++);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now() - t0;
      const due = Math.min(Math.floor((now * rate) / 1000), Math.floor((ms * rate) / 1000));
      while (sent < due) {
        const k = keys[(sent * 7919) % keys.length];
        gdm.set(`item${k}`, valueOf(size, sent)).catch(() => failed++);
        sent++;
      }
      if (now >= ms) resolve();
      // Idle (rate 0): one wake-up at the end, so the row measures the ring, not this loop.
      else setTimeout(tick, rate === 0 ? ms - now : 10);
    };
    tick();
  });
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  offToken();
  emitLine("result", {
    node: c.index,
    size,
    rate,
    sent,
    failed,
    applied,
    wallMs: wall,
    cpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100,
    systemCpuPct: (cpu.system / 1000 / wall) * 100,
    packetsPerS: ((tm.stats.packetsSent - packets0) * 1000) / wall,
    tokensPerS: (tokens * 1000) / wall,
    rss: process.memoryUsage().rss,
  });
}

/** Durable writes as fast as they complete, `window` in flight, for `ms`. */
async function durable(size: number, ms: number, window: number): Promise<void> {
  const latencies: number[] = [];
  let done = 0;
  let failed = 0;
  let issued = 0;
  const commits0 = commits;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async () => {
    while (performance.now() - t0 < ms) {
      const n = issued++;
      const start = performance.now();
      try {
        await gdm.set(`d${c.index}/${n % 1000}`, valueOf(size, n));
        latencies.push(performance.now() - start);
        done++;
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((x, y) => x - y);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  emitLine("durable", {
    node: c.index,
    writes: done,
    failed,
    wallMs: wall,
    perS: (done * 1000) / wall,
    p50: at(0.5),
    p99: at(0.99),
    commitsPerS: ((commits - commits0) * 1000) / wall,
    cpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100,
  });
}

await forEachStdinLine(async (line) => {
  const [w, ...a] = line.split(" ");
  const n = a.map(Number);
  if (w === "load") await load(n[0], n[1]);
  else if (w === "run") await run(n[0], n[1], n[2], n[3]);
  else if (w === "durable") await durable(n[0], n[1], n[2]);
  else if (w === "quit") process.exit(0);
});
