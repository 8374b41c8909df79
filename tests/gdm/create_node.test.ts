/** A GDM on nodes made by `createNode` (which starts the GCM): created right after it, it works. */
import { describe, expect, it } from "vitest";
import { createNode } from "../../gcm/create_node.ts";
import { GroupDataManager } from "../../gdm/manager.ts";
import { VirtualClock } from "../../base/clock.ts";
import { SimNetwork } from "../../transport/backends/memory.ts";

describe("GDM with createNode", () => {
  it("replicates writes between two createNode members", async () => {
    const clock = new VirtualClock();
    const net = new SimNetwork({ clock });
    const peers = { a: ["mem://a"], b: ["mem://b"] };
    const nodes = ["a", "b"].map((id) =>
      createNode({
        id,
        transports: [net.createTransport(`mem://${id}`)],
        peers,
        clock,
        timing: { rtoInitialMs: 10 },
      })
    );
    const gdms = nodes.map((node) => new GroupDataManager({ gcm: node.gcm, layer: node.transport, clock }));
    const run = async (until: () => boolean) => {
      for (let i = 0; i < 100_000 && !until(); i++) {
        for (let k = 0; k < 4; k++) await null;
        clock.step();
      }
    };
    // Alone at first, a member with peers holds the group's data only once it is in a view with them
    // (or its join wait ran out and it founded the group): nobody writes on a copy the group lacks.
    expect(gdms[0].settled).toBe(false);
    await run(() => nodes.every((n) => n.gcm.view.members.length === 2) && gdms.every((g) => g.settled));
    expect(gdms.every((g) => g.settled)).toBe(true);
    let done = false;
    void gdms[0].set("k", { v: 1 }).then(() => (done = true));
    await run(() => done && gdms[1].get("k") !== undefined);
    expect(gdms[1].get("k")).toEqual({ v: 1 });
    expect(gdms[0].settled).toBe(true);
  });
});
