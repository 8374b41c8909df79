/**
 * A ring of `createNode` members on a simulated network (1–2 ms hops) and a virtual clock, formed into
 * one view before it is returned: the shared setup of the GCM timing tests.
 * @module
 */
import { expect } from "vitest";
import { VirtualClock } from "../../base/clock.ts";
import { Random } from "../../base/random.ts";
import { createNode, type GcmNode, type TimingOptions } from "../../gcm/mod.ts";
import { SimNetwork } from "../../transport/backends/memory.ts";
import { runUntil } from "../transport/_helpers.ts";

/** Members `ids` with `timing`, all in one view (within `formMs` of virtual time). */
export async function simRing(
  ids: readonly string[],
  timing: TimingOptions,
  seed: number,
  formMs = 20_000,
): Promise<{ clock: VirtualClock; net: SimNetwork; nodes: GcmNode[] }> {
  const clock = new VirtualClock();
  const net = new SimNetwork({ clock, random: new Random(seed), link: { delayMs: { min: 1, max: 2 } } });
  const peers = Object.fromEntries(ids.map((id) => [id, [`mem://${id}`]]));
  const nodes = ids.map((id) =>
    createNode({ id, transports: [net.createTransport(`mem://${id}`)], peers, clock, timing })
  );
  const together = () => nodes.every((n) => n.gcm.agreed && n.gcm.view.members.length === ids.length);
  expect(await runUntil(clock, together, formMs)).toBe(true);
  return { clock, net, nodes };
}
