/**
 * The real stack for the harness: every node gets a MemoryTransport on one SimNetwork and a real
 * TransportManager; the GCM runs on top. Loss, duplication and reordering come from the network.
 * @module
 */
import type { VirtualClock } from "../../base/clock.ts";
import { TransportManager } from "../../transport/manager.ts";
import { SimNetwork } from "../../transport/backends/memory.ts";
import type { Random } from "../../base/random.ts";
import type { Backend } from "./cluster.ts";

/** Link quality of the simulated network. */
export interface RealBackendOptions {
  loss?: number;
  duplicate?: number;
  reorder?: number;
}

/** Builds the real-stack backend. */
export function realBackend(options: RealBackendOptions = {}) {
  return (clock: VirtualClock, random: Random): Backend => {
    const net = new SimNetwork({
      clock,
      random,
      link: {
        loss: options.loss ?? 0.02,
        duplicate: options.duplicate ?? 0.01,
        reorder: options.reorder ?? 0.02,
        delayMs: { min: 1, max: 3 },
      },
    });
    const tms = new Map<string, TransportManager>();
    const addr = (id: string) => `mem://${id}`;
    return {
      // rto starts at 10 ms, at most 20; 4 resends: a dead peer is declared within ~100 ms.
      failureMs: 110,
      layer(id, incarnation, peers) {
        if (net.isLive(addr(id))) net.crash(addr(id));
        const tm = new TransportManager({
          nodeId: id,
          transports: [net.createTransport(addr(id))],
          clock,
          incarnation,
          rtoInitialMs: 10,
          rtoMinMs: 5,
          rtoMaxMs: 20,
          retries: 4,
        });
        for (const p of peers) tm.setAddresses(p, [addr(p)]);
        tms.set(id, tm);
        return {
          nodeId: id,
          post: (to, channel, msg, outcome) => {
            if (tm.addressesOf(to).length === 0) tm.setAddresses(to, [addr(to)]);
            tm.post(to, channel, msg, outcome);
          },
          onMessage: (channel, fn) => tm.onMessage(channel, fn),
          // Members declare their addresses to each other (addresses.ts) and derive their Hungry
          // timeout from the Transport Manager's measured failure time, as with createNode.
          addresses: tm.addresses,
          declareAddresses: (node, list) => tm.declareAddresses(node, list),
          failureTimeMs: tm.failureTimeMs,
          failureTimeFloorMs: tm.failureTimeFloorMs,
          failureTimeOf: (node) => tm.failureTimeOf(node),
          close: () => {
            void tm.close();
          },
        };
      },
      cut: (a, b, oneWay) => net.cut(addr(a), addr(b), { oneWay }),
      heal: (a, b) => net.heal(addr(a), addr(b)),
      healAll: () => net.healAll(),
      calm: () => net.setDefaultLink({ loss: 0, duplicate: 0, reorder: 0 }),
      crash(id) {
        if (net.isLive(addr(id))) net.crash(addr(id));
      },
    };
  };
}
