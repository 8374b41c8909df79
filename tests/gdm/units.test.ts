import { describe, expect, it } from "vitest";
import { decideRound, type Hello } from "../../gdm/merge_round.ts";
import { decodeChunk, decodeOp, encodeChunk, encodeOp, type Op } from "../../gdm/ops.ts";
import { DecodeError } from "../../base/errors.ts";
import { applyPatch, decodeValue, encodeValue } from "../../gdm/value.ts";
import { PatchError } from "../../gdm/errors.ts";
import { applyOp, emptyState } from "../../gdm/state.ts";
import { readLock } from "../../gdm/locks.ts";

const hello = (me: string, d: number, side: string[], m: string[]): Hello => ({
  t: "hello",
  m,
  vi: 9,
  me,
  side,
  d,
});

describe("wire format", () => {
  it("round-trips operations and chunks; rejects bad bytes with DecodeError only", () => {
    const op: Op = { t: "w", id: "a#1#1", s: [3, "a"], w: [{ k: "x", v: encodeValue({ n: 1 }) }] };
    const bytes = encodeOp(op);
    const back = decodeOp(bytes) as Extract<Op, { t: "w" }>;
    expect([back.t, back.id, back.s, back.w[0].k]).toEqual(["w", "a#1#1", [3, "a"], "x"]);
    expect(decodeValue(back.w[0].v!)).toEqual({ n: 1 });
    expect(() => decodeOp(encodeOp({ t: "w" } as unknown as Op))).toThrow(DecodeError); // fields missing
    const chunk = {
      rid: "r",
      n: 0,
      last: true,
      clock: 4,
      items: [["k", { v: new Uint8Array([1]), s: [1, "a"], w: "a" }]] as const,
    };
    expect(decodeChunk(encodeChunk(chunk)).items[0][0]).toBe("k");
    for (
      const bad of [
        new Uint8Array([]),
        new Uint8Array([1, 2, 3, 4]),
        new Uint8Array([0xd7, 9, 1, 0]),
        new Uint8Array([0xd7, 1, 1, 0xff, 0xff]),
      ]
    ) {
      expect(() => decodeOp(bad)).toThrow(DecodeError);
    }
    expect(() => decodeChunk(encodeOp(op))).toThrow(DecodeError);
  });
});

describe("partial updates", () => {
  it("byte ranges extend binary values; paths create objects; misfits throw PatchError", () => {
    const b = applyPatch(encodeValue(new Uint8Array([1, 2])), { offset: 4, bytes: new Uint8Array([9]) });
    expect(decodeValue(b)).toEqual(new Uint8Array([1, 2, 0, 0, 9]));
    const o = applyPatch(encodeValue({ a: 1 }), { path: ["b", "c"], value: [1] });
    expect(decodeValue(o)).toEqual({ a: 1, b: { c: [1] } });
    expect(decodeValue(applyPatch(o, { path: ["a"], remove: true }))).toEqual({ b: { c: [1] } });
    expect(() => applyPatch(encodeValue("text"), { offset: 0, bytes: new Uint8Array([1]) })).toThrow(
      PatchError,
    );
    expect(() => applyPatch(encodeValue(5), { path: ["x"], value: 1 })).toThrow(PatchError);
  });
});

describe("merge rounds (pure decision)", () => {
  const m = ["a#1", "b#1", "c#1"];
  it("same side everywhere: nobody pulls", () => {
    const d = decideRound(m.map((x) => hello(x, 5, m, m)));
    expect(d.primary).toBe("a#1");
    expect([...d.pullers]).toEqual([]);
  });
  it("a fresh joiner pulls; a rejoining side with data reconciles once per side", () => {
    const d = decideRound([
      hello("a#1", 5, ["a#1", "b#1"], m),
      hello("b#1", 5, ["a#1", "b#1"], m),
      hello("c#1", 0, ["c#1"], m),
    ]);
    expect([...d.pullers]).toEqual(["c#1"]);
    expect([...d.reconcilers]).toEqual([]);
    const e = decideRound([
      hello("a#1", 5, ["a#1"], m),
      hello("b#1", 7, ["b#1", "c#1"], m),
      hello("c#1", 7, ["b#1", "c#1"], m),
    ]);
    expect(e.primary).toBe("b#1"); // most items
    expect([...e.pullers]).toEqual(["a#1"]);
    expect([...e.reconcilers]).toEqual(["a#1"]);
  });
  it("a member still waiting for state (d = -1) always pulls; with no data anywhere nobody does", () => {
    const d = decideRound(m.map((x, i) => hello(x, i === 2 ? -1 : 3, m, m)));
    expect([...d.pullers]).toEqual(["c#1"]);
    expect(decideRound(m.map((x) => hello(x, 0, [x], m))).primary).toBeUndefined();
  });
  it("a stale copy (health-check rejoin) is never primary beside a current one: it reconciles and pulls", () => {
    const d = decideRound([
      { ...hello("a#2", 9, ["a#2"], m), st: true }, // more items, lowest ID, but stale
      hello("b#1", 5, ["b#1", "c#1"], m),
      hello("c#1", 5, ["b#1", "c#1"], m),
    ]);
    expect(d.primary).toBe("b#1");
    expect([...d.pullers]).toEqual(["a#2"]);
    expect([...d.reconcilers]).toEqual(["a#2"]);
    // Only stale copies hold data: they count as ordinary data and are merged.
    const e = decideRound([
      { ...hello("a#2", 3, ["a#2"], m), st: true },
      { ...hello("b#2", 4, ["b#2"], m), st: true },
      hello("c#1", 0, ["c#1"], m),
    ]);
    expect(e.primary).toBe("b#2");
    expect([...e.pullers].sort()).toEqual(["a#2", "c#1"]);
    expect([...e.reconcilers]).toEqual(["a#2"]);
  });
});

describe("quiet reconcile (a stale copy)", () => {
  it("merges by stamp like any reconcile but reports no conflict", () => {
    const item = (v: number, s: number, b?: number) => ({
      v: encodeValue(v),
      s: [s, "a"] as [number, string],
      w: "a",
      ...(b !== undefined ? { b: [b, "a"] as [number, string] } : {}),
    });
    const st = emptyState();
    st.items.set("x", item(3, 3, 2)); // updated twice since the copy's version 1
    const copy: Array<readonly [string, ReturnType<typeof item>]> = [["x", item(1, 1)], ["y", item(7, 7)]];
    const loud = applyOp({ items: new Map(st.items), clock: 3 }, { t: "rc", s: [8, "b"], items: copy });
    expect(loud.some((e) => e.type === "conflict")).toBe(true);
    const out = applyOp(st, { t: "rc", s: [8, "b"], items: copy, q: true });
    expect(out.some((e) => e.type === "conflict")).toBe(false);
    expect(decodeValue(st.items.get("x")!.v!)).toBe(3); // the newer version stays
    expect(decodeValue(st.items.get("y")!.v!)).toBe(7); // what only the copy held comes back
    expect(decodeOp(encodeOp({ t: "chk", round: "chk|a#1#3", from: "a#1", to: "b#1" })).t).toBe("chk");
  });
});

describe("lock state machine", () => {
  it("a late copy of a finished request is not granted again; an old release cannot free a new grant", () => {
    const st = emptyState();
    const lock = (id: string, c: number): Op => ({ t: "lock", id, s: [c, "a"], n: "L", o: "a#1", vi: 1 });
    applyOp(st, lock("r1", 1));
    applyOp(st, { t: "unlock", id: "u1", s: [2, "a"], n: "L", o: "a#1", q: "r1" });
    applyOp(st, lock("r1", 3)); // late copy
    expect(readLock(st, "L").o).toBeNull();
    applyOp(st, lock("r2", 4));
    const out = applyOp(st, { t: "unlock", id: "u1", s: [2, "a"], n: "L", o: "a#1", q: "r1" }); // late copy
    expect(readLock(st, "L").r).toBe("r2");
    expect(out.some((e) => e.type === "done" && e.error === "notOwner")).toBe(true);
  });
});
