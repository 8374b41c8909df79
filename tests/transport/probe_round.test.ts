/** The verdicts of a probe round: when an incarnation is believed, and whom a conflict keeps. */
import { describe, expect, it } from "vitest";
import { judgeRound, type ProbeAnswer, type RoundContext } from "../../transport/probe_round.ts";

const at = (address: string, inc: number): ProbeAnswer => ({
  address,
  inc,
  epoch: 1,
  baseSeq: 1,
  window: 256,
  otherInc: 0,
  refused: false,
});
const ctx = (o: Partial<RoundContext>): RoundContext => ({
  known: 0,
  homes: new Set(),
  configured: [],
  closed: false,
  ...o,
});

describe("judgeRound", () => {
  it("waits for an answer, and calls a round without one silent only when it is over", () => {
    expect(judgeRound([], ctx({})).kind).toBe("wait");
    expect(judgeRound([], ctx({ closed: true })).kind).toBe("silent");
  });

  it("adopts the first incarnation heard, and confirms the known one", () => {
    expect(judgeRound([at("x", 5)], ctx({}))).toMatchObject({ kind: "adopt", answer: { inc: 5 } });
    expect(judgeRound([at("x", 5)], ctx({ known: 5 }))).toMatchObject({ kind: "adopt" });
  });

  it("adopts a new incarnation at once only where the known one used to answer", () => {
    const homes = new Set(["home"]);
    // A restart at the same address: the process there now answers with another incarnation.
    expect(judgeRound([at("home", 9)], ctx({ known: 5, homes })).kind).toBe("adopt");
    // Elsewhere (a packet's source): wait for the known one's addresses until the round is over…
    expect(judgeRound([at("elsewhere", 9)], ctx({ known: 5, homes })).kind).toBe("wait");
    // …and adopt it only if the known incarnation stayed silent all along.
    expect(judgeRound([at("elsewhere", 9)], ctx({ known: 5, homes, closed: true })).kind).toBe("adopt");
  });

  it("keeps, in a conflict, the process at the configured address, else the known one, else the older", () => {
    const two = [at("attacker", 2 ** 53 - 1), at("configured", 5)];
    expect(judgeRound(two, ctx({ configured: ["configured"] }))).toMatchObject({
      kind: "conflict",
      answer: { inc: 5 },
      incarnations: [5, 2 ** 53 - 1],
    });
    // Configured beats known (a forger that got in first is replaced by the real process).
    expect(judgeRound(two, ctx({ known: 2 ** 53 - 1, configured: ["configured"] }))).toMatchObject({
      answer: { inc: 5 },
    });
    expect(judgeRound([at("a", 7), at("b", 3)], ctx({ known: 7 }))).toMatchObject({ answer: { inc: 7 } });
    expect(judgeRound([at("a", 7), at("b", 3)], ctx({}))).toMatchObject({ answer: { inc: 3 } });
  });
});
