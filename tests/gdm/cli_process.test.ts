/**
 * Four `raincore node` OS processes over UDP loopback share data items: writes on all of them
 * while one is SIGKILLed and restarted (it gets everything back by state transfer); every survivor
 * and the restarted one end with identical data, folded from their `data` lines. Also `get`,
 * `lock`/`unlock` lines.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type JsonChild, killAll, startRaincore, waitUntil } from "../../tools/json_child.ts";
import { freeUdpPorts } from "../../tools/ports.ts";
import { TEST_TIMING_FLAGS } from "../helpers/tuned_flags.ts";

const TUNED = TEST_TIMING_FLAGS;
const DEADLINE_MS = 25_000;

const running = new Set<JsonChild>();
const dirs: string[] = [];
afterEach(async () => {
  await killAll(running);
  running.clear();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The data a process holds, folded from its `data` lines. */
function dataOf(child: JsonChild): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of child.lines) {
    if (l.event !== "data") continue;
    if (l.deleted) m.delete(l.key as string);
    else m.set(l.key as string, JSON.stringify(l.value));
  }
  return m;
}

const dump = (m: Map<string, string>) => [...m].sort().map(([k, v]) => `${k}=${v}`).join(",");

describe("raincore node: data items on four real processes", () => {
  it("writes on all while one is SIGKILLed and restarted: all end with identical data", async () => {
    const ids = ["n1", "n2", "n3", "n4"];
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
    const members = (c: JsonChild) =>
      (c.lines.findLast((l) => l.event === "view")?.members as string[] | undefined)?.length ?? 0;
    await waitUntil(
      nodes,
      () => nodes.every((n) => members(n) === 4),
      DEADLINE_MS,
      () => nodes.map((n) => `${n.name}:${members(n)}`).join(" "),
    );

    const expected = new Map<string, string>();
    const write = (i: number, key: string, value: unknown) => {
      nodes[i].write(`set ${key} ${JSON.stringify(value)}`);
      expected.set(key, JSON.stringify(value));
    };
    for (let r = 0; r < 5; r++) for (let i = 0; i < 4; i++) write(i, `k${i}-${r}`, { r, by: ids[i] });
    // Once everyone applied those (n4's own included), SIGKILL n4 while writes go on at the others.
    await waitUntil(
      nodes,
      () => nodes.every((n) => dataOf(n).size === 20),
      DEADLINE_MS,
      () => nodes.map((n) => `${n.name}:${dataOf(n).size}`).join(" "),
    );
    nodes[3].signal("SIGKILL");
    await nodes[3].exit;
    running.delete(nodes[3]);
    for (let r = 5; r < 10; r++) for (let i = 0; i < 3; i++) write(i, `k${i}-${r}`, `${ids[i]}:${r}`);
    write(0, "shared", "before-restart");
    // Restart n4 (new incarnation): it must receive every item, then take part in writes.
    nodes[3] = start(3);
    await nodes[3].waitFor((l) => l.event === "synced", DEADLINE_MS);
    for (let r = 10; r < 13; r++) for (let i = 0; i < 4; i++) write(i, `k${i}-${r}`, r);
    write(3, "shared", "after-restart");

    const want = dump(expected);
    await waitUntil(
      nodes,
      () => nodes.every((n) => dump(dataOf(n)) === want),
      DEADLINE_MS,
      () => nodes.map((n) => `${n.name}: ${dataOf(n).size}/${expected.size} items`).join("; "),
    );
    expect(new Set(nodes.map((n) => dump(dataOf(n)))).size).toBe(1);
    // The restarted process received the items written before it came back by state transfer.
    expect(dataOf(nodes[3]).get("k0-0")).toBe(JSON.stringify({ r: 0, by: "n1" }));

    // get answers from the local replica; lock/unlock lines name the owner.
    const mark = nodes[1].lines.length;
    nodes[1].write("get shared");
    const v = await nodes[1].waitFor((l) => l.event === "value", DEADLINE_MS, mark);
    expect(v.value).toBe("after-restart");
    nodes[2].write("lock L");
    await waitUntil(
      nodes,
      () => nodes.every((n) => n.lines.some((l) => l.event === "lock" && l.owner === "n3")),
      DEADLINE_MS,
      () => "lock line",
    );
    nodes[2].write("unlock L");
    await waitUntil(
      nodes,
      () => nodes.every((n) => n.lines.findLast((l) => l.event === "lock")?.owner === null),
      DEADLINE_MS,
      () => "unlock line",
    );
  });

  it("--data-dir: a whole-cluster restart keeps the data", async () => {
    const dir = mkdtempSync(join(tmpdir(), "raincore-gdm-"));
    dirs.push(dir);
    const ids = ["p1", "p2"];
    const ports = await freeUdpPorts(ids.length);
    const peers = ids.flatMap((id, i) => ["--peer", `${id}=udp://127.0.0.1:${ports[i]}`]);
    const start = (i: number) => {
      const args = [
        "node",
        "--id",
        ids[i],
        "--listen",
        `udp://127.0.0.1:${ports[i]}`,
        ...peers,
        ...TUNED,
        "--data-dir",
        dir,
      ];
      const child = startRaincore(ids[i], args);
      running.add(child);
      return child;
    };
    let nodes = ids.map((_, i) => start(i));
    const size = (c: JsonChild) => dataOf(c).size;
    await waitUntil(
      nodes,
      () =>
        nodes.every((n) =>
          (n.lines.findLast((l) => l.event === "view")?.members as string[] | undefined)?.length === 2
        ),
      DEADLINE_MS,
      () => "view of 2",
    );
    for (let i = 0; i < 6; i++) nodes[i % 2].write(`set key${i} ${JSON.stringify({ i })}`);
    await waitUntil(
      nodes,
      () => nodes.every((n) => size(n) === 6),
      DEADLINE_MS,
      () => nodes.map((n) => `${n.name}:${size(n)}`).join(" "),
    );
    const before = dump(dataOf(nodes[0]));
    for (const n of nodes) n.write("quit"); // graceful: flushes the store
    await Promise.all(nodes.map((n) => n.exit));
    for (const n of nodes) running.delete(n);
    nodes = ids.map((_, i) => start(i));
    await waitUntil(
      nodes,
      () => nodes.every((n) => dump(dataOf(n)) === before),
      DEADLINE_MS,
      () => nodes.map((n) => `${n.name}:${size(n)}`).join(" "),
    );
    expect(nodes.every((n) => n.lines.some((l) => l.event === "data" && l.loaded === true))).toBe(true);
  });
});
