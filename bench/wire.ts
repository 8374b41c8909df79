/**
 * Packets on the wire (thesis 4.5): N members each multicast one message of M bytes. The token
 * ring carries all of them in one round of N token packets (plus the Transport Manager's N
 * acknowledgements); a unicast broadcast needs N(N−1) data packets and as many acknowledgements,
 * without any ordering. Both are counted in the same deterministic simulated network, so the
 * numbers are exact and repeatable.
 *
 *   node --import tsx bench/wire.ts [--nodes 3,4,6,8] [--size 100]
 *
 * With `--codec`, instead a micro-benchmark of the token codec (the per-hop CPU cost): a token of
 * `--entries` entries (4 origins, default 2,048) of `--size` bytes is encoded from fresh entries,
 * decoded, and re-encoded after decoding (what every member does on every hop), µs per token:
 *
 *   node --import tsx bench/wire.ts --codec [--entries 2048] [--size 100] [--ms 2000]
 * @module
 */

import { decode, encodeToken, KIND_TOKEN } from "../gcm/codec.ts";
import { GroupCommunicationManager } from "../gcm/manager.ts";
import type { Entry, Token } from "../gcm/token.ts";
import { VirtualClock } from "../base/clock.ts";
import { TransportManager } from "../transport/manager.ts";
import { SimNetwork } from "../transport/backends/memory.ts";
import { Random } from "../base/random.ts";

/** Packet counts for one group size. */
export interface WireCount {
  nodes: number;
  size: number;
  /** Packets from the first multicast until every member delivered all N messages. */
  ringPackets: number;
  /** Token hops in that interval (token packets). */
  ringTokenHops: number;
  /** Wake-ups in that interval (members asking the idle token to come; at most one per member). */
  ringWakes: number;
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
  const tms = ids.map((id) =>
    new TransportManager({ nodeId: id, transports: [net.createTransport(`mem://${id}`)], clock })
  );
  for (const tm of tms) for (const id of ids) tm.setAddresses(id, [`mem://${id}`]);
  const gcms = tms.map((tm) =>
    new GroupCommunicationManager({ layer: tm, clock, peers: ids, timing: { eatingMs: 5 } })
  );
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
  const wakes = () => gcms.reduce((s, g) => s + g.metrics().token.wakesSent, 0);
  const wakesBefore = wakes();
  const payload = new Uint8Array(size);
  for (const g of gcms) g.multicast(payload);
  if (!clock.runUntil(() => delivered.every((d) => d === nodes), 60_000)) {
    throw new Error("multicast not delivered");
  }
  const ringPackets = net.stats.sent - before.sent;
  const ringTokenHops = hops;
  const ringWakes = wakes() - wakesBefore;

  // Unicast broadcast with acknowledgements, on the same network, on a fresh channel. A first
  // broadcast, not counted, has every pair meet (the ring only ever joined neighbours: a first contact
  // costs one more round trip), so the counted one is the steady state, like the ring's.
  for (const g of gcms) g.close();
  clock.advance(SETTLE_MS);
  const broadcast = () => {
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
  };
  broadcast();
  clock.advance(SETTLE_MS);
  const sentBefore = net.stats.sent;
  broadcast();
  return {
    nodes,
    size,
    ringPackets,
    ringTokenHops,
    ringWakes,
    ringBytes: bytes,
    unicastPackets: net.stats.sent - sentBefore,
    thesisBroadcast: (nodes - 1) ** 2,
  };
}

/** µs per token of the three codec operations on the hop path. */
export interface CodecTiming {
  entries: number;
  size: number;
  tokenBytes: number;
  /** encodeToken of entries built locally (the origin's first hop). */
  encodeFreshUs: number;
  /** decode of the encoded token. */
  decodeUs: number;
  /** encodeToken of a decoded token (every later hop). */
  reencodeUs: number;
}

/** A token as it looks in a 4-member flood: runs of 512 entries per origin, custody at the origin. */
export function floodToken(entries: number, size: number): Token {
  const nodelist = [0, 1, 2, 3].map((i) => ({ id: `m${i}`, inc: 1_700_000_000_000 + i }));
  const list: Entry[] = [];
  for (let i = 0; i < entries; i++) {
    const o = nodelist[Math.floor((i * 4) / entries)];
    list.push({
      cfg: "1:m0/1/2",
      gseq: i + 1,
      originId: o.id,
      originInc: o.inc,
      seq: i + 1,
      safe: false,
      holder: o.id,
      fwd: "",
      stream: 0,
      data: new Uint8Array(size).fill(i & 0xff),
    });
  }
  return {
    ringId: "m0/1/1",
    parentRingId: "",
    forkSeq: 0,
    seq: 1,
    nodelist,
    current: 0,
    dest: 1,
    gvn: 1,
    rsv: 0,
    flags: 0,
    cfg: "1:m0/1/2",
    mseq: entries,
    rsvTag: "",
    trans: [],
    entries: list,
    addrs: [],
  };
}

/** Times the codec for `ms` milliseconds per operation (after a warm-up). */
export function timeCodec(entries: number, size: number, ms = 2000): CodecTiming {
  const t = floodToken(entries, size);
  const bytes = encodeToken(t);
  const decoded = () => {
    const d = decode(bytes);
    if (d.kind !== KIND_TOKEN) throw new Error("not a token");
    return d.token;
  };
  const hop = decoded();
  // The machine is shared: the best of 20 slices of `ms`/20 is the cost without other work.
  const time = (fn: () => unknown): number => {
    for (let i = 0; i < 50; i++) fn();
    let best = Infinity;
    for (let slice = 0; slice < 20; slice++) {
      let n = 0;
      const start = performance.now();
      let now = start;
      while (now - start < ms / 20) {
        fn();
        n++;
        now = performance.now();
      }
      best = Math.min(best, ((now - start) * 1000) / n);
    }
    return best;
  };
  return {
    entries,
    size,
    tokenBytes: bytes.length,
    encodeFreshUs: time(() => encodeToken(t)),
    decodeUs: time(decoded),
    reencodeUs: time(() => encodeToken(hop)),
  };
}

if (process.argv[1]?.endsWith("bench/wire.ts")) {
  const arg = (name: string, fallback: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  if (process.argv.includes("--codec")) {
    const { loadavg } = await import("node:os");
    const r = timeCodec(
      Number(arg("entries", "2048")),
      Number(arg("size", "100")),
      Number(arg("ms", "2000")),
    );
    console.log("| entries × size | token bytes | encode (fresh) | decode | re-encode (decoded) | load |");
    console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
    console.log(
      `| ${r.entries} × ${r.size} B | ${r.tokenBytes} | ${r.encodeFreshUs.toFixed(1)} µs | ${
        r.decodeUs.toFixed(1)
      } µs | ${r.reencodeUs.toFixed(1)} µs | ${loadavg()[0].toFixed(2)} |`,
    );
    process.exit(0);
  }
  const sizes = arg("nodes", "3,4,6,8").split(",").map(Number);
  const size = Number(arg("size", "100"));
  const rows = sizes.map((n) => countWire(n, size));
  console.log(
    "| members | ring packets (token hops + wake-ups + TM acks) | unicast broadcast + acks | (N−1)² without acks |",
  );
  console.log("| ---: | ---: | ---: | ---: |");
  for (const r of rows) {
    console.log(
      `| ${r.nodes} | ${r.ringPackets} (${r.ringTokenHops} + ${r.ringWakes} + ${
        r.ringPackets - r.ringTokenHops - r.ringWakes
      }) | ${r.unicastPackets} | ${r.thesisBroadcast} |`,
    );
  }
  const { writeFileSync, mkdirSync } = await import("node:fs");
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/wire.json", JSON.stringify({ bench: "wire", size, rows }, null, 2) + "\n");
}
