import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../base/clock.ts";
import { encodeData } from "../../transport/codec.ts";
import { ClosedError } from "../../base/errors.ts";
import { DeliveryFailedError, MessageTooLargeError, UnknownNodeError } from "../../transport/errors.ts";
import { TransportManager } from "../../transport/manager.ts";
import { SimNetwork } from "../../transport/backends/memory.ts";
import { Random } from "../../base/random.ts";
import { answerProbes, pattern, runUntil, simCluster, track } from "./_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function inbox(tm: TransportManager, channel: number): Array<[string, string]> {
  const got: Array<[string, string]> = [];
  tm.onMessage(channel, (from, m) => got.push([from, dec.decode(m)]));
  return got;
}

describe("TransportManager", () => {
  it("delivers a message and resolves after the ack", async () => {
    const { clock, start } = simCluster(1, { delayMs: { min: 5, max: 5 } });
    const a = start("a");
    const b = start("b");
    const got = inbox(b, 1);
    a.setAddresses("b", ["mem://b"]);
    const s = track(clock, a.send("b", 1, enc.encode("hello")));
    expect(await runUntil(clock, () => s.settled, 10_000)).toBe(true);
    expect(s.state).toBe("resolved");
    expect(got).toEqual([["a", "hello"]]);
    // First contact costs one extra round trip (HELLO) to learn b's incarnation: 4 one-way trips.
    expect(clock.now()).toBe(20);
  });

  it("keeps channels apart and serves several managers at once", async () => {
    const { clock, start } = simCluster(2, { delayMs: { min: 1, max: 3 } });
    const ids = ["a", "b", "c"];
    const tms = ids.map((id) => start(id));
    const boxes = tms.map((tm) => [inbox(tm, 0), inbox(tm, 65535)]);
    const sends: Array<ReturnType<typeof track>> = [];
    for (const tm of tms) {
      for (const to of ids) {
        if (to === tm.nodeId) continue;
        tm.setAddresses(to, [`mem://${to}`]);
        sends.push(track(clock, tm.send(to, 0, enc.encode(`${tm.nodeId}>${to}:0`))));
        sends.push(track(clock, tm.send(to, 65535, enc.encode(`${tm.nodeId}>${to}:max`))));
      }
    }
    await runUntil(clock, () => sends.every((s) => s.settled), 10_000);
    expect(sends.every((s) => s.state === "resolved")).toBe(true);
    ids.forEach((id, i) => {
      const others = ids.filter((x) => x !== id);
      expect(boxes[i][0].map(([f, m]) => `${f}|${m}`).sort()).toEqual(others.map((o) => `${o}|${o}>${id}:0`));
      expect(boxes[i][1].map(([f, m]) => `${f}|${m}`).sort()).toEqual(
        others.map((o) => `${o}|${o}>${id}:max`),
      );
    });
  });

  it("carries a 16 MiB message intact, exactly once, in a bounded window", async () => {
    const { clock, net, start } = simCluster(3, { delayMs: { min: 1, max: 2 } });
    const a = start("a");
    const b = start("b");
    const got: Uint8Array[] = [];
    b.onMessage(9, (_from, m) => got.push(m));
    a.setAddresses("b", ["mem://b"]);
    const big = pattern(16 * 1024 * 1024 + 7, 42);
    const small = track(clock, a.send("b", 9, enc.encode("after")));
    const s = track(clock, a.send("b", 9, big));
    await runUntil(clock, () => s.settled && small.settled, 600_000);
    expect(s.state).toBe("resolved");
    expect(small.state).toBe("resolved");
    expect(got.length).toBe(2);
    const whole = got.find((m) => m.length === big.length);
    expect(whole).toBeDefined();
    expect(Buffer.from(whole!).equals(Buffer.from(big))).toBe(true);
    // Fragmented to the mtu: at least size / 1400 packets went over the network…
    expect(a.stats.packetsSent).toBeGreaterThan(big.length / 1400);
    expect(net.stats.delivered).toBeGreaterThan(big.length / 1400);
    // …and while the message was arriving, b acknowledged every fourth packet, not each.
    expect(b.stats.packetsSent).toBeLessThan(a.stats.packetsSent / 3);
  }, 60_000);

  it("reassembles large messages atomically under loss, duplication and reordering", async () => {
    const { clock, start } = simCluster(4, {
      loss: 0.2,
      duplicate: 0.1,
      reorder: 0.3,
      delayMs: { min: 1, max: 10 },
    });
    const a = start("a", undefined, { retries: 20 });
    const b = start("b");
    const got: Uint8Array[] = [];
    b.onMessage(1, (_f, m) => got.push(m));
    a.setAddresses("b", ["mem://b"]);
    const msgs = [0, 1, 1399, 1400, 5000, 100_000, 300_001].map((n, i) => pattern(n, i));
    const sends = msgs.map((m) => track(clock, a.send("b", 1, m)));
    await runUntil(clock, () => sends.every((s) => s.settled), 600_000);
    expect(sends.map((s) => s.state)).toEqual(msgs.map(() => "resolved"));
    expect(got.length).toBe(msgs.length);
    const key = (m: Uint8Array) => Buffer.from(m).toString("base64");
    expect(got.map(key).sort()).toEqual(msgs.map(key).sort());
  });

  it("stays live with a reassembly limit of 1 under heavy reordering", async () => {
    const { clock, start } = simCluster(18, { loss: 0.05, reorder: 0.6, delayMs: { min: 1, max: 20 } });
    const a = start("a", undefined, { retries: 10 });
    const b = start("b", undefined, { maxReassembliesPerPeer: 1 });
    let count = 0;
    b.onMessage(0, () => count++);
    a.setAddresses("b", ["mem://b"]);
    const sends = Array.from(
      { length: 200 },
      (_, i) => track(clock, a.send("b", 0, pattern(1500 + ((i * 997) % 3000), i))),
    );
    await runUntil(clock, () => sends.every((s) => s.settled), 600_000);
    expect(sends.filter((s) => s.state !== "resolved").length).toBe(0);
    expect(count).toBe(200);
  });

  for (
    const [mode, dead] of [["sequence", false], ["parallel", false], ["sequence", true], [
      "parallel",
      true,
    ]] as const
  ) {
    it(`fails over to a node's second address (${mode}, first address ${dead ? "dead" : "cut"})`, async () => {
      const { clock, net, start } = simCluster(5, { delayMs: { min: 2, max: 2 } });
      const a = start("a", undefined, { addressMode: mode, rtoInitialMs: 100, retries: 2 });
      const b = start("b", dead ? ["mem://b2"] : ["mem://b1", "mem://b2"]);
      const got = inbox(b, 3);
      if (!dead) net.cut("mem://a", "mem://b1");
      a.setAddresses("b", ["mem://b1", "mem://b2"]);
      const s = track(clock, a.send("b", 3, enc.encode("via b2")));
      await runUntil(clock, () => s.settled, 10_000);
      expect(s.state).toBe("resolved");
      expect(got).toEqual([["a", "via b2"]]);
      if (mode === "sequence") {
        // b1 had its first transmission and 2 resends (100 + 200 + 400 ms) before b2 was tried.
        expect(clock.now()).toBeGreaterThanOrEqual(700);
      } else {
        expect(clock.now()).toBeLessThan(100);
      }
      // Sequence mode sticks with the address that works: the next send is fast.
      const t0 = clock.now();
      const s2 = track(clock, a.send("b", 3, enc.encode("again")));
      await runUntil(clock, () => s2.settled, 10_000);
      expect(s2.state).toBe("resolved");
      expect(clock.now() - t0).toBeLessThan(100);
    });
  }

  it("answers through the backend that hears the peer when several share a scheme", async () => {
    const { clock, net, start } = simCluster(16, { delayMs: { min: 1, max: 1 } });
    const a = start("a");
    const b = start("b", ["mem://b1", "mem://b2"]);
    const atA = inbox(a, 0);
    inbox(b, 0);
    net.cut("mem://a", "mem://b1"); // b's first interface is off the network
    a.setAddresses("b", ["mem://b1", "mem://b2"]);
    const s1 = track(clock, a.send("b", 0, enc.encode("ping")));
    await runUntil(clock, () => s1.settled, 10_000);
    expect(s1.state).toBe("resolved");
    const s2 = track(clock, b.send("a", 0, enc.encode("pong")));
    await runUntil(clock, () => s2.settled, 10_000);
    expect(s2.state).toBe("resolved");
    expect(atA).toEqual([["b", "pong"]]);
  });

  it("counts an address the backend reports unreachable as failed at once", async () => {
    const clock = new VirtualClock();
    const net = new SimNetwork({
      clock,
      random: new Random(6),
      reportUnreachable: true,
      link: { delayMs: { min: 2, max: 2 } },
    });
    const a = new TransportManager({
      nodeId: "a",
      transports: [net.createTransport("mem://a")],
      clock,
      incarnation: 1,
    });
    const b = new TransportManager({
      nodeId: "b",
      transports: [net.createTransport("mem://b")],
      clock,
      incarnation: 2,
    });
    const got = inbox(b, 0);
    a.setAddresses("b", ["mem://nowhere", "mem://b"]);
    const s = track(clock, a.send("b", 0, enc.encode("x")));
    await runUntil(clock, () => s.settled, 10_000);
    expect(s.state).toBe("resolved");
    expect(got.length).toBe(1);
    expect(clock.now()).toBeLessThan(50);
    // All addresses unreachable: fails without waiting for any timeout.
    a.setAddresses("c", ["mem://gone1", "mem://gone2"]);
    const f = track(clock, a.send("c", 0, enc.encode("y")));
    const t0 = clock.now();
    await runUntil(clock, () => f.settled, 10_000);
    expect(f.state).toBe("rejected");
    expect(clock.now() - t0).toBe(0);
  });

  it("rejects with DeliveryFailedError after all resends on all addresses fail", async () => {
    const { clock, net, start } = simCluster(7);
    const a = start("a", undefined, { rtoInitialMs: 50, rtoMaxMs: 400, retries: 3 });
    start("b", ["mem://b1", "mem://b2"]);
    net.partition([["mem://a"], ["mem://b1", "mem://b2"]]);
    a.setAddresses("b", ["mem://b1", "mem://b2"]);
    const s1 = track(clock, a.send("b", 5, enc.encode("1")));
    const s2 = track(clock, a.send("b", 6, enc.encode("2")));
    await runUntil(clock, () => s1.settled && s2.settled, 60_000);
    for (const [s, ch] of [[s1, 5], [s2, 6]] as const) {
      expect(s.state).toBe("rejected");
      const error = (s as { error: unknown }).error;
      expect(error).toBeInstanceOf(DeliveryFailedError);
      expect((error as DeliveryFailedError).nodeId).toBe("b");
      expect((error as DeliveryFailedError).channel).toBe(ch);
    }
    // b's incarnation was never learned, so both addresses are probed at once: 50 + 100 + 200 +
    // 400 ms of back-off, then the node counts as failed.
    expect(clock.now()).toBe(750);
    // After the partition heals the node is reachable again.
    net.healAll();
    const s3 = track(clock, a.send("b", 5, enc.encode("3")));
    await runUntil(clock, () => s3.settled, 60_000);
    expect(s3.state).toBe("resolved");
  });

  it("adapts the retransmission timeout to the measured round trip", async () => {
    const rtoAfter = async (delay: number) => {
      const { clock, start } = simCluster(8, { delayMs: { min: delay, max: delay } });
      const a = start("a", undefined, { rtoInitialMs: 1000, rtoMinMs: 5, rtoMaxMs: 5000 });
      const b = start("b");
      b.onMessage(0, () => {});
      a.setAddresses("b", ["mem://b"]);
      for (let i = 0; i < 20; i++) {
        const s = track(clock, a.send("b", 0, new Uint8Array([i])));
        await runUntil(clock, () => s.settled, 60_000);
        expect(s.state).toBe("resolved");
      }
      return a.rtoOf("b")!;
    };
    const fast = await rtoAfter(1);
    const slow = await rtoAfter(100);
    expect(fast).toBeLessThan(20);
    expect(slow).toBeGreaterThanOrEqual(200);
    expect(slow).toBeLessThan(400);
  });

  /**
   * a sends a `size`-byte message to b while b's acks are lost, so a's window cannot slide; returns
   * the packets and bytes a put on the wire within less than one RTO. Then heals the link and
   * checks that the message still arrives whole.
   */
  const inFlightWithoutAcks = async (
    seed: number,
    mtu: number | undefined,
    window: { windowPackets?: number; windowBytes?: number },
    size: number,
  ) => {
    const { clock, net, start } = simCluster(seed, { delayMs: { min: 1, max: 1 } }, mtu);
    // A floor of 100 ms keeps the timeout above the 50 ms measured once the first message's round
    // trip (2 ms) was sampled.
    const a = start("a", undefined, { ...window, rtoInitialMs: 100, rtoMinMs: 100 });
    const b = start("b");
    const got: Uint8Array[] = [];
    b.onMessage(0, (_f, m) => got.push(m));
    a.setAddresses("b", ["mem://b"]);
    const w = track(clock, a.send("b", 0, new Uint8Array(1)));
    await runUntil(clock, () => w.settled, 1000);
    const fromA = { packets: 0, bytes: 0 };
    net.onEvent((e) => {
      if (e.type === "send" && e.from === "mem://a") {
        fromA.packets++;
        fromA.bytes += e.size;
      }
    });
    net.cut("mem://b", "mem://a", { oneWay: true }); // acks lost: the window cannot slide
    const big = pattern(size, 1);
    const s = track(clock, a.send("b", 0, big));
    await runUntil(clock, () => false, 50); // less than one RTO
    const inFlight = { ...fromA };
    net.healAll();
    await runUntil(clock, () => s.settled, 60_000);
    expect(s.state).toBe("resolved");
    expect(got[1]).toEqual(big);
    return inFlight;
  };

  it("keeps at most windowPackets packets in flight per destination", async () => {
    const { packets } = await inFlightWithoutAcks(17, undefined, { windowPackets: 4 }, 100_000);
    expect(packets).toBe(4);
  });

  it("keeps at most windowBytes bytes in flight per destination", async () => {
    const { bytes } = await inFlightWithoutAcks(18, 65_000, { windowBytes: 200_000 }, 1_000_000);
    // Three 65,000-byte packets fit in 200,000 bytes; a fourth would not (packets are far under
    // the default 256).
    expect(bytes).toBeLessThanOrEqual(200_000);
    expect(bytes).toBeGreaterThan(2 * 64_000);
  });

  it("recovers losses quickly without resending what only came late", async () => {
    const transfer = async (loss: number, min: number, max: number) => {
      const { clock, start } = simCluster(19, { loss, delayMs: { min, max } });
      const a = start("a", undefined, { retries: 50 });
      const b = start("b");
      b.onMessage(0, () => {});
      a.setAddresses("b", ["mem://b"]);
      const s = track(clock, a.send("b", 0, new Uint8Array(2 << 20)));
      await runUntil(clock, () => s.settled, 600_000);
      expect(s.state).toBe("resolved");
      return { ms: clock.now(), retransmissions: a.stats.retransmissions };
    };
    const steady = await transfer(0, 2, 2);
    expect(steady.retransmissions).toBe(0);
    const jittery = await transfer(0, 1, 5); // heavy reordering, nothing lost
    expect(jittery.retransmissions).toBeLessThan(0.05 * ((2 << 20) / 1300));
    const lossy = await transfer(0.05, 1, 5);
    // Lost packets are resent on evidence of later ones arriving, not after a stalled timeout.
    expect(lossy.ms).toBeLessThan(4 * jittery.ms);
  });

  it("batches small messages sent together into few packets", async () => {
    const { clock, net, start } = simCluster(9, { delayMs: { min: 1, max: 1 } });
    const a = start("a");
    const b = start("b");
    let count = 0;
    b.onMessage(2, () => count++);
    a.setAddresses("b", ["mem://b"]);
    // Warm up: learn b's incarnation.
    const w = track(clock, a.send("b", 2, new Uint8Array(1)));
    await runUntil(clock, () => w.settled, 1000);
    const sent0 = net.stats.sent;
    const sends: Array<ReturnType<typeof track>> = [];
    for (let i = 0; i < 1000; i++) sends.push(track(clock, a.send("b", 2, pattern(20, i))));
    await runUntil(clock, () => sends.every((s) => s.settled), 10_000);
    expect(count).toBe(1001);
    // 1000 × 25 bytes is ~20 data packets plus their acks.
    expect(net.stats.sent - sent0).toBeLessThan(60);
  });

  it("never splits a message that fits whole into one packet", async () => {
    const { clock, net, start } = simCluster(9, { delayMs: { min: 1, max: 1 } }, 1400);
    const a = start("a");
    const b = start("b");
    const got: Uint8Array[] = [];
    b.onMessage(2, (_f, m) => got.push(m));
    a.setAddresses("b", ["mem://b"]);
    const w = track(clock, a.send("b", 2, new Uint8Array(1)));
    await runUntil(clock, () => w.settled, 1000);
    let dataFromA = 0;
    net.onEvent((e) => {
      if (e.type === "send" && e.from === "mem://a") dataFromA++;
    });
    const sends: Array<ReturnType<typeof track>> = [];
    for (let i = 0; i < 100; i++) sends.push(track(clock, a.send("b", 2, pattern(1000, i))));
    await runUntil(clock, () => sends.every((s) => s.settled), 10_000);
    expect(got.slice(1)).toEqual(Array.from({ length: 100 }, (_, i) => pattern(1000, i)));
    // Two 1,000-byte messages cannot share a 1,400-byte packet: one packet each, none reassembled.
    expect(dataFromA).toBe(100);
  });

  it("learns the source address of an unknown node so that it can reply", async () => {
    const { clock, start } = simCluster(10, { delayMs: { min: 1, max: 1 } });
    const a = start("a");
    const b = start("b");
    const replies = inbox(a, 1);
    b.onMessage(1, (from, m) => void b.send(from, 1, enc.encode(`re: ${dec.decode(m)}`)));
    expect(b.addressesOf("a")).toEqual([]);
    a.setAddresses("b", ["mem://b"]);
    const s = track(clock, a.send("b", 1, enc.encode("join")));
    await runUntil(clock, () => s.settled && replies.length > 0, 10_000);
    expect(b.addressesOf("a")).toEqual(["mem://a"]);
    expect(replies).toEqual([["b", "re: join"]]);
  });

  it("fails in-flight sends when the receiver restarts, and talks to the new incarnation", async () => {
    const { clock, net, start } = simCluster(11, { delayMs: { min: 10, max: 10 } });
    const a = start("a", undefined, { rtoInitialMs: 100 });
    const b1 = start("b");
    const got1 = inbox(b1, 0);
    a.setAddresses("b", ["mem://b"]);
    const s0 = track(clock, a.send("b", 0, enc.encode("first")));
    await runUntil(clock, () => s0.settled, 10_000);
    expect(s0.state).toBe("resolved");
    // The next message arrives but its acks are lost, then b crashes and restarts.
    net.cut("mem://b", "mem://a", { oneWay: true });
    const s1 = track(clock, a.send("b", 0, enc.encode("second")));
    await runUntil(clock, () => got1.length === 2, 10_000);
    net.crash("mem://b");
    await b1.close();
    const b2 = start("b");
    net.healAll();
    const got2 = inbox(b2, 0);
    await runUntil(clock, () => s1.settled, 10_000);
    // It reached the old incarnation: retransmitting it to the new one would deliver it twice.
    expect(s1.state).toBe("rejected");
    expect((s1 as { error: unknown }).error).toBeInstanceOf(DeliveryFailedError);
    expect(got2).toEqual([]);
    const s2 = track(clock, a.send("b", 0, enc.encode("third")));
    await runUntil(clock, () => s2.settled, 10_000);
    expect(s2.state).toBe("resolved");
    expect(got2).toEqual([["a", "third"]]);
  });

  it("processes only the confirmed session of a sender; other sessions only make it ask again", () => {
    const clock = new VirtualClock();
    const net = new SimNetwork({ clock, random: new Random(12) });
    const b = new TransportManager({
      nodeId: "b",
      transports: [net.createTransport("mem://b")],
      clock,
      incarnation: 77,
    });
    const got = inbox(b, 0);
    const raw = net.createTransport("mem://a");
    // "a" answers probes as incarnation 5, session 1.
    const answered = answerProbes(raw, () => ({ id: "a", inc: 5, epoch: 1 }));
    const data = (srcInc: number, epoch: number, seq: number, text: string, dstInc = 77) =>
      encodeData({ srcId: "a", dstId: "b", srcInc, dstInc, epoch }, seq, [
        { channel: 0, whole: true, msgId: 0, total: text.length, offset: 0, bytes: enc.encode(text) },
      ]);
    raw.send("mem://b", data(5, 1, 1, "new"));
    clock.advance(1); // held while b probes a; delivered once a answers
    expect(answered()).toBe(1);
    expect(got).toEqual([["a", "new"]]);
    expect(b.incarnationOf("a")).toBe(5);
    raw.send("mem://b", data(5, 1, 1, "new")); // a duplicate
    raw.send("mem://b", data(4, 9, 2, "old incarnation"));
    raw.send("mem://b", data(9, 1, 3, "forged incarnation"));
    raw.send("mem://b", data(5, 2, 1, "forged session"));
    raw.send("mem://b", data(5, 1, 4, "meant for b's previous incarnation", 76));
    raw.send("mem://b", new Uint8Array([1, 2, 3])); // garbage
    clock.advance(100);
    expect(got).toEqual([["a", "new"]]);
    expect(b.stats.duplicatePackets).toBe(1);
    expect(b.stats.decodeErrors).toBe(1);
    // The other sessions made b ask again (one round: they arrived together); a still says 5/1.
    expect(answered()).toBe(2);
    expect(b.incarnationOf("a")).toBe(5);
    expect(b.stats.unconfirmedDropped).toBe(3);
    // The real session goes on where it was.
    raw.send("mem://b", data(5, 1, 2, "next"));
    clock.advance(1);
    expect(got).toEqual([["a", "new"], ["a", "next"]]);
    // a restarts as incarnation 6: its packets are held, confirmed by one probe, then delivered.
    const restarted = answerProbes(raw, () => ({ id: "a", inc: 6, epoch: 3 }));
    raw.send("mem://b", data(6, 3, 1, "after restart"));
    clock.advance(1);
    expect(restarted()).toBe(1);
    expect(b.incarnationOf("a")).toBe(6);
    expect(got.at(-1)).toEqual(["a", "after restart"]);
  });

  it("rejects misuse with typed errors", async () => {
    const { start } = simCluster(13);
    const a = start("a", undefined, { maxMessageBytes: 1000 });
    await expect(a.send("nobody", 0, new Uint8Array(1))).rejects.toBeInstanceOf(UnknownNodeError);
    a.setAddresses("b", ["mem://b"]);
    await expect(a.send("b", 0, new Uint8Array(1001))).rejects.toBeInstanceOf(MessageTooLargeError);
    await expect(a.send("b", 65536, new Uint8Array(1))).rejects.toBeInstanceOf(RangeError);
    await expect(a.send("b", -1, new Uint8Array(1))).rejects.toBeInstanceOf(RangeError);
    expect(() => a.onMessage(70000, () => {})).toThrow(RangeError);
    expect(() => start("", undefined)).toThrow(RangeError);
    expect(() => start("x".repeat(256), undefined)).toThrow(RangeError);
    expect(() => start("y", undefined, { incarnation: 0 })).toThrow(RangeError);
    expect(() => start("z", undefined, { windowPackets: 0 })).toThrow(RangeError);
    await a.close();
    await expect(a.send("b", 0, new Uint8Array(1))).rejects.toBeInstanceOf(ClosedError);
  });

  it("close() rejects pending sends with ClosedError and stops its timers", async () => {
    const { clock, net, start } = simCluster(14, { delayMs: { min: 5, max: 5 } });
    const a = start("a");
    start("b");
    net.cut("mem://a", "mem://b");
    a.setAddresses("b", ["mem://b"]);
    const sends = [0, 1, 2].map((i) => track(clock, a.send("b", i, new Uint8Array(3000))));
    await runUntil(clock, () => false, 50);
    await a.close();
    await runUntil(clock, () => sends.every((s) => s.settled), 0);
    for (const s of sends) {
      expect(s.state).toBe("rejected");
      expect((s as { error: unknown }).error).toBeInstanceOf(ClosedError);
    }
    // Nothing of a is left on the clock (b's transport has no pending work either).
    expect(clock.pendingTimers).toBe(0);
  });

  it("delivers to itself and survives a throwing handler", async () => {
    const { clock, start } = simCluster(15, { delayMs: { min: 1, max: 1 } });
    const a = start("a");
    const b = start("b");
    const self = inbox(a, 4);
    const s = track(clock, a.send("a", 4, enc.encode("me")));
    await runUntil(clock, () => s.settled, 100);
    expect(s.state).toBe("resolved");
    expect(self).toEqual([["a", "me"]]);
    let calls = 0;
    b.onMessage(4, () => {
      calls++;
      throw new Error("handler bug");
    });
    a.setAddresses("b", ["mem://b"]);
    const s1 = track(clock, a.send("b", 4, enc.encode("1")));
    // The handler's error is rethrown from a timer of its own, after the protocol state is safe.
    let thrown = 0;
    for (let i = 0; i < 1000 && !s1.settled; i++) {
      try {
        if (!clock.step()) break;
      } catch (e) {
        expect((e as Error).message).toBe("handler bug");
        thrown++;
      }
      await Promise.resolve();
    }
    await runUntil(clock, () => s1.settled, 1000);
    expect(s1.state).toBe("resolved");
    expect(calls).toBe(1);
    expect(thrown).toBe(1);
  });
});
