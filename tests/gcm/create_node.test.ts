import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../transport/clock.ts";
import { SimNetwork } from "../../transport/memory.ts";
import { Random } from "../../transport/random.ts";
import { createNode, type GcmNode } from "../../gcm/mod.ts";

async function runUntil(clock: VirtualClock, done: () => boolean, limitMs: number): Promise<boolean> {
  const end = clock.now() + limitMs;
  for (;;) {
    for (let i = 0; i < 4; i++) await null;
    if (done()) return true;
    const at = clock.nextTimerAt();
    if (at === undefined || at > end) return done();
    clock.step();
  }
}

describe("createNode", () => {
  it("wires TransportManager + GCM; three nodes agree, multicast, leave and close", async () => {
    const clock = new VirtualClock();
    const net = new SimNetwork({ clock, random: new Random(5), link: { delayMs: { min: 1, max: 3 } } });
    const ids = ["a", "b", "c"];
    const peers = Object.fromEntries(ids.map((id) => [id, [`mem://${id}`]]));
    const nodes: GcmNode[] = ids.map((id, i) =>
      createNode({
        id,
        transports: [net.createTransport(`mem://${id}`)],
        peers,
        clock,
        incarnation: i + 1,
        rtoMs: 20,
      })
    );
    const agreed = () => nodes.every((n) => n.gcm.agreed && n.gcm.view.members.length === 3);
    expect(await runUntil(clock, agreed, 5000)).toBe(true);
    const got: string[] = [];
    nodes[2].gcm.on("deliver", (d) => got.push(`${d.from}:${new TextDecoder().decode(d.data)}`));
    nodes[0].gcm.multicast(new TextEncoder().encode("x"));
    nodes[1].gcm.multicast(new TextEncoder().encode("y"), { level: "safe" });
    expect(await runUntil(clock, () => got.length === 2, 2000)).toBe(true);
    expect(got.sort()).toEqual(["a:x", "b:y"]);
    let closed = false;
    void nodes[1].close().then(() => (closed = true));
    expect(await runUntil(clock, () => closed, 3000)).toBe(true);
    const two = () => [nodes[0], nodes[2]].every((n) => n.gcm.agreed && n.gcm.view.members.length === 2);
    expect(await runUntil(clock, two, 5000)).toBe(true);
  });
});
