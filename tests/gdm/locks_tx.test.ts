import { describe, expect, it } from "vitest";
import { LockTimeoutError, NotLockOwnerError, TransactionAbortedError } from "../../gdm/errors.ts";
import { GdmCluster } from "../../sim/gdm/cluster.ts";

async function boot(n: number, seed = 3): Promise<GdmCluster> {
  const g = new GdmCluster({ seed });
  const ids = Array.from({ length: n }, (_, i) => `n${i}`);
  for (const id of ids) await g.start(id, ids.filter((p) => p !== id));
  expect(await g.settle()).toBe(true);
  return g;
}

describe("GDM locks", () => {
  it("are granted first come, first served, and released to the next waiter", async () => {
    const g = await boot(3);
    const [a, b, c] = ["n0", "n1", "n2"].map((id) => g.gdms.get(id)!);
    const order: string[] = [];
    await g.wait(a.lock("L").then(() => order.push("a")));
    const pb = b.lock("L").then(() => order.push("b"));
    await g.c.run(200);
    const pc = c.lock("L").then(() => order.push("c"));
    await g.c.run(200);
    expect(order).toEqual(["a"]);
    expect(c.lockOwner("L")).toBe("n0");
    const u = a.unlock("L");
    await g.c.run(200);
    await u;
    await pb;
    expect(order).toEqual(["a", "b"]);
    expect(a.lockOwner("L")).toBe("n1");
    expect(b.holds("L")).toBe(true);
    void b.unlock("L");
    await g.c.run(200);
    await pc;
    expect(order).toEqual(["a", "b", "c"]);
  });

  it("typed errors: unlocking a lock one does not hold, and a lock time-out (request withdrawn)", async () => {
    const g = await boot(2);
    const [a, b] = ["n0", "n1"].map((id) => g.gdms.get(id)!);
    const bad = b.unlock("M").catch((e) => e);
    await g.c.run(200);
    expect(await bad).toBeInstanceOf(NotLockOwnerError);
    const got = a.lock("M");
    await g.c.run(200);
    await got;
    const late = b.lock("M", { timeoutMs: 300 }).catch((e) => e);
    await g.c.run(600);
    expect(await late).toBeInstanceOf(LockTimeoutError);
    void a.unlock("M");
    await g.c.run(300);
    expect(a.lockOwner("M")).toBeNull(); // b's withdrawn request was not granted
    expect(b.lockOwner("M")).toBeNull();
  });

  it("a lock held by a node that fails is freed in the view change and goes to the next waiter", async () => {
    const g = await boot(3);
    const [a, b] = ["n0", "n1"].map((id) => g.gdms.get(id)!);
    const owners: Array<string | null> = [];
    b.on("lock", (e) => owners.push(e.owner));
    void g.gdms.get("n2")!.lock("R");
    await g.c.run(300);
    expect(a.lockOwner("R")).toBe("n2");
    const pb = b.lock("R");
    await g.c.run(200);
    g.crash("n2");
    expect(await g.settle()).toBe(true);
    await pb;
    expect(a.lockOwner("R")).toBe("n1");
    expect(owners).toEqual(["n2", "n1"]);
  });
});

describe("GDM transactions", () => {
  it("apply all writes at one point of the order, or none", async () => {
    const g = await boot(3);
    const [a, b] = ["n0", "n1"].map((id) => g.gdms.get(id)!);
    void a.set("acct/x", 100);
    void a.set("acct/y", 0);
    await g.c.run(300);
    const seenPartial: boolean[] = [];
    b.on("change", () => {
      const x = b.get("acct/x") as number, y = b.get("acct/y") as number;
      seenPartial.push(x + y !== 100);
    });
    const t = a.transaction((tx) => {
      const x = tx.get("acct/x") as number;
      tx.set("acct/x", x - 30);
      tx.set("acct/y", (tx.get("acct/y") as number) + 30);
      return "moved";
    });
    await g.c.run(300);
    expect(await t).toBe("moved");
    expect([b.get("acct/x"), b.get("acct/y")]).toEqual([70, 30]);
    // change events fire per item after the whole transaction is applied
    expect(seenPartial.every((p) => !p)).toBe(true);
  });

  it("compare-on-commit aborts when an item read changed meanwhile; nothing is applied", async () => {
    const g = await boot(2);
    const [a, b] = ["n0", "n1"].map((id) => g.gdms.get(id)!);
    void a.set("c", 1);
    await g.c.run(300);
    const t = a.transaction(async (tx) => {
      const v = tx.get("c") as number;
      await b.set("c", 50); // a concurrent writer gets in first
      tx.set("c", v + 1);
      tx.set("other", "x");
    }, { compare: true }).catch((e) => e);
    const err = await g.wait(t);
    expect(err).toBeInstanceOf(TransactionAbortedError);
    expect((err as TransactionAbortedError).reason).toBe("conflict");
    for (const x of [a, b]) {
      expect(x.get("c")).toBe(50);
      expect(x.has("other")).toBe(false);
    }
    const aborted = await g.wait(
      a.transaction((tx) => {
        tx.set("z", 1);
        tx.abort("changed my mind");
      }).catch((e) => e),
    );
    expect((aborted as TransactionAbortedError).reason).toBe("aborted");
    await g.c.run(300);
    expect(b.has("z")).toBe(false);
  });
});
