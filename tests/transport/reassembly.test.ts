import { describe, expect, it } from "vitest";
import type { DataFrame } from "../../transport/codec.ts";
import { Reassembly, ReassemblyBudget } from "../../transport/reassembly.ts";

const frag = (msgId: number, total: number, offset: number, len: number, channel = 0): DataFrame => ({
  channel,
  whole: false,
  msgId,
  total,
  offset,
  bytes: new Uint8Array(len).fill(msgId),
});

/** Offers one packet; returns the messages it completed, or "refused". */
function offer(r: Reassembly, frames: DataFrame[]): number[] | "refused" {
  if (!r.admits(frames)) return "refused";
  const out: number[] = [];
  for (const f of frames) {
    const m = r.add(f);
    if (m !== undefined) out.push(m[0]);
  }
  return out;
}

describe("Reassembly", () => {
  it("hands a message up only when every byte arrived, in any fragment order", () => {
    const r = new Reassembly(4, 1 << 20);
    expect(offer(r, [frag(1, 30, 20, 10)])).toEqual([]);
    expect(offer(r, [frag(1, 30, 0, 10)])).toEqual([]);
    expect(r.size).toBe(1);
    expect(r.bytes).toBe(20); // what arrived, not the 30 the fragments declare
    expect(offer(r, [frag(1, 30, 10, 10)])).toEqual([1]);
    expect(r.size).toBe(0);
    expect(r.bytes).toBe(0);
  });

  it("cannot deadlock when newer messages overtake older ones (limit 1)", () => {
    const r = new Reassembly(1, 1 << 20);
    // Packets: P1 [m1 0..10] P2 [m1 10..20 | m2 0..5] P3 [m2 5..20]. P3 arrives first.
    const p1 = [frag(1, 20, 0, 10)];
    const p2 = [frag(1, 20, 10, 10), frag(2, 20, 0, 5)];
    const p3 = [frag(2, 20, 5, 15)];
    // Taking P3 first would give the only slot to m2; then P1 (opening m1) and P2 (finishing m1,
    // but only once m1 is open) could never be taken. So P3 waits until m1 is finished.
    expect(offer(r, p3)).toBe("refused");
    expect(offer(r, p2)).toBe("refused"); // m1 is not open yet: its completion needs P1 first
    expect(offer(r, p1)).toEqual([]);
    expect(offer(r, p3)).toBe("refused");
    expect(offer(r, p2)).toEqual([1]); // completes m1 and opens m2 in one packet
    expect(offer(r, p3)).toEqual([2]);
  });

  it("refuses inconsistent or finished message numbers and respects the byte budget", () => {
    const r = new Reassembly(8, 15);
    expect(offer(r, [frag(1, 80, 0, 10)])).toEqual([]);
    expect(offer(r, [frag(1, 81, 10, 10)])).toBe("refused"); // other size
    expect(offer(r, [frag(1, 80, 10, 10, 5)])).toBe("refused"); // other channel
    expect(offer(r, [frag(2, 80, 0, 10)])).toBe("refused"); // over the byte budget, not the oldest
    expect(offer(r, [frag(1, 80, 10, 70)])).toEqual([1]);
    expect(r.bytes).toBe(0);
    expect(offer(r, [frag(1, 80, 0, 10)])).toBe("refused"); // finished already
    expect(offer(r, [frag(2, 80, 0, 10)])).toEqual([]);
    expect(offer(r, [frag(20, 80, 0, 10)])).toBe("refused"); // beyond the window of 8
  });

  it("admits the oldest unfinished message even beyond the per-sender budget", () => {
    const r = new Reassembly(2, 100);
    expect(offer(r, [frag(1, 500, 0, 300)])).toEqual([]);
    expect(offer(r, [frag(1, 500, 300, 100)])).toEqual([]);
    expect(r.bytes).toBe(400);
    expect(offer(r, [frag(2, 500, 0, 10)])).toBe("refused");
  });

  it("holds what arrived, not what a first fragment declares, and shares one overall budget", () => {
    const budget = new ReassemblyBudget(1000);
    const senders = Array.from({ length: 4 }, () => new Reassembly(64, 1 << 30, budget));
    // First fragments of "64 MiB messages": each costs its own 300 bytes.
    for (const r of senders.slice(0, 3)) expect(offer(r, [frag(1, 64 << 20, 0, 300)])).toEqual([]);
    expect(budget.bytes).toBe(900);
    expect(offer(senders[3], [frag(1, 64 << 20, 0, 300)])).toBe("refused"); // the overall bound
    expect(offer(senders[3], [frag(1, 100, 0, 100)])).toEqual([1]); // complete at once: holds nothing
    senders[0].release(); // a session ends: its bytes go back
    expect(budget.bytes).toBe(600);
    expect(offer(senders[3], [frag(2, 64 << 20, 0, 300)])).toEqual([]);
    expect(budget.bytes).toBe(900);
  });
});
