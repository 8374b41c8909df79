/**
 * One node ID, one member: an operator starts a second `raincore node --id p1` (another port, the
 * same peers) while the first runs. Before the fix the second silently took p1's place and the
 * first stayed alone with diverged data. Now the peers probe both, keep the one at p1's configured
 * address, and tell both; each prints a `conflict` line, and the refused one — the second — exits
 * with code 3 and a message saying why. The group never changes.
 */
import { afterEach, describe, expect, it } from "vitest";
import { freeUdpPorts } from "../../tools/ports.ts";
import { NodeCluster } from "./_cluster.ts";

let cluster: NodeCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

describe("a second process with a node ID already in use", () => {
  it(
    "is reported by both processes and by the peers; the second exits with code 3; the group stays",
    async () => {
      const ids = ["p1", "p2", "p3"];
      cluster = await NodeCluster.start(ids);
      await cluster.oneView(ids, 30_000);
      const marks = new Map(ids.map((id) => [id, cluster!.node(id).lines.length]));
      const [port] = await freeUdpPorts(1);
      const dup = cluster.spawn("p1-again", "p1", port);
      const conflict = (name: string) =>
        cluster!.node(name).lines.find((l) => l.event === "conflict" && l.nodeId === "p1");
      const code = await Promise.race([
        dup.exit,
        new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 20_000)),
      ]);
      expect(code, `the second p1 kept running; its lines: ${JSON.stringify(dup.lines.slice(-5))}`).toBe(3);
      expect(conflict("p1-again")).toMatchObject({ self: true, refused: true });
      expect(dup.stderr.join("")).toMatch(/another process already runs as node "p1".*own --id/s);
      await cluster.node("p1").waitFor((l) => l.event === "conflict" && l.nodeId === "p1", 10_000);
      const first = conflict("p1")!;
      expect(first).toMatchObject({ self: true, refused: false });
      const byPeer = conflict("p2") ?? conflict("p3");
      expect(byPeer).toMatchObject({ self: false, kept: first.kept });
      expect(cluster.node("p1").exited).toBe(false);
      // Nobody ever installed a view with the second process in it, and the group is whole.
      for (const id of ids) expect(cluster.viewsSince(id, marks.get(id)!), id).toBeLessThanOrEqual(1);
      await cluster.oneView(ids, 10_000);
    },
    90_000,
  );
});
