/**
 * Web transports benchmark: Transport Manager goodput and message rate between two processes over
 * the WebSocket and the WebRTC (werift) backends on loopback, beside the UDP figures of
 * bench/transport.ts (run here as a child with the same method: bounded in-flight sends for a fixed
 * time, goodput = bytes acknowledged / time to the last acknowledgement, exactly-once checked at the
 * receiver). Then the GCM multicast flood on a 4-member ring over WebSocket (bench/web_ring_member.ts).
 * Prints a table and writes bench/results/web_transports.json.
 *
 *   node --import tsx bench/web_transports.ts [--duration-ms 1500] [--skip-udp] [--skip-gcm]
 *        [--only websocket|webrtc] [--webrtc-mtu 16384] [--out FILE]
 *
 * WebRTC runs inside a loopback-only network namespace: the benchmark re-runs itself under
 * `unshare -n` (scripts/loopback-only.mjs) unless it is in one already.
 * @module
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { TransportManager } from "../transport/manager.ts";
import type { PacketTransport } from "../transport/packet_transport.ts";
import { createWebRtcTransport, WEBRTC_DEFAULT_MTU } from "../transport/backends/webrtc/mod.ts";
import {
  createWebSocketTransport,
  WEBSOCKET_DEFAULT_MTU,
  type WebSocketTransport,
} from "../transport/backends/websocket/mod.ts";
import { ask, next, sendFor, startReceiver, stop, writeResults } from "./_tm_load.ts";

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
      "--import",
      "tsx",
      "bench/web_transports.ts",
      ...process.argv.slice(2),
    ],
    { cwd: root, stdio: "inherit" },
  );
  process.exit(r.status ?? 1);
}

const DURATION_MS = Number(values["duration-ms"]);
const SIZES = [64, 1024, 64 * 1024, 1024 * 1024];
const MB = 1e6;
type Line = Record<string, unknown>;

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
  const rx = startReceiver("bench/web_transports_receiver.ts", [kind, String(mtu)]);
  const closers: Array<() => Promise<void>> = [];
  try {
    const ready = await next(rx, "ready");
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
    await sendFor(tm, "rx", 64 * 1024, 300); // warm-up: connection, JIT, round-trip estimate
    const rows: Row[] = [];
    for (const size of SIZES) {
      const before = Number((await ask(rx, { cmd: "report" }, "report")).delivered);
      const retrans = tm.stats.retransmissions;
      const drops = (transport as unknown as { stats: { packetsDropped: number } }).stats.packetsDropped;
      const r = await sendFor(tm, "rx", size, DURATION_MS);
      const after = Number((await ask(rx, { cmd: "report" }, "report")).delivered);
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
    await stop(rx);
  }
}

/** UDP figures: bench/transport.ts run as a child (loopback mtu), its TM rows. */
function udpRows(): Row[] {
  const out = join(tmpdir(), `raincore-udp-bench-${process.pid}.json`);
  const r = spawnSync(process.execPath, [
    "--import",
    "tsx",
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
  // 20,000 per member: a 2,000-message run lasts half a second, most of it spent compiling (JIT).
  gcm = await runWebRingFlood({ nodes: 4, size: 1024, count: 20_000 });
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
writeResults(join(root, values.out), { durationMs: DURATION_MS, tm: rows, gcmFlood: gcm });
console.log(`\nwritten to ${values.out}`);
process.exit(0);
