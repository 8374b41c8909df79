/**
 * The receiving process of bench/transport.ts: a Transport Manager over UDP, or a bare
 * `node:dgram` socket, on loopback. Driven by JSON lines on stdin, answers on stdout:
 *   {"cmd":"tm","mtu"} → {"event":"tm","address"}  a fresh manager "rx" (the previous one closes)
 *   (both may be open at once; runs take turns, so one set of counters serves both)
 *   {"cmd":"raw"}       → {"event":"raw","address"}  a fresh bare socket (the previous one closes)
 *   {"cmd":"report"}    → {"event":"report",…}       counts since the last tm/raw/report, then reset;
 *                                                    sent once nothing arrived for 50 ms (socket drained)
 * @module
 */
import type { Socket } from "node:dgram";
import { createSocket } from "node:dgram";
import { createInterface } from "node:readline";
import { TransportManager } from "../transport/manager.ts";
import { createUdpTransport, formatUdpAddress } from "../transport/backends/udp.ts";

const BUFFER_BYTES = 8 * 1024 * 1024;
const QUIET_MS = 50;
const out = (line: Record<string, unknown>): void => void process.stdout.write(JSON.stringify(line) + "\n");

let tm: TransportManager | undefined;
let raw: Socket | undefined;
let messages = 0;
let bytes = 0;
let packets = 0;
let first = 0;
let last = 0;

function reset(): void {
  messages =
    bytes =
    packets =
    first =
    last =
      0;
}

function count(n: number): void {
  const now = performance.now();
  if (first === 0) first = now;
  last = now;
  bytes += n;
}

async function closeTm(): Promise<void> {
  await tm?.close();
  tm = undefined;
}

async function closeRaw(): Promise<void> {
  const socket = raw;
  raw = undefined;
  if (socket !== undefined) await new Promise<void>((resolve) => socket.close(() => resolve()));
}

async function closeAll(): Promise<void> {
  await Promise.all([closeTm(), closeRaw()]);
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const cmd = JSON.parse(line) as { cmd: string; mtu?: number };
  void (async () => {
    if (cmd.cmd === "tm") {
      await closeTm();
      const udp = await createUdpTransport({ mtu: cmd.mtu });
      tm = new TransportManager({ nodeId: "rx", transports: [udp] });
      tm.onMessage(1, (_, m) => {
        messages++;
        count(m.length);
      });
      reset();
      out({ event: "tm", address: udp.addresses[0], bufferSizes: udp.bufferSizes });
    } else if (cmd.cmd === "raw") {
      await closeRaw();
      const socket = createSocket({
        type: "udp4",
        recvBufferSize: BUFFER_BYTES,
        sendBufferSize: BUFFER_BYTES,
      });
      socket.on("message", (m) => {
        packets++;
        count(m.length);
      });
      await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
      raw = socket;
      reset();
      out({ event: "raw", address: formatUdpAddress("127.0.0.1", socket.address().port) });
    } else if (cmd.cmd === "report") {
      const quiet = setInterval(() => {
        if (last !== 0 && performance.now() - last < QUIET_MS) return;
        clearInterval(quiet);
        out({ event: "report", messages, packets, bytes, ms: last - first });
        reset();
      }, 10);
    }
  })();
});
process.stdin.on("end", () => void closeAll().then(() => process.exit(0)));
out({ event: "ready" });
