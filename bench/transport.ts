/**
 * Transport benchmark: goodput and message rate of the Transport Manager between two OS processes
 * over UDP loopback, beside bare `node:dgram` on the same path in the same run (the limit of this
 * machine), for messages of 64 B, 1 KB, 64 KB and 1 MiB, at the LAN packet size (1,400 B) and at
 * the loopback one (65,000 B). Prints a table and writes bench/results/transport.json.
 *
 *   node --import tsx bench/transport.ts [--duration-ms 1500] [--repeat 3] [--out bench/results/transport.json]
 *        [--mtu 1400] [--size 1048576] [--receiver-cpu-prof DIR]     (one configuration; profile the receiver)
 *        [--window N]          the sender's windowPackets (default: the manager's default)
 * Profile the sender with `node --cpu-prof --import tsx bench/transport.ts …`.
 *
 * Method. This process sends; a child (bench/transport_receiver.ts) receives. Each table row is
 * `repeat` pairs of runs, raw then TM back to back (so both see the same load from other
 * processes); the row shows the pair with the median TM/raw ratio, and the range of the ratios.
 * - TM: sends the same message over and over for `duration-ms`, keeping at most 16 MiB (and at
 *   most 8,192 messages) unacknowledged; then waits for every outstanding acknowledgement.
 *   Goodput = payload bytes acknowledged / time from the first send to the last acknowledgement.
 *   The receiver's delivered count must equal the acknowledged count (exactly once).
 * - raw: blasts datagrams at the socket (64 per event-loop turn) for `duration-ms`; goodput = bytes
 *   the receiver got / time from its first to its last datagram; excess is dropped by the kernel.
 *   Small messages (64 B, 1 KB) are compared with raw datagrams of the same size (one message per
 *   datagram is what an application would do without the TM); large ones (64 KB, 1 MiB) with raw
 *   datagrams of the TM's packet size.
 * @module
 */
import { createSocket, type Socket } from "node:dgram";
import { cpus, loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { TransportManager } from "../transport/manager.ts";
import {
  createUdpTransport,
  parseUdpAddress,
  UDP_LAN_MTU,
  UDP_LOOPBACK_MTU,
} from "../transport/backends/udp.ts";
import type { JsonChild } from "../tools/json_child.ts";
import { ask, next, sendFor, startReceiver, stop, writeResults } from "./_tm_load.ts";

// argv[1] is this file (node --import tsx bench/transport.ts).
const root = resolve(dirname(process.argv[1]), "..");
const { values } = parseArgs({
  options: {
    "duration-ms": { type: "string", default: "1500" },
    out: { type: "string", default: "bench/results/transport.json" },
    mtu: { type: "string" },
    size: { type: "string" },
    "receiver-cpu-prof": { type: "string" },
    repeat: { type: "string", default: "3" },
    window: { type: "string" },
  },
});
const DURATION_MS = Number(values["duration-ms"]);
const MESSAGE_SIZES = values.size !== undefined ? [Number(values.size)] : [64, 1024, 64 * 1024, 1024 * 1024];
const MTUS = values.mtu !== undefined ? [Number(values.mtu)] : [UDP_LAN_MTU, UDP_LOOPBACK_MTU];
const PROFILE_DIR = values["receiver-cpu-prof"];
const REPEAT = Math.max(1, Number(values.repeat));
/** The sender's `windowPackets`; unset = the Transport Manager's default. */
const WINDOW = values.window !== undefined ? Number(values.window) : undefined;
const MB = 1e6;

/** Blasts `size`-byte datagrams at `to` for `durationMs`; returns how many were handed to the socket. */
async function rawBlast(socket: Socket, to: string, size: number, durationMs: number): Promise<number> {
  const { host, port } = parseUdpAddress(to);
  const datagram = new Uint8Array(size).map((_, i) => i);
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < durationMs) {
    for (let i = 0; i < 64; i++) socket.send(datagram, port, host);
    sent += 64;
    await new Promise<void>((ok) => setImmediate(ok));
  }
  return sent;
}

interface RawResult {
  datagramBytes: number;
  sent: number;
  received: number;
  mbPerS: number;
  datagramsPerS: number;
}

/** The sending side of the raw baseline: a bare socket, kept open across runs. */
class RawSender {
  private constructor(readonly socket: Socket, readonly to: string) {}

  static async open(rx: JsonChild): Promise<RawSender> {
    const { address } = await ask(rx, { cmd: "raw" }, "raw");
    const socket = createSocket(
      {
        type: "udp4",
        sendBufferSize: 8 * 1024 * 1024,
        // Same as the UDP backend: IP literals, no DNS tick per send.
        lookup: (host: string, _opts: unknown, cb: (e: null, a: string, f: number) => void) =>
          cb(null, host, 4),
      } as Parameters<typeof createSocket>[0],
    );
    await new Promise<void>((ok) => socket.bind(0, "127.0.0.1", () => ok()));
    return new RawSender(socket, String(address));
  }

  async run(rx: JsonChild, size: number): Promise<RawResult> {
    const sent = await rawBlast(this.socket, this.to, size, DURATION_MS);
    const report = await ask(rx, { cmd: "report" }, "report");
    const seconds = Number(report.ms) / 1000;
    return {
      datagramBytes: size,
      sent,
      received: Number(report.packets),
      mbPerS: Number(report.bytes) / MB / seconds,
      datagramsPerS: Number(report.packets) / seconds,
    };
  }

  close(): Promise<void> {
    return new Promise((ok) => this.socket.close(() => ok()));
  }
}

interface TmResult {
  messages: number;
  mbPerS: number;
  messagesPerS: number;
  deliveredAtReceiver: number;
  packetsSent: number;
  retransmissions: number;
}

async function tmMeasure(rx: JsonChild, tm: TransportManager, size: number): Promise<TmResult> {
  const before = { ...tm.stats };
  const m = await sendFor(tm, "rx", size, DURATION_MS);
  const report = await ask(rx, { cmd: "report" }, "report");
  return {
    messages: m.messages,
    mbPerS: m.bytes / MB / (m.ms / 1000),
    messagesPerS: m.messages / (m.ms / 1000),
    deliveredAtReceiver: Number(report.messages),
    packetsSent: tm.stats.packetsSent - before.packetsSent,
    retransmissions: tm.stats.retransmissions - before.retransmissions,
  };
}

interface Row {
  mtu: number;
  messageBytes: number;
  tm: TmResult;
  raw: RawResult;
  ratio: number;
  ratios: number[];
  exactlyOnce: boolean;
  target: { name: string; met: boolean };
}

async function measureMtu(rx: JsonChild, raw: RawSender, mtu: number): Promise<Row[]> {
  const { address } = await ask(rx, { cmd: "tm", mtu }, "tm");
  const udp = await createUdpTransport({ mtu });
  const tm = new TransportManager({ nodeId: `tx-${mtu}`, transports: [udp], windowPackets: WINDOW });
  tm.setAddresses("rx", [String(address)]);
  try {
    await sendFor(tm, "rx", 64 * 1024, 300); // warm-up: JIT, round-trip estimate
    await ask(rx, { cmd: "report" }, "report");
    const rows: Row[] = [];
    for (const size of MESSAGE_SIZES) {
      const pairs: Array<{ raw: RawResult; tm: TmResult; ratio: number }> = [];
      for (let r = 0; r < REPEAT; r++) {
        const rawResult = await raw.run(rx, size <= 1024 ? size : mtu);
        const tmResult = await tmMeasure(rx, tm, size);
        pairs.push({ raw: rawResult, tm: tmResult, ratio: tmResult.mbPerS / rawResult.mbPerS });
        process.stderr.write(
          `  mtu ${mtu}, ${sizeName(size)}: TM ${tmResult.mbPerS.toFixed(1)} MB/s, raw ${
            rawResult.mbPerS.toFixed(1)
          } MB/s\n`,
        );
      }
      pairs.sort((a, b) => a.ratio - b.ratio);
      const median = pairs[Math.floor(pairs.length / 2)];
      const target = size >= 64 * 1024
        ? { name: "goodput ≥ 50 % of raw", met: median.ratio >= 0.5 }
        : { name: "≥ 100,000 msgs/s", met: median.tm.messagesPerS >= 100_000 };
      rows.push({
        mtu,
        messageBytes: size,
        tm: median.tm,
        raw: median.raw,
        ratio: median.ratio,
        ratios: pairs.map((p) => p.ratio),
        exactlyOnce: pairs.every((p) => p.tm.deliveredAtReceiver === p.tm.messages),
        target,
      });
    }
    return rows;
  } finally {
    await tm.close();
  }
}

function fmt(n: number, digits = 1): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function sizeName(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / 1024 / 1024} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KB`;
  return `${n.toLocaleString("en-US")} B`;
}

const loadBefore = loadavg()[0];
// The receiving process; `--receiver-cpu-prof DIR` profiles it.
const rx = startReceiver(
  "bench/transport_receiver.ts",
  [],
  PROFILE_DIR !== undefined ? ["--cpu-prof", "--cpu-prof-dir", PROFILE_DIR] : [],
);
try {
  await next(rx, "ready");
  const raw = await RawSender.open(rx);
  const rows: Row[] = [];
  try {
    for (const mtu of MTUS) rows.push(...(await measureMtu(rx, raw, mtu)));
  } finally {
    await raw.close();
  }

  const header = [
    "mtu",
    "message",
    "TM MB/s",
    "TM msgs/s",
    "raw datagram",
    "raw MB/s",
    "raw dropped",
    "TM/raw",
    "(range)",
    "once",
    "target",
  ];
  const table = rows.map((r) => [
    String(r.mtu),
    sizeName(r.messageBytes),
    fmt(r.tm.mbPerS),
    fmt(r.tm.messagesPerS, 0),
    sizeName(r.raw.datagramBytes),
    fmt(r.raw.mbPerS),
    `${fmt((1 - r.raw.received / r.raw.sent) * 100, 0)} %`,
    `${fmt(r.ratio * 100, 0)} %`,
    `${fmt(Math.min(...r.ratios) * 100, 0)}–${fmt(Math.max(...r.ratios) * 100, 0)} %`,
    r.exactlyOnce ? "yes" : "NO",
    `${r.target.met ? "met" : "MISSED"}: ${r.target.name}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const last = header.length - 1;
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i === last ? c : c.padStart(widths[i]))).join("  ");
  console.log(
    `\nTransport Manager vs raw node:dgram, two processes over UDP loopback; ${DURATION_MS} ms per run, ` +
      `median of ${REPEAT} back-to-back pairs; window: ${WINDOW ?? "default"}; ` +
      `load average ${loadBefore.toFixed(1)} → ${loadavg()[0].toFixed(1)}; ` +
      `${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), Node ${process.version}`,
  );
  console.log(line(header));
  for (const row of table) console.log(line(row));
  console.log(
    "raw = receiver-side rate of a sender blasting datagrams (the kernel drops what the receiver cannot take);\n" +
      "64 B and 1 KB messages are compared with datagrams of the same size, larger ones with datagrams of the TM's mtu.",
  );

  writeResults(resolve(root, values.out!), {
    durationMs: DURATION_MS,
    repeat: REPEAT,
    loadAverage1m: { before: loadBefore, after: loadavg()[0] },
    windowPackets: WINDOW ?? "default",
    rows,
  });
  console.log(`\nwrote ${values.out}`);
} finally {
  await stop(rx);
}
