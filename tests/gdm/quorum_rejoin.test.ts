/**
 * Quorum policy: a write left waiting for other members' disks by a transitional configuration
 * (`acks.untilView`) is decided by the next regular view — confirmed in a primary component, unknown
 * outside one. This file proves the `&& !rejoined` part of that rule in `GdmCore.view()`: when the
 * next view is one this member entered as a NEW GCM incarnation (a health-check leave, then a rejoin),
 * it is not the view that followed the transitional configuration, so even a primary component cannot
 * confirm the write: it must reject with `OutcomeUnknownError`, not resolve on the lone old
 * incarnation's own acknowledgement. The control case (same events, no rejoin) resolves, so the
 * rejoin alone makes the difference.
 *
 * It drives the pure `GdmCore` directly (events in, actions out): member `a` of a primary view
 * {a, b, c} with storage and the default durability (`fsync`: with the quorum policy every operation
 * is `safe`, so the write waits for every member's disk); `b` and `c` appear only through their hellos.
 */
import { describe, expect, it } from "vitest";
import type { CoreAction } from "../../gdm/actions.ts";
import { decodeOperations, encodeOperations } from "../../gdm/codec.ts";
import { GdmCore } from "../../gdm/core.ts";
import { OutcomeUnknownError } from "../../gdm/errors.ts";
import type { HelloOp } from "../../gdm/operations.ts";
import { encodeValue } from "../../gdm/value.ts";

const A1 = "a#1";
const A2 = "a#2";
const B = "b#1";
const C = "c#1";

/** A core of node `a` (incarnation 1), quorum policy over an expected group of 3, with storage. */
function harness() {
  const core = new GdmCore({
    nodeId: "a",
    incarnation: 1,
    issuer: "a#1.1",
    level: "agreed",
    durability: "fsync",
    quorum: true,
    majority: 2,
    chunkBytes: 262_144,
    pullTimeoutMs: 5000,
    maxOpBytes: 262_144,
    storage: true,
  });
  const multicasts: Uint8Array[] = [];
  const settled = new Map<number, { value?: unknown; error?: Error }>();
  let persists = 0;
  /** Runs an event, then carries out the actions: flush timers fire at once, every commit succeeds. */
  const step = (event: (c: GdmCore) => void) => {
    event(core);
    for (;;) {
      const actions: CoreAction[] = core.ready();
      if (actions.length === 0) break;
      for (const a of actions) {
        if (a.type === "multicast") multicasts.push(a.data);
        else if (a.type === "settle") settled.set(a.request, { value: a.value, error: a.error });
        else if (a.type === "timer" && a.name === "flush" && a.delayMs >= 0) core.timer("flush");
        else if (a.type === "persist") {
          persists++;
          core.stored(a.id, undefined);
        }
      }
    }
  };
  /** Delivers (in the regular view) every multicast of `a` not delivered yet, in order. */
  const loopback = () => {
    for (const data of multicasts.splice(0)) step((c) => c.deliver(data, false));
  };
  return { core, step, loopback, settled, multicasts, persists: () => persists };
}

function hello(view: string, member: string): HelloOp {
  return {
    kind: "hello",
    view,
    member,
    epoch: null,
    items: 0,
    applied: 0,
    clock: 0,
    digest: "",
    stale: false,
    locks: [],
    sessions: [],
  };
}

/**
 * `a` in the primary view {a, b, c}: the round completes (nobody had data), `a` writes, its write is
 * delivered and applied, `a`'s commit is on disk — and the write still waits for `b`'s and `c`'s
 * acknowledgements. Then a transitional configuration moves `a` on alone (`b`, `c` left behind):
 * the write waits for the next view (`untilView`). Returns the write's request number.
 */
function writeThenLeftBehind(h: ReturnType<typeof harness>): number {
  h.step((c) => c.view({ id: "v1", members: [A1, B, C], inQuorum: true, incarnation: 1 }));
  h.loopback(); // a's hello
  h.step((c) => c.deliver(encodeOperations([hello("v1", B), hello("v1", C)]), false));
  expect(h.core.applying).toBe(true);

  const id = h.core.request({ kind: "write", writes: [{ key: "x", value: encodeValue(1) }] });
  h.step(() => {});
  // The write went out as a safe operation asking every member for its disk acknowledgement.
  const sent = h.multicasts.flatMap((d) => decodeOperations(d));
  expect(sent).toMatchObject([{ kind: "write", n: 1, acks: true }]);
  h.loopback();
  expect(h.core.item("x")).toBeDefined(); // applied here
  expect(h.persists()).toBeGreaterThan(0); // and on a's disk…
  expect(h.core.pending).toMatchObject([{ kind: "write", state: "applied", waitsFor: [B, C] }]);
  expect(h.settled.has(id)).toBe(false); // …but b's and c's are still awaited

  h.step((c) => c.transitional("t1", [A1]));
  expect(h.core.pending).toMatchObject([{ kind: "write", state: "applied", waitsFor: [] }]);
  expect(h.settled.has(id)).toBe(false); // untilView: the next view decides
  return id;
}

describe("quorum policy: a write left behind by a transitional configuration", () => {
  it("after a health-check leave and rejoin, even a primary view leaves its outcome unknown", () => {
    const h = harness();
    const id = writeThenLeftBehind(h);
    // The GCM's leave ends with that transitional configuration of `a` alone; it rejoins as a#2.
    h.step((c) => c.left(true));
    expect(h.settled.has(id)).toBe(false);
    h.step((c) => c.view({ id: "v2", members: [A2, B, C], inQuorum: true, incarnation: 2 }));
    expect(h.core.member).toBe(A2);
    // Settled, and as a rejection (without the rule it resolves with the write's stamp).
    expect(h.settled.get(id)).toEqual({ value: undefined, error: expect.any(OutcomeUnknownError) });
    expect(h.settled.get(id)?.error?.message).toMatch(/rejoined as a new incarnation/);
    expect(h.core.pending).toEqual([]);
  });

  it("a rejoin seen only as a new incarnation in the view (no leave event) counts too", () => {
    const h = harness();
    const id = writeThenLeftBehind(h);
    h.step((c) => c.view({ id: "v2", members: [A2, B, C], inQuorum: true, incarnation: 2 }));
    expect(h.settled.get(id)).toEqual({ value: undefined, error: expect.any(OutcomeUnknownError) });
  });

  it("control: the same incarnation's next view, a primary component, confirms the write", () => {
    const h = harness();
    const id = writeThenLeftBehind(h);
    h.step((c) => c.view({ id: "v2", members: [A1, B, C], inQuorum: true, incarnation: 1 }));
    expect(h.settled.get(id)).toEqual({ value: [1, "a"], error: undefined }); // the write's stamp
  });
});
