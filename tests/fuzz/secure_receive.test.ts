/**
 * The secure wrapper's receive path fed mutated valid packets and random bytes: it never throws,
 * never hands up anything that was not sent, and counts every drop (FUZZ_CASES share, FUZZ_SEED).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { encodeAck, encodeData, encodeNodeId } from "../../transport/codec.ts";
import type { PacketHandler, PacketTransport } from "../../transport/packet_transport.ts";
import { Random } from "../../base/random.ts";
import { loadNodeCrypto, secureTransport } from "../../transport/secure/secure.ts";
import { casesPerTarget, mutate, runSeed } from "./_fuzz.ts";

class Tap implements PacketTransport {
  readonly kind = "tap";
  readonly mtu = 1400;
  readonly addresses = ["tap://x"];
  sent: Uint8Array[] = [];
  handler: PacketHandler | undefined;
  send(_to: string, p: Uint8Array): void {
    this.sent.push(p.slice());
  }
  onPacket(fn: PacketHandler): void {
    this.handler = fn;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

beforeAll(async () => {
  expect(await loadNodeCrypto()).toBe(true);
});

describe("fuzz: secureTransport receive path", () => {
  for (const encrypt of [false, true]) {
    it(`mutated packets are dropped and counted, never thrown or handed up (encrypt=${encrypt})`, () => {
      const key = new Uint8Array(32).fill(4);
      const ta = new Tap();
      const tb = new Tap();
      const a = secureTransport(ta, { key, nodeId: "a", encrypt });
      const b = secureTransport(tb, { key, nodeId: "b", encrypt });
      const handed: Uint8Array[] = [];
      b.onPacket((_f, p) => handed.push(p.slice()));
      const originals = [
        encodeAck(encodeNodeId("a"), encodeNodeId("b"), 1, 2, 3, 10, [12, 14]),
        encodeData({ srcId: "a", dstId: "b", srcInc: 1, dstInc: 2, epoch: 3 }, 1, [
          { channel: 1, whole: true, msgId: 0, total: 5, offset: 0, bytes: new Uint8Array([1, 2, 3, 4, 5]) },
        ]),
      ];
      for (const o of originals) a.send("tap://b", o); // sync path: node:crypto is loaded
      expect(ta.sent.length).toBe(2);
      const corpus = ta.sent;
      const seed = runSeed(101 + Number(encrypt));
      const r = new Random(seed);
      const cases = Math.ceil(casesPerTarget(8) / 2);
      let unchanged = 0;
      try {
        for (let i = 0; i < cases; i++) {
          const m = mutate(r, corpus, 512);
          if (corpus.some((c) => c.length === m.length && c.every((x, j) => x === m[j]))) unchanged++;
          tb.handler!("tap://a", m);
        }
      } catch (e) {
        console.error(`fuzz failure — replay with FUZZ_SEED=${seed}`);
        throw e;
      }
      // Only byte-identical copies of what a sent may pass (duplicates, which the TM suppresses).
      expect(handed.length).toBe(unchanged);
      for (const h of handed) {
        expect(originals.some((o) => o.length === h.length && o.every((x, j) => x === h[j]))).toBe(true);
      }
      expect(b.stats.rejected + b.stats.accepted).toBe(cases);
    }, 600_000);
  }
});
