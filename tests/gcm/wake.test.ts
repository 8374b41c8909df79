/**
 * Wake-ups: a member that wants the token of an idle ring asks its ring-mates to pass it on at once,
 * so a long idle hold (few token visits, little CPU) does not delay the first message after a quiet
 * spell by a round of holds; under load the token moves anyway and no wake-up is sent.
 */
import { describe, expect, it } from "vitest";
import { DecodeError } from "../../base/errors.ts";
import { Random } from "../../base/random.ts";
import { decode, encodeWake, KIND_WAKE } from "../../gcm/codec.ts";
import { simRing } from "../helpers/sim_ring.ts";
import { runUntil } from "../transport/_helpers.ts";

const EATING_MS = 200;

/** Four members that keep an idle token 200 ms each (an idle round of 800 ms). */
async function idleRing() {
  const { clock, nodes } = await simRing(["a", "b", "c", "d"], {
    rtoInitialMs: 20,
    eatingMs: EATING_MS,
    idleRoundMs: 4 * EATING_MS,
    hungryMs: 3000,
  }, 9);
  const delivered = nodes.map(() => 0);
  nodes.forEach((n, i) => n.gcm.on("deliver", () => delivered[i]++));
  const wakes = () => nodes.reduce((s, n) => s + n.metrics().token.wakesSent, 0);
  return { clock, nodes, delivered, wakes };
}

describe("wake-ups", () => {
  it("a message sent into an idle ring reaches every member in milliseconds, not a round of holds", async () => {
    const r = await idleRing();
    const random = new Random(3);
    for (let i = 0; i < 12; i++) {
      // A quiet spell, then one member sends at a moment unrelated to where the token is.
      await runUntil(r.clock, () => false, 1000 + random.between(0, 800));
      const sender = r.nodes[random.between(0, 3)];
      const before = r.delivered.slice();
      const wakesBefore = r.wakes();
      const t0 = r.clock.now();
      sender.gcm.multicast(new Uint8Array([i]));
      const everywhere = () => r.delivered.every((d, k) => d === before[k] + 1);
      expect(await runUntil(r.clock, everywhere, 2000)).toBe(true);
      // Without wake-ups the token sits up to 200 ms at each of the three other members.
      expect(r.clock.now() - t0).toBeLessThan(60);
      // One wake-up to each ring-mate at most, and none when the sender held the token itself.
      expect(r.wakes() - wakesBefore).toBeLessThanOrEqual(3);
    }
    expect(r.wakes()).toBeGreaterThan(0);
  });

  it("a critical section in an idle ring starts in milliseconds", async () => {
    const r = await idleRing();
    for (let i = 0; i < 4; i++) {
      await runUntil(r.clock, () => false, 1500);
      const t0 = r.clock.now();
      let entered = -1;
      const done = r.nodes[i].gcm.withToken(() => {
        entered = r.clock.now();
      });
      expect(await runUntil(r.clock, () => entered >= 0, 2000)).toBe(true);
      await done;
      expect(entered - t0).toBeLessThan(60);
    }
  });

  it("sends none while traffic keeps the token moving", async () => {
    const r = await idleRing();
    // Every member multicasts every 2 ms for a second: after the first round the token never rests
    // (the first messages may wake it: it was idle).
    let wakesAfterStart = 0;
    for (let t = 0; t < 1000; t += 2) {
      if (t === 100) wakesAfterStart = r.wakes();
      for (const n of r.nodes) n.gcm.multicast(new Uint8Array([t & 0xff]));
      await runUntil(r.clock, () => false, 2);
    }
    expect(await runUntil(r.clock, () => r.delivered.every((d) => d === 2000), 5000)).toBe(true);
    expect(wakesAfterStart).toBeLessThanOrEqual(2 * 3);
    expect(r.wakes() - wakesAfterStart).toBe(0);
  });

  it("encodes its lineage and refuses damaged bytes", () => {
    const bytes = encodeWake("ring-7");
    expect(decode(bytes)).toEqual({ kind: KIND_WAKE, ringId: "ring-7" });
    expect(() => decode(bytes.subarray(0, bytes.length - 1))).toThrow(DecodeError);
    expect(() => decode(new Uint8Array([...bytes, 0]))).toThrow(DecodeError);
  });
});
