/**
 * The two-packet takeover of issue 17, against three `raincore node` processes without a key: a
 * DATA packet for incarnation 0 makes a member reveal its incarnation in a HELLO, then packets
 * claiming to be `p1` with incarnation 2^53−1 used to make `p2`/`p3` fail everything towards the
 * real p1 and address it by that incarnation forever (measured before the fix: 30 view changes in
 * 30 s, and the group never came back). Now a claimed incarnation is only a reason to probe the
 * real p1, so the group must not notice at all. Then a smarter forger that answers the probes at
 * its own address, claiming an older incarnation of p1: that is a conflict the real p1 (at its
 * configured address) wins, and it must keep running.
 *
 * Long mode: `ADVERSARIAL_SECONDS=600` attacks for ten minutes.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  decodePacket,
  encodeAck,
  encodeData,
  encodeHello,
  encodeNodeId,
  encodeProbeReply,
  MAX_INCARNATION,
  type Packet,
  TYPE_HELLO,
  TYPE_PROBE,
} from "../../transport/codec.ts";
import { attackSeconds, budgetMs, NodeCluster, RawUdp, rssMb, RssSampler } from "./_cluster.ts";

const SECONDS = attackSeconds(5);
const FORGED = MAX_INCARNATION - 1;
let cluster: NodeCluster | undefined;
let attacker: RawUdp | undefined;
afterEach(async () => {
  await cluster?.close();
  await attacker?.close();
  cluster = attacker = undefined;
});

function decode(bytes: Uint8Array): Packet | undefined {
  try {
    return decodePacket(bytes, { maxMessageBytes: 1 << 26 });
  } catch {
    return undefined;
  }
}

/** The incarnation of the node at `port`, as its HELLO to a DATA for incarnation 0 reveals it. */
async function revealIncarnation(raw: RawUdp, id: string, port: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    raw.send(port, forgedData("x", id, 1, 0, 1));
    const hello = await new Promise<Packet | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 100);
      raw.onMessage((bytes) => {
        const p = decode(bytes);
        if (p?.type === TYPE_HELLO && p.srcId === id) {
          clearTimeout(timer);
          resolve(p);
        }
      });
    });
    if (hello !== undefined) return hello.srcInc;
  }
  throw new Error(`${id} never answered with a HELLO`);
}

function forgedData(src: string, dst: string, srcInc: number, dstInc: number, seq: number): Uint8Array {
  return encodeData({ srcId: src, dstId: dst, srcInc, dstInc, epoch: 1 }, seq, [
    { channel: 16, whole: true, msgId: 0, total: 4, offset: 0, bytes: new Uint8Array([1, 2, 3, 4]) },
  ]);
}

describe("forged incarnations against raincore node processes (no key)", () => {
  it(
    `two forged packets, repeated for ${SECONDS} s: no view change, and a forger answering probes cannot evict p1`,
    async () => {
      const ids = ["p1", "p2", "p3"];
      cluster = await NodeCluster.start(ids);
      await cluster.oneView(ids, 30_000);
      attacker = await RawUdp.open();
      const raw = attacker;
      const incs = new Map<string, number>();
      for (const id of ["p2", "p3"]) incs.set(id, await revealIncarnation(raw, id, cluster.port(id)));
      const baseline = new Map(cluster.pids().map((pid) => [pid, rssMb(pid)]));
      const sampler = new RssSampler(cluster.pids());
      const marks = new Map(ids.map((id) => [id, cluster!.node(id).lines.length]));

      // Phase 1: the attack, every 50 ms, with every packet type that carries a claim.
      const p1 = encodeNodeId("p1");
      const until = Date.now() + SECONDS * 1000;
      for (let seq = 1; Date.now() < until; seq++) {
        for (const id of ["p2", "p3"]) {
          const inc = incs.get(id)!;
          const port = cluster.port(id);
          raw.send(port, forgedData("p1", id, FORGED, inc, seq));
          raw.send(port, encodeHello(p1, encodeNodeId(id), FORGED, inc, 1));
          raw.send(port, encodeAck(p1, encodeNodeId(id), FORGED, inc, 1, seq, []));
        }
        await new Promise((r) => setTimeout(r, 50)); // the attack's pace
      }
      // At most one view change per member to spare a loaded machine a spurious suspicion; the
      // unfixed code flapped through one every second and never re-formed.
      for (const id of ids) expect(cluster.viewsSince(id, marks.get(id)!), id).toBeLessThanOrEqual(1);
      await cluster.oneView(ids, 10_000);

      // Phase 2: the forger answers probes as p1 with incarnation 1 (older than the real one).
      raw.onMessage((bytes, port) => {
        const p = decode(bytes);
        if (p?.type !== TYPE_PROBE || p.dstId !== "p1") return;
        raw.send(
          port,
          encodeProbeReply(p1, encodeNodeId(p.srcId), 1, p.srcInc, {
            nonce: p.nonce,
            epoch: 1,
            baseSeq: 1,
            window: 256,
            otherInc: 0,
            refused: false,
          }),
        );
      });
      for (let seq = 1; seq < 40; seq++) {
        for (const id of ["p2", "p3"]) {
          raw.send(cluster.port(id), forgedData("p1", id, 1, incs.get(id)!, seq));
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      const conflictAt = (id: string) =>
        cluster!.node(id).lines.find((l) => l.event === "conflict" && l.nodeId === "p1");
      await cluster.node("p1").waitFor((l) => l.event === "conflict" && l.self === true, 10_000);
      const seenByPeer = conflictAt("p2") ?? conflictAt("p3");
      expect(seenByPeer).toMatchObject({
        self: false,
        refused: false,
        incarnations: [1, expect.any(Number)],
      });
      // The real p1 answers at its configured address: it is the one kept, so it stays.
      expect(conflictAt("p1")).toMatchObject({ self: true, refused: false });
      expect(cluster.node("p1").exited).toBe(false);
      await cluster.oneView(ids, 10_000);

      const peaks = sampler.stop();
      const growth = [...peaks].map(([pid, peak]) => peak - baseline.get(pid)!);
      console.log(`RSS growth during the attack (MB): ${growth.map((g) => g.toFixed(1)).join(", ")}`);
      for (const g of growth) expect(g).toBeLessThan(40);
    },
    budgetMs(SECONDS + 20),
  );
});
