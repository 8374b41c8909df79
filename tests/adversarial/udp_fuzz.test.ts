/**
 * UDP fuzzing of a live cluster: three `raincore node` processes talk through a relay that records
 * their real packets (tokens, acks, probes); a fuzzer mutates them — bit flips, overwritten header
 * fields (incarnations, epochs, sequence numbers), truncations, extensions, splices, random bytes —
 * and sends them to p2 at about 20,000 packets/s, without a key and with one (where it also replays
 * the recorded packets unchanged). Before the fix, such traffic at 5,000–20,000 packets/s expelled
 * the target after 1.3 s and it had not rejoined 15 s after the traffic stopped. Now each run
 * asserts p2's RSS growth and that the three are in one view again within 20 s of the last packet.
 *
 * Long mode: `ADVERSARIAL_PACKETS=10000000`.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Random } from "../../base/random.ts";
import { freeUdpPorts } from "../../tools/ports.ts";
import { UdpRelay } from "../../tools/udp_relay.ts";
import { until } from "../helpers/until.ts";
import { attackPackets, budgetMs, NodeCluster, RawUdp, rssMb, RssSampler } from "./_cluster.ts";

const RATE = 20_000;
const IDS = ["p1", "p2", "p3"];
let cluster: NodeCluster | undefined;
let relay: UdpRelay | undefined;
let attacker: RawUdp | undefined;
afterEach(async () => {
  await cluster?.close();
  await relay?.close();
  await attacker?.close();
  cluster = relay = attacker = undefined;
});

/** One mutation of a recorded packet (or, rarely, random bytes). */
function mutate(random: Random, packets: readonly Uint8Array[], replayAsIs: boolean): Uint8Array {
  const pick = () => packets[random.int(packets.length)];
  const kind = random.int(replayAsIs ? 7 : 6);
  const p = pick().slice();
  switch (kind) {
    case 0: // flip a few bits anywhere
      for (let n = 1 + random.int(4); n > 0; n--) p[random.int(p.length)] ^= 1 << random.int(8);
      return p;
    case 1: { // overwrite 1–8 bytes of the first 64 (IDs, incarnations, epoch, seq, first frame)
      const at = random.int(Math.min(64, p.length));
      for (let i = at; i < Math.min(p.length, at + 1 + random.int(8)); i++) p[i] = random.int(256);
      return p;
    }
    case 2: // truncate
      return p.subarray(0, random.int(p.length));
    case 3: { // extend with junk
      const out = new Uint8Array(p.length + 1 + random.int(64));
      out.set(p);
      for (let i = p.length; i < out.length; i++) out[i] = random.int(256);
      return out;
    }
    case 4: { // splice the head of one packet onto the tail of another
      const q = pick();
      const cut = random.int(Math.min(p.length, q.length));
      const out = new Uint8Array(cut + (q.length - cut));
      out.set(p.subarray(0, cut));
      out.set(q.subarray(cut), cut);
      return out;
    }
    case 5: // random bytes
      return new Uint8Array(1 + random.int(1400)).map(() => random.int(256));
    default: // a replay, byte for byte
      return p;
  }
}

async function fuzz(keyed: boolean, count: number) {
  let keyFile: string | undefined;
  if (keyed) {
    keyFile = join(mkdtempSync(join(tmpdir(), "raincore-fuzz-")), "cluster.key");
    writeFileSync(keyFile, btoa(String.fromCharCode(...new Uint8Array(32).map((_, i) => 7 * i + 3))) + "\n");
  }
  const recorded: Uint8Array[] = [];
  const ports = await freeUdpPorts(IDS.length);
  const r = await UdpRelay.open(IDS, ports);
  relay = r;
  r.tap = (_src, _dst, packet) => {
    if (recorded.length < 5_000) recorded.push(new Uint8Array(packet));
  };
  cluster = await NodeCluster.start(IDS, {
    ports,
    extra: () => keyFile === undefined ? [] : ["--key-file", keyFile],
    peers: (id) => r.peerFlags(id),
  });
  await cluster.oneView(IDS, 30_000);
  // Let it record some traffic: a few multicasts besides the token.
  for (let i = 0; i < 20; i++) cluster.node(IDS[i % 3]).write(`send fuzz-seed-${i}`);
  await cluster.node("p2").waitFor((l) => l.event === "deliver" && l.data === "fuzz-seed-19", 10_000);
  await until("300 recorded packets", 10_000, () => recorded.length >= 300);
  attacker = await RawUdp.open();
  const pid = cluster.node("p2").process.pid!;
  const baseline = rssMb(pid);
  const sampler = new RssSampler([pid]);
  const random = new Random(keyed ? 2 : 1);
  const rate = await attacker.flood(cluster.port("p2"), count, RATE, () => mutate(random, recorded, keyed));
  await cluster.oneView(IDS, 20_000);
  const growth = sampler.stop().get(pid)! - baseline;
  return { growth, rate, recorded: recorded.length };
}

describe("UDP fuzzing at ~20,000 packets/s", () => {
  const count = attackPackets(100_000);
  for (const keyed of [false, true]) {
    it(
      `${count} mutated recorded packets ${keyed ? "with" : "without"} a key: bounded memory, one view after`,
      async () => {
        const { growth, rate, recorded } = await fuzz(keyed, count);
        console.log(
          `fuzz ${keyed ? "keyed" : "no key"}: ${count} packets from ${recorded} recorded at ${
            rate.toFixed(0)
          }/s, ` +
            `p2 RSS +${growth.toFixed(1)} MB`,
        );
        expect(growth).toBeLessThan(90);
      },
      budgetMs(count / RATE + 60),
    );
  }
});
