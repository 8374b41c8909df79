/**
 * processHistory turns the output of real member processes into the checker's history: process keys
 * from the views, multicasts keyed by the deliveries of their payload, a SIGKILL after the last line
 * printed, the quiet tail and the end on the run's one clock; and it says that safe holders are
 * unknown. A history it builds from a correct run passes the checker, and one with a lost message
 * does not.
 */
import { describe, expect, it } from "vitest";
import { checkHistory, formatViolation } from "../../sim/evs/check.ts";
import { type PrintedLine, processHistory, type ProcessLife } from "../../sim/evs/process_history.ts";

const view = (t: number, id: string, index: number, previous: string, detail: string[]): PrintedLine => ({
  t,
  event: "view",
  id,
  index,
  previous,
  members: detail.map((d) => d.split("#")[0]),
  detail,
});
const deliver = (
  t: number,
  from: string,
  inc: number,
  seq: number,
  data: string,
  config: string,
): PrintedLine => ({
  t,
  event: "deliver",
  from,
  inc,
  seq,
  level: "agreed",
  view: config,
  transitional: config.includes(">"),
  data,
});

/** a and b in V1; b multicasts "b1", is SIGKILLed; a delivers it in T, installs V2 and sends "a1" in the quiet tail. */
function run(): { lives: ProcessLife[]; quietFrom: number; end: number } {
  const V1 = "1:a/7/1", V2 = "2:a/7/2", T = `${V1}>${V2}`;
  const a: ProcessLife = {
    node: "a",
    lines: [
      { t: 100, event: "ready", id: "a" },
      view(101, V1, 1, "", ["a#7", "b#9"]),
      deliver(120, "b", 9, 1, "b1", V1),
      { t: 200, event: "transitional", id: T, previous: V1, next: V2, members: ["a"], detail: ["a#7"] },
      view(201, V2, 2, V1, ["a#7"]),
      deliver(310, "a", 7, 2, "a1", V2),
    ],
    sends: [{ t: 300, text: "a1", level: "agreed" }],
  };
  const b: ProcessLife = {
    node: "b",
    lines: [view(102, V1, 1, "", ["a#7", "b#9"]), deliver(121, "b", 9, 1, "b1", V1)],
    sends: [{ t: 110, text: "b1", level: "agreed" }, { t: 115, text: "b2", level: "agreed" }],
    killedAt: 118, // its clock ran a little ahead: the kill goes after its last line all the same
  };
  return { lives: [a, b], quietFrom: 250, end: 400 };
}

describe("processHistory", () => {
  it("builds the checker's history from printed lines, typed multicasts and kills", () => {
    const { lives, quietFrom, end } = run();
    const h = processHistory({ mode: "three-phase", lives, quietFrom, end: { t: end, live: [lives[0]] } });
    expect(h.holdersKnown).toBe(false);
    expect(h.procs.map((p) => p.proc)).toEqual(["a#7", "b#9"]);
    const b = h.procs[1].items;
    expect(b.map((i) => i.kind)).toEqual(["view", "send", "send", "deliver", "crash"]);
    // b1 takes the key its deliveries name; b2, delivered nowhere, a key no delivery has.
    expect(b[1]).toMatchObject({ kind: "send", msg: "b#9#1" });
    expect(b[2]).toMatchObject({ kind: "send", msg: "b#9#unseen1" });
    const steps = h.procs.flatMap((p) => p.items.map((i) => i.step)).sort((x, y) => x - y);
    expect(steps).toEqual(steps.map((_, i) => i + 1));
    const aSend = h.procs[0].items.find((i) => i.kind === "send")!;
    expect(h.end).toMatchObject({
      live: [{ proc: "a#7", agreed: true }],
      quietFrom: aSend.step,
      at: end - 101, // ms since the first item (a's first view)
    });
    expect(checkHistory(h).map(formatViolation)).toEqual([]);
  });

  it("a lost quiet-tail message fails the check", () => {
    const { lives, quietFrom, end } = run();
    const a = { ...lives[0], lines: lives[0].lines.slice(0, -1) };
    const h = processHistory({
      mode: "three-phase",
      lives: [a, lives[1]],
      quietFrom,
      end: { t: end, live: [a] },
    });
    expect(checkHistory(h).map((v) => v.name)).toEqual(["self-delivery", "no loss"]);
  });
});
