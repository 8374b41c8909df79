/**
 * One member of the multicast benchmark, as its own OS process (started by bench/multicast.ts):
 * joins the ring over UDP, reports `joined` once its view has every member, on `warmup` floods its
 * unmeasured warm-up share and reports `warm` once it delivered every sender's, waits for `go` on
 * stdin, multicasts its share (flooding or paced), and prints one result line when it has
 * delivered every message of every sender.
 * @module
 */

import type { TimingOptions } from "../gcm/timing.ts";
import { startMember } from "../runtime/member.ts";
import { emitLine, epochMs } from "../runtime/json_out.ts";
import { forEachStdinLine } from "../runtime/lines.ts";
import { parseKeyFile } from "../transport/secure/key_file.ts";
import { loadNodeCrypto, secureTransport } from "../transport/secure/secure.ts";
import { createUdpTransport } from "../transport/backends/udp.ts";
import { Fnv64 } from "./fnv.ts";

/** Configuration of one member, passed as a JSON argument by the coordinator. */
export interface MemberConfig {
  index: number;
  ports: number[];
  senders: number;
  size: number;
  count: number;
  /** Messages per second per sender; 0 = flood. */
  rate: number;
  /** Most own messages waiting for the token while flooding. */
  backlog: number;
  /** Unmeasured messages per sender, flooded before `go` (JIT and heap warm-up). */
  warmup: number;
  /** Timing of the member. */
  timing: TimingOptions;
  /** Cluster key file text: packets go through `secureTransport()` (bench/security.ts). */
  key?: string;
  /** With `key`: AES-256-GCM instead of a MAC only. */
  encrypt?: boolean;
  /** With `key`: the MAC when not encrypting (see SecureTransportOptions.mac). */
  mac?: "gmac" | "hmac-sha256";
}

const HEADER_BYTES = 16; // sender index u32, seq u32, send time f64

/** Runs one benchmark member; never returns (the coordinator kills or awaits the process). */
export async function runMember(c: MemberConfig): Promise<void> {
  const ids = c.ports.map((_, i) => `m${i}`);
  const peers: Record<string, string[]> = {};
  ids.forEach((id, i) => (peers[id] = [`udp://127.0.0.1:${c.ports[i]}`]));
  const udp = await createUdpTransport({ port: c.ports[c.index], mtu: 65_000 });
  if (c.key !== undefined) await loadNodeCrypto();
  const { gcm } = startMember({
    id: ids[c.index],
    transports: [
      c.key === undefined ? udp : secureTransport(udp, {
        key: parseKeyFile(c.key),
        nodeId: ids[c.index],
        encrypt: c.encrypt,
        mac: c.mac,
      }),
    ],
    peers,
    timing: c.timing,
  });
  const isSender = c.index < c.senders;
  const expected = c.senders * c.count;
  const nextSeq = new Array<number>(c.senders).fill(0);
  const latencies = new Float64Array(expected);
  const hash = new Fnv64();
  const sentAt = new Float64Array(1);
  const sentAtBytes = new Uint8Array(sentAt.buffer);
  let delivered = 0;
  let warmDelivered = 0;
  let fifoOk = true;
  let goAt = 0;

  gcm.on("view", (v) => {
    if (v.members.length === ids.length) emitLine("joined", { index: v.index });
  });
  gcm.on("deliver", (d) => {
    // Every warm-up message is delivered everywhere before the coordinator says `go`.
    if (goAt === 0) {
      if (++warmDelivered === c.senders * c.warmup) emitLine("warm");
      return;
    }
    // Plain byte reads (a DataView per message was a tenth of this handler's time).
    const b = d.data;
    const sender = b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
    const seq = (b[4] | (b[5] << 8) | (b[6] << 16) | (b[7] << 24)) >>> 0;
    if (seq !== nextSeq[sender]) fifoOk = false;
    nextSeq[sender] = seq + 1;
    hash.addWord(sender);
    hash.addWord(seq);
    for (let k = 0; k < 8; k++) sentAtBytes[k] = b[8 + k]; // no subarray: an object per message
    latencies[delivered++] = epochMs() - sentAt[0];
    if (delivered === expected) finish();
  });

  const finish = () => {
    const elapsed = (epochMs() - goAt) / 1000;
    const sorted = latencies.slice(0, delivered).sort();
    emitLine("result", {
      impl: "raincore",
      node: c.index,
      sender: isSender ? 1 : 0,
      senders: c.senders,
      size: c.size,
      delivered,
      elapsed_s: elapsed,
      msgs_per_s: delivered / elapsed,
      MB_per_s: (delivered * c.size) / elapsed / 1e6,
      lat_ms_p50: sorted[Math.floor(sorted.length * 0.5)],
      lat_ms_p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))],
      fifo_ok: fifoOk,
      order_hash: hash.hex(),
      packets_sent: udp.stats.packetsSent,
      warmup: c.warmup,
      // CPU of this process while measuring, per message it delivered (user + system, µs).
      cpu_us_per_msg: cpuSince(cpuAtGo) / delivered,
    });
  };

  let cpuAtGo = process.cpuUsage();
  const cpuSince = (at: { user: number; system: number }) => {
    const d = process.cpuUsage(at);
    return d.user + d.system;
  };
  const payload = new Uint8Array(Math.max(c.size, HEADER_BYTES));
  const header = new DataView(payload.buffer);
  header.setUint32(0, c.index, true);
  /** Messages handed to the GCM: `warmup` unmeasured ones, then up to `count` measured ones. */
  let queued = 0;
  /** How many of them the current phase allows. */
  let quota = 0;
  const sendOne = () => {
    header.setUint32(4, queued < c.warmup ? queued : queued - c.warmup, true);
    header.setFloat64(8, epochMs(), true);
    queued++;
    gcm.multicast(payload); // the GCM copies it
  };
  // Flooding tops the backlog up whenever the token took queued messages, not in a polling loop:
  // a loop that reschedules itself (setImmediate) spins every member at 100 % CPU and takes the
  // cores from the token holder, so each hop waited for a scheduler tick (measured: 4 ms steps).
  // The `token` event comes after the visit appended its batch; the refill runs after the token
  // was handed on.
  let flooding = false;
  const flood = () => {
    while (queued < quota && gcm.core.multicast.pending < c.backlog) sendOne();
  };
  if (isSender) {
    gcm.on("token", () => {
      if (flooding && queued < quota) setImmediate(flood);
    });
  }
  const total = c.warmup + c.count;
  const paced = () => {
    const due = c.warmup + Math.min(c.count, Math.floor(((epochMs() - goAt) * c.rate) / 1000));
    while (queued < due) sendOne();
    if (queued < total) setTimeout(paced, 1);
  };

  await forEachStdinLine((line) => {
    if (line === "quit") process.exit(0);
    if (line === "warmup" && quota === 0) {
      if (c.senders * c.warmup === 0) emitLine("warm");
      if (!isSender) return;
      quota = c.warmup;
      flooding = true;
      flood();
      return;
    }
    if (line !== "go" || goAt !== 0) return;
    goAt = epochMs();
    cpuAtGo = process.cpuUsage();
    if (!isSender) return;
    quota = total;
    flooding = c.rate === 0;
    (flooding ? flood : paced)();
  });
}

await runMember(JSON.parse(process.argv[2]) as MemberConfig);
