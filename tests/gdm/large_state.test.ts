/**
 * State transfer of a ≥ 100 MB state over real UDP (three members in this process): the joiner
 * receives it in chunks while the two others keep writing; writes keep completing within a token
 * round or so during the transfer (the token is not blocked), and the joiner ends identical.
 */
import { afterEach, describe, expect, it } from "vitest";
import { GroupCommunicationManager } from "../../gcm/manager.ts";
import { GroupDataManager } from "../../gdm/manager.ts";
import { digestState, type Item } from "../../gdm/state.ts";
import { encodeValue } from "../../gdm/value.ts";
import { TransportManager } from "../../transport/manager.ts";
import { createUdpTransport } from "../../transport/udp.ts";
import { freeUdpPorts } from "../../tools/ports.ts";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function member(
  id: string,
  ports: Record<string, number>,
  initial?: { items: Array<[string, Item]>; clock: number },
) {
  const udp = await createUdpTransport({ port: ports[id], mtu: 65_000 });
  const tm = new TransportManager({ nodeId: id, transports: [udp] });
  for (const [p, port] of Object.entries(ports)) {
    if (p !== id) tm.setAddresses(p, [`udp://127.0.0.1:${port}`]);
  }
  const gcm = new GroupCommunicationManager({
    layer: tm,
    peers: Object.keys(ports).filter((p) => p !== id),
    eatingMs: 5,
    hungryMs: 2000,
  });
  const gdm = new GroupDataManager({ gcm, layer: tm, initial, chunkBytes: 1 << 20, pullTimeoutMs: 20_000 });
  gcm.start();
  closers.push(async () => {
    await gdm.close();
    gcm.close();
    await tm.close();
  });
  return { gcm, gdm };
}

function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const poll = () => {
      if (cond()) resolve();
      else if (performance.now() - t0 > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(poll, 10);
    };
    poll();
  });
}

describe("state transfer of a large state", () => {
  it("streams 100 MB to a joiner in chunks without blocking writes", async () => {
    const [pa, pb, pc] = await freeUdpPorts(3);
    const ports = { a: pa, b: pb, c: pc };
    // 200 items of 512 KiB = 100 MiB, loaded on a and b (as if from storage).
    const items: Array<[string, Item]> = [];
    for (let i = 0; i < 200; i++) {
      const v = new Uint8Array(512 * 1024).fill(i);
      items.push([`big/${i}`, { v: encodeValue(v), s: [i + 1, "a"], w: "a" }]);
    }
    const a = await member("a", { a: pa, b: pb }, { items, clock: 200 });
    const b = await member("b", { a: pa, b: pb }, { items, clock: 200 });
    await until(() => a.gcm.view.members.length === 2 && a.gdm.settled && b.gdm.settled, 20_000, "a+b");
    const c = await member("c", ports);
    let maxLatency = 0, writes = 0, during = 0;
    let stop = false;
    const writer = (async () => {
      while (!stop) {
        const t0 = performance.now();
        await a.gdm.set(`small/${writes % 50}`, writes);
        const dt = performance.now() - t0;
        if (c.gdm.transfer !== undefined) {
          during++;
          maxLatency = Math.max(maxLatency, dt);
        }
        writes++;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await until(() => c.gdm.stats.received === 1 && c.gdm.synced, 90_000, "the joiner's snapshot");
    stop = true;
    await writer;
    await until(
      () =>
        digestState({ items: new Map(c.gdm.snapshot().items), clock: 0 }) ===
          digestState({ items: new Map(a.gdm.snapshot().items), clock: 0 }),
      10_000,
      "identical replicas",
    );
    expect(c.gdm.size).toBe(a.gdm.size);
    expect((c.gdm.get("big/199") as Uint8Array)[1000]).toBe(199);
    // Writes went on while the chunks streamed, each completing quickly.
    expect(during).toBeGreaterThan(3);
    expect(maxLatency).toBeLessThan(1500);
    console.log(
      `100 MiB transfer: ${during} writes completed during it, slowest ${maxLatency.toFixed(0)} ms`,
    );
  }, 120_000);
});
