/**
 * The key "__proto__" in replicated data. cbor-x, which encodes values, renames it to "__proto_"
 * when it decodes (node_modules/cbor-x/decode.js: its guard against prototype pollution), so a value
 * `JSON.parse('{"__proto__": …}')` used to be stored as something else than the writer wrote, on
 * every replica. Worse, a patch path through "__proto__" walked into Object.prototype: one write
 * (from any member — or, without a key, from anyone who can inject) set a property on every object
 * of every replica process. Both are now refused with PatchError, the writer's and a forged one
 * alike, and nothing reaches Object.prototype.
 */
import { afterEach, describe, expect, it } from "vitest";
import { PatchError } from "../../gdm/errors.ts";
import { applyOp, emptyState } from "../../gdm/state.ts";
import { encodeValue } from "../../gdm/value.ts";
import { GdmCluster } from "../../sim/gdm/cluster.ts";

const probe = () => ({} as Record<string, unknown>).polluted;
afterEach(() => {
  delete (Object.prototype as Record<string, unknown>).polluted; // in case a regression set it
});

describe('the key "__proto__"', () => {
  it("a value with it is refused with a clear error, not stored renamed", async () => {
    const g = new GdmCluster({ seed: 1 });
    for (const id of ["a", "b"]) await g.start(id, ["a", "b"].filter((p) => p !== id));
    expect(await g.settle()).toBe(true);
    const a = g.gdms.get("a")!;
    const value = JSON.parse('{"__proto__": {"admin": true}, "name": "x"}');
    expect(Object.keys(value)).toEqual(["__proto__", "name"]); // JSON.parse makes it an own key
    const attempt = Promise.resolve().then(() => a.set("k", value)).catch((e: unknown) => e);
    await g.c.run(300); // (a write that was taken would be applied meanwhile)
    const error = await attempt;
    expect(error).toBeInstanceOf(PatchError);
    expect((error as Error).message).toMatch(/"__proto__".*cbor-x renames it/);
    const nested = await Promise.resolve().then(() => a.set("k", { list: [{ ok: 1 }, value] })).catch((e) =>
      e
    );
    expect((nested as Error).message).toMatch(/\["list",1,"__proto__"\]/);
    await g.c.run(200);
    expect(a.get("k")).toBeUndefined();
  });

  it("a patch path through it never reaches Object.prototype, from the API or from the wire", async () => {
    const g = new GdmCluster({ seed: 2 });
    for (const id of ["a", "b"]) await g.start(id, ["a", "b"].filter((p) => p !== id));
    expect(await g.settle()).toBe(true);
    const a = g.gdms.get("a")!;
    await Promise.all([a.set("doc", { x: 1 }), g.c.run(300)]);
    const viaApi = a.patch("doc", { path: ["__proto__", "polluted"], value: "yes" }).catch((e: unknown) => e);
    await g.c.run(300);
    expect(await viaApi).toBeInstanceOf(PatchError);
    expect(probe()).toBeUndefined();
    // A forged operation, as it would arrive from the network, applied by the replicas' reducer.
    const state = emptyState();
    applyOp(state, { t: "w", id: "w1", s: [1, "evil"], w: [{ k: "doc", v: encodeValue({ x: 1 }) }] });
    const effects = applyOp(state, {
      t: "w",
      id: "w2",
      s: [2, "evil"],
      w: [{ k: "doc", p: { path: ["__proto__", "polluted"], value: "yes" } }],
    });
    expect(effects).toEqual([expect.objectContaining({ type: "done", id: "w2", error: "patch" })]);
    expect(probe()).toBeUndefined();
  });
});
