/**
 * Cost of cluster authentication: (1) per-packet crypto — node:crypto (synchronous) against Web
 * Crypto (asynchronous) for GMAC, HMAC-SHA-256 and AES-256-GCM at several packet sizes, through
 * `secureTransport()` itself; (2) the multicast flood (N member processes over UDP loopback) with
 * no key, with GMAC, with HMAC-SHA-256 and with AES-GCM, interleaved in one run so that machine load hits all alike.
 *
 *   node --import tsx bench/security.ts [--nodes 4] [--senders 4] [--size 1000] [--count 5000]
 *        [--trials 3] [--out bench/results/security.json]
 * @module
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  encodeNodeId,
  headerSize,
  TYPE_DATA,
  writeDataFields,
  writeHeader,
  writeWholeFrame,
} from "../transport/codec.ts";
import type { PacketHandler, PacketTransport } from "../transport/packet_transport.ts";
import { loadNodeCrypto, secureTransport } from "../transport/secure/secure.ts";
import { runMulticastBench } from "./multicast.ts";

const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "4" },
    senders: { type: "string", default: "4" },
    size: { type: "string", default: "1000" },
    count: { type: "string", default: "5000" },
    trials: { type: "string", default: "3" },
    out: { type: "string" },
    "micro-only": { type: "boolean", default: false },
  },
});

class Sink implements PacketTransport {
  readonly kind = "sink";
  readonly mtu = 65_000;
  readonly addresses = ["sink://"];
  handler: PacketHandler | undefined;
  last: Uint8Array | undefined;
  count = 0;
  send(_to: string, p: Uint8Array): void {
    this.last = p;
    this.count++;
  }
  onPacket(fn: PacketHandler): void {
    this.handler = fn;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function dataPacket(size: number): Uint8Array {
  const src = encodeNodeId("m0");
  const dst = encodeNodeId("m1");
  const buf = new Uint8Array(headerSize(2, 2) + 6 + 5 + size);
  let p = writeHeader(buf, TYPE_DATA, src, dst, 1, 2, 1);
  p = writeDataFields(buf, p, 1, 1);
  writeWholeFrame(buf, p, 16, new Uint8Array(size));
  return buf;
}

/** Packets per second sealed by A and opened by B (one full round trip through the wrapper). */
async function micro(
  crypto: "auto" | "webcrypto",
  encrypt: boolean,
  mac: "gmac" | "hmac-sha256",
  size: number,
  ms: number,
): Promise<number> {
  const key = new Uint8Array(32).fill(5);
  const ta = new Sink();
  const tb = new Sink();
  const a = secureTransport(ta, { key, nodeId: "m0", encrypt, mac, crypto });
  const b = secureTransport(tb, { key, nodeId: "m1", encrypt, mac, crypto });
  let got = 0;
  b.onPacket(() => got++);
  const pkt = dataPacket(size);
  // Warm up (key derivation, JIT).
  a.send("x", pkt);
  while (ta.count === 0) await new Promise((r) => setTimeout(r, 1));
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < ms) {
    const before = ta.count;
    for (let i = 0; i < 256; i++) a.send("x", pkt);
    while (ta.count < before + 256) await new Promise((r) => setImmediate(r));
    const wire = ta.last!;
    const g = got;
    for (let i = 0; i < 256; i++) tb.handler!("x", wire);
    while (got < g + 256) await new Promise((r) => setImmediate(r));
    n += 256;
  }
  return n / ((performance.now() - start) / 1000);
}

const out: Record<string, unknown> = { load: loadavg()[0] };
await loadNodeCrypto();
const microRows: Record<string, unknown>[] = [];
for (const size of [100, 1400, 16_000, 64_000]) {
  for (const [encrypt, mac] of [[false, "gmac"], [false, "hmac-sha256"], [true, "gmac"]] as const) {
    const row: Record<string, unknown> = { size, alg: encrypt ? "aes-256-gcm" : mac };
    for (const c of ["auto", "webcrypto"] as const) {
      row[c === "auto" ? "node_pkts_per_s" : "webcrypto_pkts_per_s"] = Math.round(
        await micro(c, encrypt, mac, size, 400),
      );
    }
    microRows.push(row);
    console.error(JSON.stringify(row));
  }
}
out.micro = microRows;

if (!values["micro-only"]) {
  const keyText = btoa(String.fromCharCode(...new Uint8Array(32).map((_, i) => i + 1)));
  const modes = [
    { name: "none", key: undefined, encrypt: false, mac: undefined },
    { name: "gmac", key: keyText, encrypt: false, mac: "gmac" as const },
    { name: "hmac", key: keyText, encrypt: false, mac: "hmac-sha256" as const },
    { name: "aes-gcm", key: keyText, encrypt: true, mac: undefined },
  ];
  const flood: Record<string, number[]> = { none: [], gmac: [], hmac: [], "aes-gcm": [] };
  for (let t = 0; t < Number(values.trials); t++) {
    for (const m of modes) {
      const lines = await runMulticastBench({
        nodes: Number(values.nodes),
        senders: Number(values.senders),
        size: Number(values.size),
        count: Number(values.count),
        warmup: 1000,
        key: m.key,
        encrypt: m.encrypt,
        mac: m.mac,
        progress: () => {},
      });
      const rate = Math.min(...lines.map((l) => l.msgs_per_s as number));
      flood[m.name].push(Math.round(rate));
      console.error(
        `trial ${t} ${m.name}: ${Math.round(rate)} msgs/s (slowest member), load ${loadavg()[0].toFixed(1)}`,
      );
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  out.flood = {
    nodes: Number(values.nodes),
    senders: Number(values.senders),
    size: Number(values.size),
    count: Number(values.count),
    msgs_per_s: flood,
    median: Object.fromEntries(Object.entries(flood).map(([k, v]) => [k, median(v)])),
    loss_pct: Object.fromEntries(
      Object.entries(flood).filter(([k]) => k !== "none").map((
        [k, v],
      ) => [k, Math.round(1000 * (1 - median(v) / median(flood.none))) / 10]),
    ),
  };
}
out.load_end = loadavg()[0];
console.log(JSON.stringify(out, null, 2));
if (values.out !== undefined) {
  mkdirSync(dirname(resolve(values.out)), { recursive: true });
  writeFileSync(values.out, JSON.stringify(out, null, 2) + "\n");
}
process.exit(0);
