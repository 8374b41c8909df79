/**
 * The GDM's pure pieces, each on its own: the wire format, partial updates, the round's decision,
 * the merge of items and of lock states (commutative, associative, idempotent), the lock state
 * machine with its fencing tokens, sessions, and epochs.
 */
import { describe, expect, it } from "vitest";
import { DecodeError } from "../../base/errors.ts";
import { decodeDirect, decodeOperations, encodeDirect, encodeOperations } from "../../gdm/codec.ts";
import { nextEpoch, originEpoch } from "../../gdm/epoch.ts";
import { PatchError } from "../../gdm/errors.ts";
import { mergeItems } from "../../gdm/items.ts";
import {
  evictLocks,
  FREE_LOCK,
  mergeLockStates,
  releaseLock,
  requestLock,
  withdrawLock,
} from "../../gdm/locks.ts";
import type { Item, LockState } from "../../gdm/model.ts";
import type { HelloOp, Operation, StateOp } from "../../gdm/operations.ts";
import { applyStateOp, emptyReplica } from "../../gdm/replica.ts";
import { decideRound } from "../../gdm/round.ts";
import { mergeSessions, recordApplied, type Sessions, wasApplied } from "../../gdm/sessions.ts";
import { applyPatch, decodeValue, encodeValue } from "../../gdm/value.ts";

describe("wire format", () => {
  it("round-trips operations and direct messages; rejects bad bytes with DecodeError only", () => {
    const ops: Operation[] = [
      {
        kind: "write",
        issuer: "a#1.1",
        n: 1,
        stamp: [3, "a"],
        writes: [{ key: "x", value: new Uint8Array(encodeValue({ n: 1 })) }],
      },
      { kind: "lock", issuer: "a#1.1", n: 2, stamp: [4, "a"], name: "L", owner: "a#1", acks: true },
      { kind: "synced", member: "b#2" },
    ];
    const back = decodeOperations(encodeOperations(ops));
    expect(back).toEqual(ops);
    expect(decodeValue((back[0] as Extract<StateOp, { kind: "write" }>).writes[0].value!)).toEqual({ n: 1 });
    const chunk = {
      view: "v",
      n: 0,
      last: true,
      totalItems: 1,
      totalBytes: 10,
      items: [["k", { stamp: [1, "a"] }]] as const,
    };
    expect(
      decodeDirect(
        encodeDirect({
          kind: "chunk",
          chunk: { ...chunk, head: { locks: [], sessions: [], clock: 1, applied: 0 } },
        }),
      ),
    )
      .toEqual({
        kind: "chunk",
        chunk: { ...chunk, head: { locks: [], sessions: [], clock: 1, applied: 0 } },
      });
    for (
      const bad of [
        new Uint8Array([]),
        new Uint8Array([1, 2, 3, 4]),
        new Uint8Array([0xd7, 9, 1, 0]),
        new Uint8Array([0xd7, 2, 1, 0xff, 0xff]),
      ]
    ) {
      expect(() => decodeOperations(bad)).toThrow(DecodeError);
      expect(() => decodeDirect(bad)).toThrow(DecodeError);
    }
    expect(() => decodeDirect(encodeOperations(ops))).toThrow(DecodeError); // a batch is no direct message
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

const hello = (member: string, epoch: string | null, applied: number, items = applied): HelloOp => ({
  kind: "hello",
  view: "v9",
  member,
  epoch,
  items,
  applied,
  clock: applied,
  digest: `${epoch}:${applied}`,
  stale: false,
  locks: [],
  sessions: [],
});

describe("the round's decision", () => {
  it("keeps the class whose history went furthest; the others pull, spread over the kept members", () => {
    const d = decideRound("v9", [
      hello("a#1", "E", 5),
      hello("b#1", "E", 5),
      hello("c#1", "F", 9),
      hello("d#1", null, 0),
    ]);
    expect([d.keptEpoch, d.kept]).toEqual(["F", ["c#1"]]);
    expect(d.pullers).toEqual(["a#1", "b#1", "d#1"]);
    expect([...d.sourceOf.values()]).toEqual(["c#1", "c#1", "c#1"]);
    const e = decideRound("v9", [
      hello("a#1", "E", 5),
      hello("b#1", "E", 5),
      hello("c#1", null, 0),
      hello("d#1", null, 0),
    ]);
    expect(e.kept).toEqual(["a#1", "b#1"]);
    expect([...e.sourceOf]).toEqual([["c#1", "a#1"], ["d#1", "b#1"]]);
  });

  it("with no usable replica anywhere everybody starts empty; the clock rises to the highest announced", () => {
    const d = decideRound("v9", [hello("a#1", null, 0), { ...hello("b#1", null, 0), clock: 77 }]);
    expect([d.keptEpoch, d.pullers, d.clock]).toEqual([null, [], 77]);
  });

  it("reports members of one class that announce different digests (an assertion, never a repair)", () => {
    const d = decideRound("v9", [hello("a#1", "E", 5), { ...hello("b#1", "E", 5), digest: "other" }]);
    expect(d.diverged).toEqual(["E"]);
  });

  it("merges lock states: the highest fencing token, the kept side's waiters", () => {
    const kept: LockState = {
      holder: { owner: "a#1", request: "r7", fence: 7 },
      fence: 7,
      waiting: [{ owner: "b#1", request: "r8" }],
    };
    const other: LockState = {
      holder: { owner: "c#1", request: "r9", fence: 9 },
      fence: 9,
      waiting: [{ owner: "d#1", request: "r10" }],
    };
    const d = decideRound("v9", [{ ...hello("a#1", "E", 5), locks: [["L", kept]] }, {
      ...hello("c#1", "F", 1),
      locks: [["L", other]],
    }]);
    expect(d.locks.get("L")).toEqual({
      holder: other.holder,
      fence: 9,
      waiting: [{ owner: "b#1", request: "r8" }],
    });
  });
});

describe("merges are order-free", () => {
  const item = (v: string, c: number, node: string, replaced?: [number, string]): Item => ({
    value: encodeValue(v),
    stamp: [c, node],
    ...(replaced === undefined ? {} : { replaced }),
  });
  const dump = (m: Map<string, Item>) =>
    JSON.stringify([...m].sort().map(([k, it]) => [k, it.stamp, [...(it.value ?? [])]]));

  it("items: highest stamp wins, node breaks ties; commutative, idempotent; conflicts only for two-sided writes", () => {
    const base = new Map<string, Item>([["same", item("s", 1, "a")], ["one-sided", item("v0", 2, "a")]]);
    const left = new Map(base).set("both", item("L", 5, "a")).set("later", item("L", 9, "a")).set(
      "only-left",
      item("x", 6, "a"),
    );
    const right = new Map(base).set("both", item("R", 5, "b")).set("later", item("R", 3, "c"))
      .set("one-sided", item("v1", 4, "c", [2, "a"]));
    const lr = new Map(left);
    const { conflicts } = mergeItems(lr, right, false);
    const rl = new Map(right);
    mergeItems(rl, left, false);
    expect(dump(lr)).toBe(dump(rl));
    const again = new Map(lr);
    expect(mergeItems(again, right, false).changes).toEqual([]);
    expect(lr.get("both")!.stamp).toEqual([5, "b"]);
    expect(lr.get("one-sided")!.stamp).toEqual([4, "c"]);
    expect(conflicts.map((c) => c.key).sort()).toEqual(["both", "later"]);
    expect(mergeItems(new Map(left), right, true).conflicts).toEqual([]); // a stale copy: quiet
  });

  it("locks: the holder and token merge commutatively, associatively and idempotently", () => {
    const states: LockState[] = [
      FREE_LOCK,
      { holder: { owner: "a#1", request: "r1", fence: 3 }, fence: 3, waiting: [] },
      { holder: { owner: "b#1", request: "r2", fence: 3 }, fence: 4, waiting: [] },
      { fence: 6, waiting: [] },
      { holder: { owner: "c#1", request: "r3", fence: 5 }, fence: 5, waiting: [] },
    ];
    const core = (s: LockState) => JSON.stringify([s.fence, s.holder ?? null]);
    for (const x of states) {
      expect(core(mergeLockStates(x, [x]))).toBe(core(x));
      for (const y of states) {
        expect(core(mergeLockStates(x, [y]))).toBe(core(mergeLockStates(y, [x])));
        for (const z of states) {
          expect(core(mergeLockStates(mergeLockStates(x, [y]), [z]))).toBe(
            core(mergeLockStates(x, [mergeLockStates(y, [z])])),
          );
        }
      }
    }
  });
});

describe("locks", () => {
  it("grant first come first served, each grant with the next fencing token; releases name their grant", () => {
    let l = FREE_LOCK;
    const step = (r: ReturnType<typeof requestLock>) => {
      if (r === undefined || "notOwner" in r) throw new Error("unexpected");
      l = r.changed;
      return r.granted;
    };
    expect(step(requestLock(l, "a#1", "r1"))).toEqual({ owner: "a#1", request: "r1", fence: 1 });
    expect(step(requestLock(l, "b#1", "r2"))).toBeUndefined();
    expect(requestLock(l, "b#1", "r2")).toBeUndefined(); // a copy changes nothing
    expect(releaseLock(l, "a#1", "r0")).toEqual({ notOwner: "a#1" }); // a release of another grant
    expect(step(releaseLock(l, "a#1", "r1"))).toEqual({ owner: "b#1", request: "r2", fence: 2 });
    expect(step(withdrawLock(l, "b#1", "r2"))).toBeUndefined();
    expect(l).toEqual({ fence: 2, waiting: [] }); // free, and the token is remembered
    expect(step(requestLock(l, "c#1", "r3"))!.fence).toBe(3);
  });

  it("a view change frees the grants and requests of members that are gone; the next waiter gets the lock", () => {
    const l: LockState = {
      holder: { owner: "a#1", request: "r1", fence: 4 },
      fence: 4,
      waiting: [{ owner: "x#1", request: "r2" }, { owner: "b#1", request: "r3" }],
    };
    const [out] = evictLocks(new Map([["L", l]]), new Set(["b#1"]));
    expect(out.state).toEqual({ holder: { owner: "b#1", request: "r3", fence: 5 }, fence: 5, waiting: [] });
  });
});

describe("sessions", () => {
  it("an operation is applied once, its failure is kept, and records merge as a union", () => {
    const r = emptyReplica();
    const op: StateOp = {
      kind: "write",
      issuer: "i",
      n: 1,
      stamp: [1, "a"],
      writes: [{ key: "k", value: encodeValue(1) }],
    };
    expect(applyStateOp(r, op).some((e) => e.type === "change")).toBe(true);
    expect(applyStateOp(r, op)).toEqual([{
      type: "outcome",
      issuer: "i",
      n: 1,
      duplicate: true,
      acks: undefined,
    }]);
    const a: Sessions = new Map();
    const b: Sessions = new Map();
    for (const n of [1, 2, 4]) recordApplied(a, "i", n, n);
    recordApplied(b, "i", 3, 3, { kind: "conflict", detail: "x" });
    mergeSessions(a, b);
    expect(a.get("i")).toEqual({
      upTo: 4,
      above: [],
      failures: [[3, { kind: "conflict", detail: "x" }]],
      last: 4,
    });
    expect(wasApplied(a, "i", 5)).toBe(false);
  });
});

describe("epochs", () => {
  it("members that move through the same transitional configuration from one epoch share the next", () => {
    expect(nextEpoch("e", "V>W")).toBe(nextEpoch("e", "V>W"));
    expect(nextEpoch("e", "V>W")).not.toBe(nextEpoch("e", "V>X"));
    expect(nextEpoch("e", "V>W")).not.toBe(nextEpoch("f", "V>W"));
    expect(originEpoch("stored", "a#1")).not.toBe(originEpoch("stored", "a#2"));
  });
});
