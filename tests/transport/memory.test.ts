import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../base/clock.ts";
import { type LinkOptions, SimNetwork, type SimNetworkEvent } from "../../transport/backends/memory.ts";
import { Random } from "../../base/random.ts";

function setup(seed: number, link: Partial<LinkOptions> = {}) {
  const clock = new VirtualClock();
  const net = new SimNetwork({ clock, random: new Random(seed), link });
  return { clock, net };
}

function collect(net: SimNetwork, address: string): Array<[string, number[]]> {
  const got: Array<[string, number[]]> = [];
  net.createTransport(address).onPacket((from, p) => got.push([from, [...p]]));
  return got;
}

function trace(seed: number): string[] {
  const { clock, net } = setup(seed, {
    loss: 0.2,
    duplicate: 0.2,
    reorder: 0.3,
    delayMs: { min: 1, max: 20 },
    spikeChance: 0.05,
  });
  const events: string[] = [];
  net.onEvent((e: SimNetworkEvent) =>
    events.push(`${e.type} ${e.at.toFixed(3)} ${e.from}>${e.to} ${e.size} ${e.reason ?? ""}`)
  );
  const a = net.createTransport("mem://a");
  const b = net.createTransport("mem://b");
  b.onPacket((from, p) => events.push(`recv ${from} ${p[0]}`));
  a.onPacket(() => {});
  for (let i = 0; i < 200; i++) {
    clock.setTimer(i, () => a.send("mem://b", new Uint8Array([i & 255, 1, 2])));
  }
  clock.runUntil(() => false, 10_000);
  return events;
}

describe("SimNetwork", () => {
  it("is deterministic: the same seed gives the same trace, another seed a different one", () => {
    const t1 = trace(7);
    expect(trace(7)).toEqual(t1);
    expect(trace(8)).not.toEqual(t1);
    expect(t1.length).toBeGreaterThan(200);
  });

  it("delivers everything on a perfect link, copying the sender's buffer", () => {
    const { clock, net } = setup(1);
    const a = net.createTransport("mem://a");
    const got = collect(net, "mem://b");
    const buf = new Uint8Array([1, 2, 3]);
    a.send("mem://b", buf);
    buf[0] = 99; // the sender reuses its buffer at once
    expect(got).toEqual([]); // nothing synchronous: delivery goes through the clock
    clock.runUntil(() => got.length > 0, 100);
    expect(got).toEqual([["mem://a", [1, 2, 3]]]);
    expect(net.stats).toEqual({ sent: 1, delivered: 1, dropped: 0, duplicated: 0 });
  });

  it("loses about the configured fraction and duplicates about the configured fraction", () => {
    const { clock, net } = setup(3, { loss: 0.3 });
    const a = net.createTransport("mem://a");
    const got = collect(net, "mem://b");
    for (let i = 0; i < 10_000; i++) a.send("mem://b", new Uint8Array([1]));
    clock.runUntil(() => false, 100);
    expect(got.length).toBeGreaterThan(6700);
    expect(got.length).toBeLessThan(7300);
    expect(net.stats.dropped + net.stats.delivered).toBe(10_000);

    const s = setup(4, { duplicate: 0.5 });
    const a2 = s.net.createTransport("mem://a");
    const got2 = collect(s.net, "mem://b");
    for (let i = 0; i < 10_000; i++) a2.send("mem://b", new Uint8Array([1]));
    s.clock.runUntil(() => false, 100);
    expect(got2.length).toBeGreaterThan(14_700);
    expect(got2.length).toBeLessThan(15_300);
    expect(s.net.stats.duplicated).toBe(got2.length - 10_000);
  });

  it("reorders packets when asked, keeps order when not", () => {
    const order = (reorder: number) => {
      const { clock, net } = setup(5, { reorder, delayMs: { min: 5, max: 5 } });
      const a = net.createTransport("mem://a");
      const got = collect(net, "mem://b");
      for (let i = 0; i < 100; i++) a.send("mem://b", new Uint8Array([i]));
      clock.runUntil(() => false, 1000);
      return got.map(([, p]) => p[0]);
    };
    const inOrder = Array.from({ length: 100 }, (_, i) => i);
    expect(order(0)).toEqual(inOrder);
    const shuffled = order(0.5);
    expect(shuffled).not.toEqual(inOrder);
    expect([...shuffled].sort((x, y) => x - y)).toEqual(inOrder);
  });

  it("applies delay bounds and spikes", () => {
    const { clock, net } = setup(6, { delayMs: { min: 10, max: 20 } });
    const a = net.createTransport("mem://a");
    const times: number[] = [];
    net.createTransport("mem://b").onPacket(() => times.push(clock.now()));
    for (let i = 0; i < 100; i++) a.send("mem://b", new Uint8Array([i]));
    net.setLink("mem://a", "mem://b", { spikeChance: 1, spikeMs: 500 });
    a.send("mem://b", new Uint8Array([0]));
    clock.runUntil(() => false, 1000);
    expect(times.length).toBe(101);
    expect(Math.min(...times.slice(0, 100))).toBeGreaterThanOrEqual(10);
    expect(Math.max(...times.slice(0, 100))).toBeLessThanOrEqual(20);
    expect(times[100]).toBeGreaterThanOrEqual(510);
  });

  it("cuts links (both ways or one way), also for packets in flight, and heals them", () => {
    const { clock, net } = setup(1, { delayMs: { min: 10, max: 10 } });
    const atA = collect(net, "mem://a");
    const atB = collect(net, "mem://b");
    const x = net.createTransport("mem://x");
    net.cut("mem://x", "mem://b", { oneWay: true });
    x.send("mem://b", new Uint8Array([1])); // blocked at send
    x.send("mem://a", new Uint8Array([2])); // passes
    clock.advance(5);
    net.cut("mem://x", "mem://a");
    clock.advance(10); // the in-flight packet to a meets the cut on arrival
    expect(atA).toEqual([]);
    expect(atB).toEqual([]);
    net.heal("mem://x", "mem://a");
    net.heal("mem://x", "mem://b");
    x.send("mem://b", new Uint8Array([3]));
    x.send("mem://a", new Uint8Array([4]));
    clock.advance(20);
    expect(atA).toEqual([["mem://x", [4]]]);
    expect(atB).toEqual([["mem://x", [3]]]);
    expect(net.stats.dropped).toBe(2);
  });

  it("one-way cut blocks only one direction", () => {
    const { clock, net } = setup(1);
    const atX = collect(net, "mem://x");
    const atY = collect(net, "mem://y");
    net.cut("mem://p", "mem://x", { oneWay: true });
    const p = net.createTransport("mem://p");
    p.send("mem://x", new Uint8Array([1]));
    p.send("mem://y", new Uint8Array([2]));
    clock.advance(1);
    expect(atX).toEqual([]);
    expect(atY).toEqual([["mem://p", [2]]]);
    expect(net.canPass("mem://x", "mem://p")).toBe(true);
  });

  it("partitions into groups; unlisted addresses are isolated; healAll reconnects", () => {
    const { clock, net } = setup(1);
    const inbox = new Map<string, number[]>();
    const ts = ["a", "b", "c", "d"].map((n) => {
      const address = `mem://${n}`;
      const t = net.createTransport(address);
      inbox.set(address, []);
      t.onPacket((_from, p) => inbox.get(address)!.push(p[0]));
      return t;
    });
    net.partition([["mem://a", "mem://b"], ["mem://c"]]);
    const all = () => {
      ts.forEach((t, i) => ts.forEach((u, j) => i !== j && t.send(u.address, new Uint8Array([i]))));
      clock.advance(1);
    };
    all();
    expect(inbox.get("mem://a")).toEqual([1]);
    expect(inbox.get("mem://b")).toEqual([0]);
    expect(inbox.get("mem://c")).toEqual([]);
    expect(inbox.get("mem://d")).toEqual([]);
    net.healAll();
    for (const v of inbox.values()) v.length = 0;
    all();
    for (const v of inbox.values()) expect(v.length).toBe(3);
  });

  it("crash stops a transport at once; a restart at the same address receives packets in flight", () => {
    const { clock, net } = setup(1, { delayMs: { min: 10, max: 10 } });
    const a = net.createTransport("mem://a");
    const old: number[] = [];
    net.createTransport("mem://b").onPacket((_f, p) => old.push(p[0]));
    a.send("mem://b", new Uint8Array([1]));
    clock.advance(5);
    net.crash("mem://b");
    expect(net.isLive("mem://b")).toBe(false);
    expect(() => net.createTransport("mem://a")).toThrow(/in use/);
    const fresh: number[] = [];
    net.createTransport("mem://b").onPacket((_f, p) => fresh.push(p[0]));
    clock.advance(10);
    expect(old).toEqual([]);
    expect(fresh).toEqual([1]);
    net.crash("mem://a");
    a.send("mem://b", new Uint8Array([2])); // a dead transport sends nothing
    clock.advance(20);
    expect(fresh).toEqual([1]);
  });

  it("reports unreachable addresses only when configured to", () => {
    const clock = new VirtualClock();
    const quiet = new SimNetwork({ clock });
    expect(quiet.createTransport("mem://a").isUnreachable("mem://nobody")).toBe(false);
    const loud = new SimNetwork({ clock, reportUnreachable: true });
    const a = loud.createTransport("mem://a");
    loud.createTransport("mem://b");
    expect(a.isUnreachable("mem://nobody")).toBe(true);
    expect(a.isUnreachable("mem://b")).toBe(false);
    loud.cut("mem://a", "mem://b");
    expect(a.isUnreachable("mem://b")).toBe(true);
  });

  it("rejects packets above the mtu and bad link settings", () => {
    const { net } = setup(1);
    const a = net.createTransport("mem://a", { mtu: 100 });
    expect(a.mtu).toBe(100);
    expect(() => a.send("mem://b", new Uint8Array(101))).toThrow(RangeError);
    expect(() => net.setLink("mem://a", "mem://b", { loss: 2 })).toThrow(RangeError);
    expect(() => net.setLink("mem://a", "mem://b", { delayMs: { min: 5, max: 1 } })).toThrow(RangeError);
  });

  it("works with the system clock outside simulation", async () => {
    const net = new SimNetwork();
    const a = net.createTransport("mem://a");
    const b = net.createTransport("mem://b");
    const got = new Promise<number[]>((resolve) => b.onPacket((_f, p) => resolve([...p])));
    a.send("mem://b", new Uint8Array([9, 8]));
    expect(await got).toEqual([9, 8]);
    await a.close();
    await b.close();
    expect(a.closed).toBe(true);
  });
});

describe("SimNetwork bottleneck (bandwidth and a drop-tail queue)", () => {
  /** A network with transports a and b (b receives), and a burst sender from a to b. */
  function bottleneck(link: Partial<LinkOptions>, random = new Random(1)) {
    const clock = new VirtualClock();
    const net = new SimNetwork({ clock, random, link });
    const a = net.createTransport("mem://a");
    net.createTransport("mem://b").onPacket(() => {});
    /** Sends `count` packets of `size` bytes at once; returns arrival times and drop reasons. */
    const burst = (count: number, size: number) => {
      const arrivals: number[] = [];
      const drops: string[] = [];
      net.onEvent((e) => {
        if (e.type === "deliver") arrivals.push(e.at);
        if (e.type === "drop") drops.push(e.reason ?? "");
      });
      for (let i = 0; i < count; i++) a.send("mem://b", new Uint8Array(size));
      clock.runUntil(() => false, 10_000);
      return { arrivals, drops };
    };
    return { clock, net, a, burst };
  }

  it("spaces packets by their size over the bandwidth, on top of the link delay", () => {
    const { burst } = bottleneck({ bandwidth: 100, delayMs: { min: 10, max: 10 } });
    const { arrivals, drops } = burst(5, 200); // 2 ms each
    expect(drops).toEqual([]);
    expect(arrivals).toEqual([12, 14, 16, 18, 20]);
  });

  it("drops what finds the queue full, and takes packets again once it drained", () => {
    const { clock, net, burst } = bottleneck({ bandwidth: 100, queuePackets: 3 });
    const first = burst(5, 100);
    expect(first.arrivals).toEqual([1, 2, 3]);
    expect(first.drops).toEqual(["queue", "queue"]);
    expect(net.stats).toEqual({ sent: 5, delivered: 3, dropped: 2, duplicated: 0 });
    const start = clock.now();
    const second = burst(2, 100);
    expect(second.arrivals).toEqual([start + 1, start + 2]);
    expect(second.drops).toEqual([]);
  });

  it("paces a sender that keeps the queue busy to the bandwidth exactly", () => {
    const { clock, net, a } = bottleneck({ bandwidth: 1000, queuePackets: 4 });
    let inFirstSecond = 0;
    net.onEvent((e) => {
      if (e.type === "deliver" && e.at <= 1000) inFirstSecond++;
    });
    // 1,000-byte packets every 0.5 ms: twice what the link carries (one per ms).
    for (let i = 0; i < 2000; i++) clock.setTimer(i / 2, () => a.send("mem://b", new Uint8Array(1000)));
    clock.runUntil(() => false, 2000);
    expect(inFirstSecond).toBe(1000); // the link never idles
    expect(net.stats.delivered).toBe(1000 + 3); // and the three queued behind the last one follow
    expect(net.stats.delivered + net.stats.dropped).toBe(2000);
  });

  it("is one queue per direction of each link, set per link or by default", () => {
    const { clock, net } = setup(1);
    net.setLink("mem://a", "mem://b", { bandwidth: 10 });
    const a = net.createTransport("mem://a");
    const b = net.createTransport("mem://b");
    const at: Record<string, number[]> = { a: [], b: [] };
    a.onPacket(() => at.a.push(clock.now()));
    b.onPacket(() => at.b.push(clock.now()));
    for (let i = 0; i < 3; i++) {
      a.send("mem://b", new Uint8Array(100));
      b.send("mem://a", new Uint8Array(100));
    }
    clock.runUntil(() => false, 1000);
    expect(at.b).toEqual([10, 20, 30]);
    expect(at.a).toEqual([0, 0, 0]);
  });

  it("draws nothing from the random source, so a seeded run without a bottleneck replays unchanged", () => {
    const random = new Random(5);
    const { burst } = bottleneck({ bandwidth: 50, queuePackets: 2, delayMs: { min: 3, max: 3 } }, random);
    const { arrivals } = burst(4, 100);
    expect(arrivals).toEqual([5, 7]);
    expect(random.next()).toBe(new Random(5).next());
  });

  it("rejects a bad bandwidth or queue size", () => {
    const net = new SimNetwork();
    expect(() => net.setDefaultLink({ bandwidth: -1 })).toThrow(RangeError);
    expect(() => net.setDefaultLink({ bandwidth: Infinity })).toThrow(RangeError);
    expect(() => net.setDefaultLink({ queuePackets: 0 })).toThrow(RangeError);
    expect(() => net.setDefaultLink({ queuePackets: 1.5 })).toThrow(RangeError);
  });
});
