/**
 * Bun as a server runtime (issue 15): three `raincore node` processes under Bun over UDP form one
 * view and deliver each other's multicasts in one order; a Bun process runs the WebSocket server
 * member, and a Node member and a Bun member that know only its URL join it. Bun comes from the
 * `bun` dev dependency.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { JsonChild, killAll, repoRoot, waitUntil } from "../../tools/json_child.ts";
import { freeUdpPorts } from "../../tools/ports.ts";

const BUN = join(repoRoot, "node_modules", ".bin", "bun");
const DEADLINE_MS = 20_000;
const running = new Set<JsonChild>();
afterEach(async () => {
  await killAll(running);
  running.clear();
});

function start(name: string, command: string, args: string[]): JsonChild {
  const child = new JsonChild(name, spawn(command, args, { cwd: repoRoot, stdio: ["pipe", "pipe", "pipe"] }));
  running.add(child);
  return child;
}

const lastView = (c: JsonChild) =>
  ((c.lines.findLast((l) => l.event === "view")?.members as string[] | undefined) ?? []).slice().sort().join(
    ",",
  );

describe("Bun as a server runtime", () => {
  it("three raincore node processes under Bun over UDP: one view, one multicast order", async () => {
    const ids = ["b1", "b2", "b3"];
    const ports = await freeUdpPorts(ids.length);
    const peers = ids.flatMap((id, i) => ["--peer", `${id}=udp://127.0.0.1:${ports[i]}`]);
    const nodes = ids.map((id, i) =>
      start(id, BUN, [
        "bin/raincore.js",
        "node",
        "--id",
        id,
        "--listen",
        `udp://127.0.0.1:${ports[i]}`,
        ...peers,
      ])
    );
    await waitUntil(
      nodes,
      () => nodes.every((n) => lastView(n) === "b1,b2,b3"),
      DEADLINE_MS,
      () => nodes.map((n) => `${n.name}=${lastView(n)} ${n.stderr.join("")}`).join(" "),
    );
    nodes.forEach((n, i) => n.write(`send from-${ids[i]}`));
    const delivered = (n: JsonChild) => n.lines.filter((l) => l.event === "deliver").map((l) => l.data);
    await waitUntil(
      nodes,
      () => nodes.every((n) => delivered(n).length === 3),
      DEADLINE_MS,
      () => nodes.map((n) => `${n.name}: ${delivered(n).join(" ")}`).join("; "),
    );
    expect(delivered(nodes[1])).toEqual(delivered(nodes[0]));
    expect(delivered(nodes[2])).toEqual(delivered(nodes[0]));
    expect([...delivered(nodes[0])].sort()).toEqual(["from-b1", "from-b2", "from-b3"]);
  }, 60_000);

  it("a Bun WebSocket server member, and a Node and a Bun member that know only its URL", async () => {
    const hub = start("hub", BUN, ["tests/bun/ws_member.ts", "--id", "hub", "--listen"]);
    const ready = await hub.waitFor((l) => l.event === "ready", DEADLINE_MS);
    expect(typeof ready.runtime).toBe("string"); // it runs on Bun
    const url = ready.url as string;
    const members = [
      hub,
      start("node-1", process.execPath, [
        "--import",
        "tsx",
        "tests/bun/ws_member.ts",
        "--id",
        "node-1",
        "--join",
        url,
      ]),
      start("bun-1", BUN, ["tests/bun/ws_member.ts", "--id", "bun-1", "--join", url]),
    ];
    await waitUntil(
      members,
      () => members.every((m) => lastView(m) === "bun-1,hub,node-1"),
      DEADLINE_MS,
      () => members.map((m) => `${m.name}=${lastView(m)} ${m.stderr.join("")}`).join(" "),
    );
  }, 60_000);
});
