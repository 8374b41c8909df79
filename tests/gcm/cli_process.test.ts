/**
 * Five `raincore node` OS processes on UDP loopback: SIGKILL one and the four survivors commit the
 * same new view; restart it and it rejoins; SIGSTOP one and the others move on; SIGCONT and it
 * rejoins. Multicast order is compared across all of them at the end. Also: one `raincore node`
 * beside an in-process createNode() node, which sees the member's whole 53-bit incarnation.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createNode, type GcmNode } from "../../gcm/create_node.ts";
import { createUdpTransport } from "../../transport/backends/udp.ts";
import { type JsonChild, type JsonLine, killAll, startRaincore, waitUntil } from "../../tools/json_child.ts";
import { freeUdpPorts } from "../../tools/ports.ts";
import { TEST_TIMING_FLAGS } from "../helpers/tuned_flags.ts";

const TUNED = TEST_TIMING_FLAGS;
const DEADLINE_MS = 20_000;

const running = new Set<JsonChild>();
const inProcess = new Set<GcmNode>();
afterEach(async () => {
  await killAll(running);
  running.clear();
  await Promise.all([...inProcess].map((n) => n.close(0)));
  inProcess.clear();
});

function lastView(child: JsonChild): JsonLine | undefined {
  return child.lines.findLast((l) => l.event === "view");
}

function viewKey(child: JsonChild): string {
  const v = lastView(child);
  return v === undefined ? "none" : `${v.index}:${[...(v.members as string[])].sort().join(",")}`;
}

/** Waits until every child's last committed view is the same and has exactly `ids` as members. */
async function sameView(children: readonly JsonChild[], ids: readonly string[]): Promise<string> {
  const want = [...ids].sort().join(",");
  await waitUntil(
    children,
    () => children.every((c) => viewKey(c).endsWith(`:${want}`)) && new Set(children.map(viewKey)).size === 1,
    DEADLINE_MS,
    () => children.map((c) => `${c.name}=${viewKey(c)}`).join(" "),
  );
  return viewKey(children[0]);
}

describe("raincore node: five real processes over UDP", () => {
  it("survives SIGKILL, restart, SIGSTOP and SIGCONT with one view and one multicast order", async () => {
    const ids = ["n1", "n2", "n3", "n4", "n5"];
    const ports = await freeUdpPorts(ids.length);
    const peers = ids.flatMap((id, i) => ["--peer", `${id}=udp://127.0.0.1:${ports[i]}`]);
    const start = (i: number) => {
      const child = startRaincore(ids[i], [
        "node",
        "--id",
        ids[i],
        "--listen",
        `udp://127.0.0.1:${ports[i]}`,
        ...peers,
        ...TUNED,
      ]);
      running.add(child);
      return child;
    };
    const nodes = ids.map((_, i) => start(i));
    const first = await sameView(nodes, ids);

    // SIGKILL n5: the four survivors commit one new view without it.
    nodes[4].signal("SIGKILL");
    await nodes[4].exit;
    running.delete(nodes[4]);
    const afterKill = await sameView(nodes.slice(0, 4), ids.slice(0, 4));
    expect(Number(afterKill.split(":")[0])).toBeGreaterThan(Number(first.split(":")[0]));

    // Restart n5 (new incarnation, same address): it rejoins.
    nodes[4] = start(4);
    await sameView(nodes, ids);

    // SIGSTOP n4: the others move on; SIGCONT: it rejoins.
    nodes[3].signal("SIGSTOP");
    const others = [nodes[0], nodes[1], nodes[2], nodes[4]];
    await sameView(others, ["n1", "n2", "n3", "n5"]);
    nodes[3].signal("SIGCONT");
    await sameView(nodes, ids);

    // One multicast order at every member.
    const marks = nodes.map((n) => n.lines.length);
    nodes[0].write("send from-n1");
    nodes[2].write("send-safe from-n3");
    nodes[4].write("send from-n5");
    const delivered = (n: JsonChild, i: number) =>
      n.lines.slice(marks[i]).filter((l) => l.event === "deliver");
    await waitUntil(
      nodes,
      () => nodes.every((n, i) => delivered(n, i).length === 3),
      DEADLINE_MS,
      () => nodes.map((n, i) => `${n.name}:${delivered(n, i).length}`).join(" "),
    );
    const orders = nodes.map((n, i) => delivered(n, i).map((l) => `${l.from}/${l.data}`).join(" "));
    expect(new Set(orders).size).toBe(1);
    expect(orders[0].split(" ").sort()).toEqual(["n1/from-n1", "n3/from-n3", "n5/from-n5"]);
  }, 120_000);

  it("members given only one member's address (--join) form one view, and a killed one rejoins", async () => {
    const ids = ["j1", "j2", "j3", "j4", "j5"];
    const ports = await freeUdpPorts(ids.length);
    // Each knows one address: j1 nobody's, the others the previous member's — no IDs at all.
    const start = (i: number) => {
      const child = startRaincore(ids[i], [
        "node",
        "--id",
        ids[i],
        "--listen",
        `udp://127.0.0.1:${ports[i]}`,
        ...(i === 0 ? [] : ["--join", `udp://127.0.0.1:${ports[i - 1]}`]),
        ...TUNED,
      ]);
      running.add(child);
      return child;
    };
    const nodes = ids.map((_, i) => start(i));
    await sameView(nodes, ids);
    nodes[2].signal("SIGKILL");
    await nodes[2].exit;
    running.delete(nodes[2]);
    await sameView([nodes[0], nodes[1], nodes[3], nodes[4]], ["j1", "j2", "j4", "j5"]);
    nodes[2] = start(2);
    await sameView(nodes, ids);
  }, 120_000);

  it("a member's whole 53-bit incarnation reaches the group (createNode path, no 32-bit cut)", async () => {
    const [cliPort, libPort] = await freeUdpPorts(2);
    const cli = startRaincore("c1", [
      "node",
      "--id",
      "c1",
      "--listen",
      `udp://127.0.0.1:${cliPort}`,
      "--peer",
      `l1=udp://127.0.0.1:${libPort}`,
      ...TUNED,
    ]);
    running.add(cli);
    const lib = createNode({
      id: "l1",
      transports: [await createUdpTransport({ port: libPort })],
      peers: { c1: [`udp://127.0.0.1:${cliPort}`] },
      timing: { eatingMs: 5, hungryMs: 400, starvingMs: 100, rtoInitialMs: 10, rtoMinMs: 10 },
    });
    inProcess.add(lib);
    const ready = await cli.waitFor((l) => l.event === "ready", DEADLINE_MS);
    expect(ready).toMatchObject({ id: "c1", address: `udp://127.0.0.1:${cliPort}` });
    await cli.waitFor((l) => l.event === "view" && (l.members as string[]).length === 2, DEADLINE_MS);
    if (!lib.gcm.view.members.includes("c1")) {
      await new Promise<void>((resolve) => lib.gcm.on("view", (v) => v.members.includes("c1") && resolve()));
    }
    const cliMember = lib.gcm.view.detail.find((m) => m.id === "c1");
    expect(cliMember).toBeDefined();
    // The CLI's Transport Manager picks a time-based incarnation (far above 2^32); the GCM carries it whole.
    expect(cliMember!.inc).toBeGreaterThan(2 ** 32);
    expect(Number.isSafeInteger(cliMember!.inc)).toBe(true);
    // And its multicasts carry it too.
    const got = new Promise<number>((resolve) => lib.gcm.on("deliver", (d) => resolve(d.fromIncarnation)));
    cli.write("send hi");
    expect(await got).toBe(cliMember!.inc);
  }, 60_000);
});
