/**
 * Thesis 4.5 in numbers: N members multicasting one message each cost the token ring 2N−1 token
 * hops (the last message appended still has to go round) and at most N wake-ups of the idle token,
 * far below a unicast broadcast's 2N(N−1) packets with acknowledgements. Exact counts from the
 * deterministic simulator.
 */
import { describe, expect, it } from "vitest";
import { countWire } from "../../bench/wire.ts";

describe("packets on the wire (thesis 4.5)", () => {
  for (const nodes of [3, 4, 6, 8]) {
    it(`${nodes} members: one ring burst beats unicast broadcast`, () => {
      const c = countWire(nodes, 100);
      expect(c.unicastPackets).toBe(2 * nodes * (nodes - 1));
      expect(c.ringTokenHops).toBeLessThanOrEqual(2 * nodes - 1);
      // The burst starts in an idle ring: members wake the token, one wake-up per member at most.
      expect(c.ringWakes).toBeLessThanOrEqual(nodes);
      // every token hop and wake-up is acknowledged once by the Transport Manager, nothing else is sent
      expect(c.ringPackets).toBeLessThanOrEqual(2 * (c.ringTokenHops + c.ringWakes));
      if (nodes >= 4) expect(c.ringPackets).toBeLessThan(c.unicastPackets);
    });
  }
});
