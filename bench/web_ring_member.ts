/**
 * One member of the WebSocket ring flood (bench/web_ring_flood.ts): a WebSocket server, a
 * Transport Manager and a GCM. Prints `{"event":"listening","address":…}`; stdin commands:
 * `{"cmd":"start","peers":[{id,addresses}]}` (prints `{"event":"view","members":…}` per view),
 * `{"cmd":"flood","count":C,"size":B,"total":T}` — multicasts C messages of B bytes and prints
 * `{"event":"done",…}` once T messages were delivered (rate, order hash).
 *   node --import tsx bench/web_ring_member.ts ID
 * @module
 */
import { createInterface } from "node:readline";
import { GroupCommunicationManager } from "../gcm/manager.ts";
import { TransportManager } from "../transport/manager.ts";
import { createWebSocketTransport } from "../transport/backends/websocket/mod.ts";

const id = process.argv[2];
const ws = await createWebSocketTransport({ id, listen: { port: 0 } });
const tm = new TransportManager({ nodeId: id, transports: [ws] });
const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
print({ event: "listening", address: ws.addresses[0] });
let gcm: GroupCommunicationManager | undefined;
let delivered = 0;
let hash = 0x811c9dc5;
let target = Infinity;
let started = 0;

for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as {
    cmd: string;
    peers?: Array<{ id: string; addresses: string[] }>;
    count?: number;
    size?: number;
    total?: number;
  };
  if (cmd.cmd === "start") {
    for (const p of cmd.peers ?? []) if (p.id !== id) tm.setAddresses(p.id, p.addresses);
    gcm = new GroupCommunicationManager({
      layer: tm,
      peers: (cmd.peers ?? []).map((p) => p.id),
      timing: { eatingMs: 1 },
    });
    gcm.on("view", (v) => print({ event: "view", members: v.members }));
    gcm.on("deliver", (d) => {
      delivered++;
      // FNV-1a over (sender, seq): equal at every member iff the order is the same.
      for (const c of `${d.from}#${d.seq};`) hash = Math.imul(hash ^ c.charCodeAt(0), 0x01000193) >>> 0;
      if (delivered === target) {
        const ms = performance.now() - started;
        print({
          event: "done",
          id,
          delivered,
          ms,
          msgsPerS: delivered / (ms / 1000),
          orderHash: hash.toString(16),
        });
      }
    });
    gcm.start();
  } else if (cmd.cmd === "flood") {
    delivered = 0;
    hash = 0x811c9dc5;
    target = cmd.total ?? Infinity;
    started = performance.now();
    const data = new Uint8Array(cmd.size ?? 1024);
    for (let i = 0; i < (cmd.count ?? 0); i++) gcm!.multicast(data);
  }
}
gcm?.close();
await tm.close();
process.exit(0);
