/**
 * Web transports benchmark: Transport Manager goodput and message rate between two processes over
 * the WebSocket and the WebRTC (werift) backends on loopback, beside the UDP figures of
 * bench/transport.ts (run here as a child with the same method: bounded in-flight sends for a fixed
 * time, goodput = bytes acknowledged / time to the last acknowledgement, exactly-once checked at the
 * receiver). Then the GCM multicast flood on a 4-member ring over WebSocket (bench/web_ring_member.ts).
 * Prints a table and writes bench/results/web_transports.json.
 *
 *   node scripts/run.mjs bench/web_transports.ts [--duration-ms 1500] [--skip-udp] [--skip-gcm]
 *        [--only websocket|webrtc] [--webrtc-mtu 16384] [--out FILE]
 *
 * WebRTC runs inside a loopback-only network namespace: the benchmark re-runs itself under
 * `unshare -n` (scripts/loopback-only.mjs) unless it is in one already.
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, networkInterfaces, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { TransportManager } from "../transport/manager.ts";
import type { PacketTransport } from "../transport/packet_transport.ts";
import { createWebRtcTransport, WEBRTC_DEFAULT_MTU } from "../transport/webrtc/mod.ts";
import {
  createWebSocketTransport,
  WEBSOCKET_DEFAULT_MTU,
  type WebSocketTransport,
} from "../transport/websocket/mod.ts";

const root = resolve(dirname(process.argv[1]), "..");
const { values } = parseArgs({
  options: {
    "duration-ms": { type: "string", default: "1500" },
    out: { type: "string", default: "bench/results/web_transports.json" },
    "skip-udp": { type: "boolean", default: false },
    "skip-gcm": { type: "boolean", default: false },
    "webrtc-mtu": { type: "string" },
    only: { type: "string" },
  },
});

if (!Object.keys(networkInterfaces()).every((n) => n === "lo")) {
  const r = spawnSync(
    process.execPath,
    [
      join(root, "scripts/loopback-only.mjs"),
      process.execPath,
      join(root, "scripts/run.mjs"),
      "bench/web_transports.ts",
      ...process.argv.slice(2),
    ],
    { cwd: root, stdio: "inherit" },
  );
  process.exit(r.status ?? 1);
}

const DURATION_MS = Number(values["duration-ms"]);
const SIZES = [64, 1024, 64 * 1024, 1024 * 1024];
const MAX_OUTSTANDING_BYTES = 16 * 1024 * 1024;
const MAX_OUTSTANDING_MESSAGES = 8_192;
const MB = 1e6;
type Line = Record<string, unknown>;

/** A child speaking JSON lines. */
class Child {
  readonly #child: ChildProcess;
  readonly #lines: Line[] = [];
  #waiters: Array<() => void> = [];
  #stderr = "";
  constructor(args: string[]) {
    this.#child = spawn(process.execPath, ["scripts/run.mjs", ...args], {
      cwd: root,
      stdio: ["pipe", "pipe", "pipe"],
    });
    createInterface({ input: this.#child.stdout! }).on("line", (l) => {
      if (l.startsWith("{")) this.#lines.push(JSON.parse(l) as Line);
      for (const w of [...this.#waiters]) w();
    });
    this.#child.stderr!.on("data", (d: Buffer) => (this.#stderr += d.toString()));
    this.#child.on("exit", () => {
      for (const w of [...this.#waiters]) w();
    });
  }
  write(cmd: Line): void {
    this.#child.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }
  next(event: string, from = 0, timeoutMs = 60_000): Promise<Line> {
    return new Promise((ok, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`no "${event}" in ${timeoutMs} ms\n${this.#stderr}`)),
        timeoutMs,
      );
      const check = (): void => {
        const line = this.#lines.slice(from).find((l) => l.event === event);
        if (line === undefined && this.#child.exitCode === null) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== check);
        if (line !== undefined) ok(line);
        else fail(new Error(`child exited\n${this.#stderr}`));
      };
      this.#waiters.push(check);
      check();
    });
  }
  ask(cmd: Line, event: string): Promise<Line> {
    const from = this.#lines.length;
    this.write(cmd);
    return this.next(event, from);
  }
  get lines(): readonly Line[] {
    return this.#lines;
  }
  async stop(): Promise<void> {
    this.#child.stdin!.end();
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5_000);
    if (this.#child.exitCode === null) await new Promise((ok) => this.#child.once("exit", ok));
    clearTimeout(timer);
  }
}

/** Sends `size`-byte messages to "rx" for `durationMs`, bounded in flight (as bench/transport.ts). */
function tmRun(
  tm: TransportManager,
  size: number,
  durationMs: number,
): Promise<{ messages: number; ms: number }> {
  const message = new Uint8Array(size).map((_, i) => i);
  const limit = Math.max(2, Math.min(MAX_OUTSTANDING_MESSAGES, Math.floor(MAX_OUTSTANDING_BYTES / size)));
  return new Promise((ok, fail) => {
    const start = performance.now();
    let outstanding = 0;
    let acked = 0;
    let stopped = false;
    const onAck = (): void => {
      outstanding--;
      acked++;
      if (!stopped && performance.now() - start >= durationMs) stopped = true;
      if (stopped) {
        if (outstanding === 0) ok({ messages: acked, ms: performance.now() - start });
      } else issue();
    };
    const issue = (): void => {
      while (!stopped && outstanding < limit) {
        outstanding++;
        tm.send("rx", 1, message).then(onAck, fail);
      }
    };
    issue();
  });
}

interface Row {
  transport: string;
  mtu: number;
  messageBytes: number;
  mbPerS: number;
  messagesPerS: number;
  messages: number;
  exactlyOnce: boolean;
  retransmissions: number;
  /** Packets the sending backend dropped itself (buffer limits); `undefined` for UDP. */
  backendDrops?: number;
}

async function measure(kind: "websocket" | "webrtc", mtu: number): Promise<Row[]> {
  const rx = new Child(["bench/web_transports_receiver.ts", kind, String(mtu)]);
  const closers: Array<() => Promise<void>> = [];
  try {
    const ready = await rx.next("ready");
    let transport: PacketTransport;
    if (kind === "websocket") {
      transport = await createWebSocketTransport({ id: "tx", mtu });
    } else {
      const ws: WebSocketTransport = await createWebSocketTransport({
        id: "tx",
        servers: [String(ready.signaling)],
      });
      closers.push(() => ws.close());
      transport = await createWebRtcTransport({ signaling: ws, loopbackOnly: true, mtu });
    }
    const tm = new TransportManager({ nodeId: "tx", transports: [transport] });
    closers.unshift(() => tm.close());
    tm.setAddresses("rx", [String(ready.address)]);
    await tmRun(tm, 64 * 1024, 300); // warm-up: connection, JIT, round-trip estimate
    const rows: Row[] = [];
    for (const size of SIZES) {
      const before = Number((await rx.ask({ cmd: "report" }, "report")).delivered);
      const retrans = tm.stats.retransmissions;
      const drops = (transport as unknown as { stats: { packetsDropped: number } }).stats.packetsDropped;
      const r = await tmRun(tm, size, DURATION_MS);
      const after = Number((await rx.ask({ cmd: "report" }, "report")).delivered);
      const row: Row = {
        transport: kind,
        mtu,
        messageBytes: size,
        mbPerS: (r.messages * size) / MB / (r.ms / 1000),
        messagesPerS: r.messages / (r.ms / 1000),
        messages: r.messages,
        exactlyOnce: after - before === r.messages,
        retransmissions: tm.stats.retransmissions - retrans,
        backendDrops: (transport as unknown as { stats: { packetsDropped: number } }).stats.packetsDropped -
          drops,
      };
      process.stderr.write(
        `  ${kind} mtu ${mtu}, ${size} B: ${row.mbPerS.toFixed(1)} MB/s, ${
          row.messagesPerS.toFixed(0)
        } msgs/s\n`,
      );
      rows.push(row);
    }
    return rows;
  } finally {
    for (const c of closers) await c();
    await rx.stop();
  }
}

/** UDP figures: bench/transport.ts run as a child (loopback mtu), its TM rows. */
function udpRows(): Row[] {
  const out = join(tmpdir(), `raincore-udp-bench-${process.pid}.json`);
  const r = spawnSync(process.execPath, [
    "scripts/run.mjs",
    "bench/transport.ts",
    "--repeat",
    "1",
    "--duration-ms",
    String(DURATION_MS),
    "--mtu",
    "65000",
    "--out",
    out,
  ], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  if (r.status !== 0) throw new Error("bench/transport.ts failed");
  // bench/transport.ts writes `rows` of { mtu, messageBytes, tm: {…} } (older versions: a flat `tm` list).
  type Tm = {
    messages: number;
    mbPerS: number;
    messagesPerS: number;
    deliveredAtReceiver: number;
    retransmissions: number;
  };
  const json = JSON.parse(readFileSync(out, "utf8")) as {
    rows?: Array<{ mtu: number; messageBytes: number; tm: Tm }>;
    tm?: Array<Tm & { mtu: number; messageBytes: number }>;
  };
  rmSync(out, { force: true });
  const list = json.rows?.map((r) => ({ mtu: r.mtu, messageBytes: r.messageBytes, ...r.tm })) ?? json.tm ??
    [];
  return list.map((t) => ({
    transport: "udp",
    mtu: t.mtu,
    messageBytes: t.messageBytes,
    mbPerS: t.mbPerS,
    messagesPerS: t.messagesPerS,
    messages: t.messages,
    exactlyOnce: t.deliveredAtReceiver === t.messages,
    retransmissions: t.retransmissions,
  }));
}

const rows: Row[] = [];
if (!values["skip-udp"]) {
  process.stderr.write("udp (bench/transport.ts)…\n");
  rows.push(...udpRows());
}
if (values.only === undefined || values.only === "websocket") {
  rows.push(...(await measure("websocket", WEBSOCKET_DEFAULT_MTU)));
}
if (values.only === undefined || values.only === "webrtc") {
  const mtu = values["webrtc-mtu"] !== undefined ? Number(values["webrtc-mtu"]) : WEBRTC_DEFAULT_MTU;
  rows.push(...(await measure("webrtc", mtu)));
}

let gcm: Line[] | undefined;
if (!values["skip-gcm"]) {
  const { runWebRingFlood } = await import("./web_ring_flood.ts");
  gcm = await runWebRingFlood({ nodes: 4, size: 1024, count: 2_000 });
}

const fmt = (n: number, d = 1) =>
  n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const size = (n: number) =>
  n >= 1024 * 1024 ? `${n / 1024 / 1024} MiB` : n >= 1024 ? `${n / 1024} KB` : `${n} B`;
const table = [["transport", "mtu", "message", "TM MB/s", "TM msgs/s", "once", "resends", "dropped"]];
for (const r of rows) {
  table.push([
    r.transport,
    String(r.mtu),
    size(r.messageBytes),
    fmt(r.mbPerS),
    fmt(r.messagesPerS, 0),
    r.exactlyOnce ? "yes" : "NO",
    String(r.retransmissions),
    r.backendDrops === undefined ? "–" : String(r.backendDrops),
  ]);
}
const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
for (const r of table) {
  console.log(r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "));
}
if (gcm !== undefined) {
  console.log("\nGCM multicast flood, 4 members over WebSocket, 1 KB messages, every member sends:");
  for (const g of gcm) {
    console.log(`  ${g.id}: ${fmt(Number(g.msgsPerS), 0)} msgs/s delivered, order hash ${g.orderHash}`);
  }
}
mkdirSync(dirname(join(root, values.out)), { recursive: true });
writeFileSync(
  join(root, values.out),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      durationMs: DURATION_MS,
      tm: rows,
      gcmFlood: gcm,
    },
    null,
    2,
  ),
);
console.log(`\nwritten to ${values.out}`);
process.exit(0);
