/**
 * Guarantee 7 for the GDM (issue 13: a `change` listener that threw once left its replica without a
 * write for good): a throwing listener is reported as an `error` event and its replica applies every
 * write, as the others do.
 */
import { describe, expect, it } from "vitest";
import { createNode } from "../../gcm/create_node.ts";
import { GroupDataManager } from "../../gdm/manager.ts";
import { VirtualClock } from "../../base/clock.ts";
import { SimNetwork } from "../../transport/backends/memory.ts";
import { runUntil } from "../transport/_helpers.ts";

describe("GDM listener isolation", () => {
  it("a change listener that throws costs its replica no write", async () => {
    const clock = new VirtualClock();
    const net = new SimNetwork({ clock });
    const peers = { a: ["mem://a"], b: ["mem://b"] };
    const nodes = ["a", "b"].map((id) =>
      createNode({ id, transports: [net.createTransport(`mem://${id}`)], peers, clock })
    );
    const [a, b] = nodes.map((node) => new GroupDataManager({ gcm: node.gcm, layer: node.transport }));
    const together = () => nodes.every((n) => n.gcm.view.members.length === 2) && a.settled && b.settled;
    expect(await runUntil(clock, together, 10_000)).toBe(true);

    const errors: Array<{ event: string; error: unknown }> = [];
    b.on("error", (e) => errors.push(e));
    let throws = 0;
    b.on("change", (e) => {
      if (e.key === "k1" && throws++ === 0) throw new Error("application bug");
    });
    const seen: string[] = [];
    b.on("change", (e) => seen.push(e.key)); // registered after the throwing one: must still run

    let done = 0;
    for (let i = 0; i < 5; i++) void a.set(`k${i}`, i).then(() => done++);
    expect(await runUntil(clock, () => done === 5 && b.size === 5, 10_000)).toBe(true);
    for (let i = 0; i < 5; i++) expect(b.get(`k${i}`)).toBe(i);
    expect(seen.sort()).toEqual(["k0", "k1", "k2", "k3", "k4"]);
    expect(errors).toHaveLength(1);
    expect(errors[0].event).toBe("change");
    expect(String(errors[0].error)).toContain("application bug");
    // The replica keeps working after the throw.
    let later = false;
    void b.set("after", true).then(() => (later = true));
    expect(await runUntil(clock, () => later && a.get("after") === true, 10_000)).toBe(true);
  });
});
