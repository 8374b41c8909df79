/**
 * The multicast benchmark: N member processes over UDP loopback form one ring, S of them send C
 * messages of B bytes each (flooding, or paced at R msgs/s per sender), and every member reports
 * what it delivered: rate, throughput, latency, FIFO and a hash of its delivery order.
 *
 *   npm run bench -- multicast --nodes N --senders S --size B --count C [--rate R]
 * @module
 */

import type { TimingOptions } from "../gcm/timing.ts";
import { type JsonChild, type JsonLine, killAll, startTs, waitUntil } from "../tools/json_child.ts";
import type { MemberConfig } from "./multicast_member.ts";
import { freeUdpPorts } from "../tools/ports.ts";

/** Options of one multicast benchmark run. */
export interface MulticastBenchOptions {
  nodes: number;
  senders: number;
  size: number;
  count: number;
  /** Messages per second per sender; 0 = flood. @default {0} */
  rate?: number;
  /** Most own messages a flooding sender keeps queued for the token. @default {4096} */
  backlog?: number;
  /**
   * Unmeasured messages each sender floods first, so that the measured run finds the members'
   * code compiled and their heaps grown (a cold run spends its first few hundred ms on that).
   * @default {0}
   */
  warmup?: number;
  /** Timing of the members (`TimingOptions`). @default {{ eatingMs: 1 }} */
  timing?: TimingOptions;
  /** Cluster key (key file text): every member wraps UDP in `secureTransport()`. @default {none} */
  key?: string;
  /** With `key`: encrypt (AES-256-GCM) instead of authenticating only. @default {false} */
  encrypt?: boolean;
  /** With `key`: the MAC when not encrypting. @default {"gmac"} */
  mac?: "gmac" | "hmac-sha256";
  /** Progress lines go here. @default {console.error} */
  progress?: (line: string) => void;
}

/** Runs the benchmark; resolves with one result line per member. */
export async function runMulticastBench(o: MulticastBenchOptions): Promise<JsonLine[]> {
  if (o.senders < 1 || o.senders > o.nodes) throw new RangeError("'senders' must be between 1 and 'nodes'");
  if (o.size < 16) throw new RangeError("'size' must be at least 16 bytes (the benchmark header)");
  const progress = o.progress ?? ((line: string) => console.error(line));
  const ports = await freeUdpPorts(o.nodes);
  const members: JsonChild[] = [];
  try {
    for (let index = 0; index < o.nodes; index++) {
      const config: MemberConfig = {
        index,
        ports,
        senders: o.senders,
        size: o.size,
        count: o.count,
        rate: o.rate ?? 0,
        backlog: o.backlog ?? 4096,
        warmup: o.warmup ?? 0,
        timing: o.timing ?? { eatingMs: 1 },
        key: o.key,
        encrypt: o.encrypt,
        mac: o.mac,
      };
      members.push(startTs(`m${index}`, "bench/multicast_member.ts", [JSON.stringify(config)]));
    }
    const joined = () => members.every((m) => m.lines.some((l) => l.event === "joined"));
    await waitUntil(members, joined, 30_000, () => "members did not form one ring");
    progress(
      `  ${o.nodes} members in one view; ${o.senders} sender(s) × ${o.count} × ${o.size} B ${
        o.rate ? `at ${o.rate}/s` : "flood"
      }`,
    );
    for (const m of members) m.write("warmup");
    const warm = () => members.every((m) => m.lines.some((l) => l.event === "warm"));
    await waitUntil(
      members,
      warm,
      60_000 + (o.senders * (o.warmup ?? 0)) / 5,
      () => "warm-up did not complete",
    );
    for (const m of members) m.write("go");
    const total = o.senders * o.count;
    const limitMs = 60_000 + (o.rate ? (o.count / o.rate) * 1000 : total / 5);
    const done = () => members.every((m) => m.lines.some((l) => l.event === "result"));
    await waitUntil(members, done, limitMs, () => "not every member delivered every message");
    const results = members.map((m) => m.lines.find((l) => l.event === "result")!);
    for (const m of members) m.write("quit");
    await waitUntil(members, () => members.every((m) => m.exited), 5_000, () => "members did not quit").catch(
      () => {},
    );
    return results;
  } finally {
    await killAll(members);
  }
}
