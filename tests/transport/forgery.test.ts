/**
 * The Transport Manager without a key, against forged packets (in the simulator, so every run is
 * exact): what a packet claims about a peer's incarnation or session is only a reason to probe,
 * strangers cost bounded memory and work, and two live processes with one node ID are reported by
 * everyone involved. Each scenario keeps a steady exchange between two honest managers going and
 * checks that not one of its messages fails or goes missing.
 */
import { describe, expect, it } from "vitest";
import {
  decodePacket,
  encodeAck,
  encodeData,
  encodeHello,
  encodeNodeId,
  MAX_INCARNATION,
  TYPE_HELLO,
} from "../../transport/codec.ts";
import type { IncarnationConflict } from "../../transport/peer_rounds.ts";
import type { TransportManager } from "../../transport/manager.ts";
import type { MemoryTransport } from "../../transport/backends/memory.ts";
import { answerProbes, runUntil, simCluster } from "./_helpers.ts";

const FORGED_INC = MAX_INCARNATION - 1;

/** a and b exchanging a message each way every 10 ms; counts what failed and what arrived. */
function steadyPair(seed: number, opts: Parameters<ReturnType<typeof simCluster>["start"]>[2] = {}) {
  const cluster = simCluster(seed, { delayMs: { min: 1, max: 3 } });
  const { clock, net, start } = cluster;
  const a = start("a", ["mem://a"], opts);
  const b = start("b", ["mem://b"], opts);
  a.setAddresses("b", ["mem://b"]);
  b.setAddresses("a", ["mem://a"]);
  const flow = { sent: 0, failed: [] as string[], arrived: 0 };
  a.onMessage(1, () => flow.arrived++);
  b.onMessage(1, () => flow.arrived++);
  let running = true;
  const tick = () => {
    if (!running) return;
    for (const [from, to] of [[a, "b"], [b, "a"]] as const) {
      flow.sent++;
      from.post(
        to,
        1,
        new Uint8Array(100),
        (e) => e && flow.failed.push(`${from.nodeId}>${to}: ${e.message}`),
      );
    }
    clock.setTimer(10, tick);
  };
  tick();
  const evil = net.createTransport("mem://evil");
  const stop = async () => {
    running = false;
    await runUntil(clock, () => flow.arrived === flow.sent, 5_000);
  };
  return { ...cluster, a, b, evil, flow, stop };
}

/** Learns a manager's incarnation the way the attacker did: a DATA for incarnation 0 draws a HELLO. */
async function learnIncarnation(
  clock: ReturnType<typeof simCluster>["clock"],
  evil: MemoryTransport,
  target: TransportManager,
): Promise<number> {
  let inc = 0;
  evil.onPacket((_from, bytes) => {
    const p = decodePacket(bytes, { maxMessageBytes: 1 << 20 });
    if (p.type === TYPE_HELLO && p.srcId === target.nodeId) inc = p.srcInc;
  });
  evil.send(`mem://${target.nodeId}`, data("x", target.nodeId, 1, 0, 1, 1));
  await runUntil(clock, () => inc !== 0, 1000);
  return inc;
}

function data(src: string, dst: string, srcInc: number, dstInc: number, epoch: number, seq: number) {
  return encodeData({ srcId: src, dstId: dst, srcInc, dstInc, epoch }, seq, [
    { channel: 1, whole: true, msgId: 0, total: 3, offset: 0, bytes: new Uint8Array([6, 6, 6]) },
  ]);
}

describe("forged incarnations and sessions (no key)", () => {
  it("the two-packet attack: a forged 'a' with incarnation 2^53−1 changes nothing at b", async () => {
    const { clock, a, b, evil, flow, stop } = steadyPair(1);
    await runUntil(clock, () => b.incarnationOf("a") !== undefined && flow.arrived > 10, 2_000);
    const bInc = await learnIncarnation(clock, evil, b);
    expect(bInc).toBe(b.incarnation);
    for (let i = 0; i < 50; i++) {
      // Every packet type that names a's incarnation, and a forged session of the real one.
      evil.send("mem://b", data("a", "b", FORGED_INC, bInc, 1, 1 + i));
      evil.send("mem://b", encodeHello(encodeNodeId("a"), encodeNodeId("b"), FORGED_INC, bInc, 1));
      evil.send("mem://b", encodeAck(encodeNodeId("a"), encodeNodeId("b"), FORGED_INC, bInc, 1, 5, []));
      evil.send("mem://b", data("a", "b", a.incarnation, bInc, 4242, 1 + i));
      await runUntil(clock, () => false, 20);
    }
    await stop();
    expect(flow.failed).toEqual([]);
    expect(flow.arrived).toBe(flow.sent);
    expect(b.incarnationOf("a")).toBe(a.incarnation);
    // The forged DATA was held while b asked, then dropped — never handed up.
    await runUntil(clock, () => b.heldBytes === 0, 10_000);
    expect(b.stats.unconfirmedDropped).toBe(100);
    // b asked a (one round per rate-limit interval at most), and a said who it is.
    expect(b.stats.probesSent).toBeGreaterThan(0);
    expect(b.stats.probesSent).toBeLessThan(200);
  });

  it("a forger that answers probes at its own address is a conflict the real 'a' wins, and both hear of it", async () => {
    const { clock, a, b, evil, flow, stop } = steadyPair(2);
    const atB: IncarnationConflict[] = [];
    const atA: IncarnationConflict[] = [];
    b.onConflict((c) => atB.push(c));
    a.onConflict((c) => atA.push(c));
    await runUntil(clock, () => b.incarnationOf("a") !== undefined, 2_000);
    const bInc = await learnIncarnation(clock, evil, b);
    answerProbes(evil, () => ({ id: "a", inc: FORGED_INC, epoch: 9 }));
    for (let i = 0; i < 20; i++) {
      evil.send("mem://b", data("a", "b", FORGED_INC, bInc, 9, 1 + i));
      await runUntil(clock, () => false, 20);
    }
    await stop();
    expect(flow.failed).toEqual([]);
    expect(b.incarnationOf("a")).toBe(a.incarnation);
    expect(atB).toEqual([{
      nodeId: "a",
      incarnations: [a.incarnation, FORGED_INC],
      self: false,
      kept: a.incarnation,
      refused: false,
      reportedBy: "b",
    }]);
    // b told the real a (CONFLICT), a probed b, and b's answer said a is the one it keeps.
    expect(atA).toEqual([{
      nodeId: "a",
      incarnations: [a.incarnation, FORGED_INC],
      self: true,
      kept: a.incarnation,
      refused: false,
      reportedBy: "b",
    }]);
  });
});

describe("strangers cost bounded memory and work (no key)", () => {
  it("20,000 packets from made-up node IDs: at most maxUnknownPeers entries, all gone after peerIdleMs", async () => {
    const opts = { maxUnknownPeers: 64, peerIdleMs: 5_000, strangerBudgetPerSecond: 500 };
    const { clock, b, evil, flow, stop } = steadyPair(3, opts);
    const bInc = await learnIncarnation(clock, evil, b);
    const probesBefore = b.stats.probesSent;
    let most = 0;
    for (let i = 0; i < 20_000; i++) {
      evil.send("mem://b", data(`forged-${i}`, "b", 1 + i, bInc, 1, 1));
      if (i % 20 === 19) {
        await runUntil(clock, () => false, 1); // 20,000 packets per second of virtual time
        most = Math.max(most, b.peerCount);
      }
    }
    await stop();
    expect(flow.failed).toEqual([]);
    expect(most).toBeLessThanOrEqual(1 + 1 + 64); // a, the earlier stranger "x", the strangers
    expect(b.heldBytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    // Probes to strangers are bounded by the budget: 500/s (+ a burst of 500) over ~1 s.
    expect(b.stats.probesSent - probesBefore).toBeLessThan(500 * 2 + 500 + 100);
    expect(b.stats.strangerBudgetExceeded).toBeGreaterThan(10_000);
    await runUntil(clock, () => b.peerCount === 1, 10_000);
    expect(b.peerCount).toBe(1);
    expect(b.stats.peersForgotten).toBeGreaterThan(0);
  });

  it("first fragments of '64 MiB messages' from 96 forged senders hold no reassembly memory", async () => {
    const { clock, b, evil, flow, stop } = steadyPair(4, { strangerBudgetPerSecond: 10_000 });
    const bInc = await learnIncarnation(clock, evil, b);
    const firstFragment = (src: string, inc: number, epoch: number) =>
      encodeData({ srcId: src, dstId: "b", srcInc: inc, dstInc: bInc, epoch }, 1, [
        { channel: 1, whole: false, msgId: 1, total: 64 << 20, offset: 0, bytes: new Uint8Array(1300) },
      ]);
    for (let i = 0; i < 96; i++) evil.send("mem://b", firstFragment(`big-${i}`, 1, 1));
    await runUntil(clock, () => false, 10);
    // Unconfirmed senders: their packets are held (a copy each, bounded) while b probes, and
    // dropped when nobody answers.
    expect(b.heldBytes).toBeGreaterThan(0);
    expect(b.heldBytes).toBeLessThan(96 * 1400);
    await runUntil(clock, () => b.heldBytes === 0, 10_000);
    expect(b.heldBytes).toBe(0);
    expect(b.reassemblyBytes).toBe(0);
    expect(b.stats.unconfirmedDropped).toBe(96);
    // Now the forger answers probes for every ID, so its sessions are confirmed: reassembly holds
    // what arrived (96 × 1,300 bytes), not 96 × 64 MiB.
    const answered = answerProbes(evil, (id) => ({ id, inc: 1, epoch: 1 }));
    for (let i = 0; i < 96; i++) evil.send("mem://b", firstFragment(`big-${i}`, 1, 1));
    await runUntil(clock, () => false, 2_000);
    expect(answered()).toBeGreaterThanOrEqual(96);
    expect(b.reassemblyBytes).toBe(96 * 1300);
    await stop();
    expect(flow.failed).toEqual([]);
  });
});

describe("one node ID, one process", () => {
  it("a second live process with a's ID is refused by b, and both a's are told which one b keeps", async () => {
    const { clock, a, b, flow, stop, start } = steadyPair(5);
    const conflicts = new Map<string, IncarnationConflict[]>([["a", []], ["b", []], ["a2", []]]);
    a.onConflict((c) => conflicts.get("a")!.push(c));
    b.onConflict((c) => conflicts.get("b")!.push(c));
    await runUntil(clock, () => flow.arrived > 10, 2_000);
    // The operator starts another "a" elsewhere, configured like the first (it knows b).
    const a2 = start("a", ["mem://a2"]);
    a2.onConflict((c) => conflicts.get("a2")!.push(c));
    a2.setAddresses("b", ["mem://b"]);
    let a2Delivered = 0;
    b.onMessage(2, () => a2Delivered++);
    const a2Sends: Array<Error | undefined> = [];
    for (let i = 0; i < 5; i++) a2.post("b", 2, new Uint8Array(10), (e) => a2Sends.push(e));
    await runUntil(clock, () => conflicts.get("a2")!.length > 0 && conflicts.get("a")!.length > 0, 5_000);
    await runUntil(clock, () => a2Sends.length === 5, 10_000);
    await stop();
    const incs = [a.incarnation, a2.incarnation].sort((x, y) => x - y);
    expect(conflicts.get("b")).toEqual([{
      nodeId: "a",
      incarnations: incs,
      self: false,
      kept: a.incarnation,
      refused: false,
      reportedBy: "b",
    }]);
    expect(conflicts.get("a")).toEqual([{
      nodeId: "a",
      incarnations: incs,
      self: true,
      kept: a.incarnation,
      refused: false,
      reportedBy: "b",
    }]);
    expect(conflicts.get("a2")).toEqual([{
      nodeId: "a",
      incarnations: incs,
      self: true,
      kept: a.incarnation,
      refused: true,
      reportedBy: "b",
    }]);
    // b never took the second process for a: nothing of it was handed up, its sends failed, and
    // the first a's exchange with b went on untouched.
    expect(a2Delivered).toBe(0);
    expect(a2Sends.every((e) => e !== undefined)).toBe(true);
    expect(flow.failed).toEqual([]);
    expect(b.incarnationOf("a")).toBe(a.incarnation);
    await a2.close();
  });
});
