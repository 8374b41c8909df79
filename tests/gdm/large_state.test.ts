/**
 * State transfer of a ≥ 100 MB state over real UDP (three members in this process): the joiner
 * receives it in chunks while the two others keep writing; writes keep completing within a token
 * round or so during the transfer (the token is not blocked), and the joiner ends identical.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Item } from "../../gdm/model.ts";
import { digestReplica, emptyReplica } from "../../gdm/replica.ts";
import { encodeValue } from "../../gdm/value.ts";
import { udpMember } from "./_udp_member.ts";
import { freeUdpPorts } from "../../tools/ports.ts";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

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
      items.push([`big/${i}`, { value: encodeValue(v), stamp: [i + 1, "a"] }]);
    }
    const big = (initial?: { items: Array<[string, Item]>; clock: number }) => ({
      mtu: 65_000,
      gcm: { timing: { eatingMs: 5 } },
      gdm: {
        initial: initial && { ...initial, locks: [], applied: 0, problems: [] },
        chunkBytes: 1 << 20,
        pullTimeoutMs: 20_000,
      },
    });
    const a = await udpMember("a", { a: pa, b: pb }, closers, big({ items, clock: 200 }));
    const b = await udpMember("b", { a: pa, b: pb }, closers, big({ items, clock: 200 }));
    await until(() => a.gcm.view.members.length === 2 && a.gdm.settled && b.gdm.settled, 20_000, "a+b");
    const c = await udpMember("c", ports, closers, big());
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
        digestReplica({ ...emptyReplica(), items: new Map(c.gdm.snapshot().items) }) ===
          digestReplica({ ...emptyReplica(), items: new Map(a.gdm.snapshot().items) }),
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
