/**
 * Packets on the wire (thesis 4.5): N members each multicast one message of M bytes. The token
 * ring carries all of them in one round of N token packets (plus the Transport Manager's N
 * acknowledgements); a unicast broadcast needs N(N−1) data packets and as many acknowledgements,
 * without any ordering. Both are counted in the same deterministic simulated network, so the
 * numbers are exact and repeatable.
 *
 *   node scripts/run.mjs bench/wire.ts [--nodes 3,4,6,8] [--size 100]
 * @module
 */

import { GroupCommunicationManager } from "../gcm/manager.ts";
import { VirtualClock } from "../transport/clock.ts";
import { TransportManager } from "../transport/manager.ts";
import { SimNetwork } from "../transport/memory.ts";
import { Random } from "../transport/random.ts";

/** Packet counts for one group size. */
export interface WireCount {
  nodes: number;
  size: number;
  /** Packets from the first multicast until every member delivered all N messages. */
  ringPackets: number;
  /** Token hops in that interval (token packets; the rest are the TM's acknowledgements). */
  ringTokenHops: number;
  /** Payload bytes of those packets. */
  ringBytes: number;
  /** Packets of a unicast broadcast with acknowledgements (every member sends to every other). */
  unicastPackets: number;
  /** The thesis's count for a broadcast without acknowledgements: (N−1)². */
  thesisBroadcast: number;
}

const SETTLE_MS = 2_000;

/** Counts packets for `nodes` members multicasting one message of `size` bytes each. */
export function countWire(nodes: number, size: number, seed = 1): WireCount {
  const clock = new VirtualClock();
  const net = new SimNetwork({ clock, random: new Random(seed), link: { delayMs: { min: 0.05, max: 0.1 } } });
  const ids = Array.from({ length: nodes }, (_, i) => `w${i}`);
  const tms = ids.map((id) => new TransportManager({ nodeId: id, transports: [net.createTransport(`mem://${id}`)], clock }));
  for (const tm of tms) for (const id of ids) tm.setAddresses(id, [`mem://${id}`]);
  const gcms = tms.map((tm) => new GroupCommunicationManager({ layer: tm, clock, peers: ids, eatingMs: 5 }));
  let hops = 0;
  const delivered = new Array<number>(nodes).fill(0);
  gcms.forEach((g, i) => {
    g.on("token", () => hops++);
    g.on("deliver", () => delivered[i]++);
    g.start();
  });
  const formed = clock.runUntil(() => gcms.every((g) => g.view.members.length === nodes && g.agreed), 60_000);
  if (!formed) throw new Error(`${nodes} members did not form one view`);
  clock.advance(SETTLE_MS);

  const before = { ...net.stats };
  let bytes = 0;
  net.onEvent((e) => {
    if (e.type === "send") bytes += e.size;
  });
  hops = 0;
  const payload = new Uint8Array(size);
  for (const g of gcms) g.multicast(payload);
  if (!clock.runUntil(() => delivered.every((d) => d === nodes), 60_000)) throw new Error("multicast not delivered");
  const ringPackets = net.stats.sent - before.sent;
  const ringTokenHops = hops;

  // Unicast broadcast with acknowledgements, on the same network, on a fresh channel.
  for (const g of gcms) g.close();
  clock.advance(SETTLE_MS);
  const sentBefore = net.stats.sent;
  let pending = 0;
  for (const tm of tms) {
    tm.onMessage(99, () => {});
    for (const id of ids) {
      if (id === tm.nodeId) continue;
      pending++;
      tm.send(id, 99, payload).then(() => pending--);
    }
  }
  clock.runUntil(() => pending === 0, 60_000);
  return {
    nodes,
    size,
    ringPackets,
    ringTokenHops,
    ringBytes: bytes,
    unicastPackets: net.stats.sent - sentBefore,
    thesisBroadcast: (nodes - 1) ** 2,
  };
}

if (process.argv[1]?.endsWith("bench/wire.ts")) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const sizes = arg("nodes", "3,4,6,8").split(",").map(Number);
  const size = Number(arg("size", "100"));
  const rows = sizes.map((n) => countWire(n, size));
  console.log("| members | ring packets (token hops + TM acks) | unicast broadcast + acks | (N−1)² without acks |");
  console.log("| ---: | ---: | ---: | ---: |");
  for (const r of rows) {
    console.log(`| ${r.nodes} | ${r.ringPackets} (${r.ringTokenHops} + ${r.ringPackets - r.ringTokenHops}) | ${r.unicastPackets} | ${r.thesisBroadcast} |`);
  }
  const { writeFileSync, mkdirSync } = await import("node:fs");
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/wire.json", JSON.stringify({ bench: "wire", size, rows }, null, 2) + "\n");
}
