/**
 * Receiving side of bench/web_transports.ts: a Transport Manager "rx" over one web transport,
 * counting delivered messages. Prints `{"event":"ready","address":…}`; on stdin `{"cmd":"report"}`
 * prints `{"event":"report","delivered":N}`; exits when stdin closes.
 *   node --import tsx bench/web_transports_receiver.ts websocket|webrtc
 * @module
 */
import { createInterface } from "node:readline";
import { TransportManager } from "../transport/manager.ts";
import type { PacketTransport } from "../transport/packet_transport.ts";
import { createWebRtcTransport } from "../transport/backends/webrtc/mod.ts";
import { createWebSocketTransport } from "../transport/backends/websocket/mod.ts";

const kind = process.argv[2];
const mtu = process.argv[3] !== undefined ? Number(process.argv[3]) : undefined;
const ws = await createWebSocketTransport({
  id: "rx",
  listen: { port: 0 },
  mtu: kind === "websocket" ? mtu : undefined,
});
let transport: PacketTransport = ws;
if (kind === "webrtc") transport = await createWebRtcTransport({ signaling: ws, loopbackOnly: true, mtu });
const tm = new TransportManager({ nodeId: "rx", transports: [transport] });
let delivered = 0;
tm.onMessage(1, () => delivered++);
const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
print({ event: "ready", address: transport.addresses[0], signaling: ws.addresses[0] });
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as { cmd: string };
  if (cmd.cmd === "report") print({ event: "report", delivered });
}
await tm.close();
if (kind === "webrtc") await ws.close();
process.exit(0);
