/**
 * `raincore node --key-file F [--encrypt]`: three processes with the cluster key form one view and
 * multicast; a fourth with another key never joins; a bad key file is a usage error that says what to do.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { type JsonChild, killAll, startRaincore, waitUntil } from "../../tools/json_child.ts";
import { freeUdpPorts } from "../../tools/ports.ts";
import { TEST_TIMING_FLAGS } from "../helpers/tuned_flags.ts";

const TUNED = TEST_TIMING_FLAGS;
const running = new Set<JsonChild>();
afterEach(async () => {
  await killAll(running);
  running.clear();
});

describe("raincore node --key-file", () => {
  it("members with the key agree and multicast; a member with another key stays alone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "raincore-key-"));
    const good = join(dir, "cluster.key");
    const bad = join(dir, "other.key");
    writeFileSync(good, btoa(String.fromCharCode(...new Uint8Array(32).map((_, i) => i * 7))) + "\n");
    writeFileSync(bad, "ff".repeat(32) + "\n");
    const ids = ["n1", "n2", "n3", "n4"];
    const ports = await freeUdpPorts(ids.length);
    const peers = ids.flatMap((id, i) => ["--peer", `${id}=udp://127.0.0.1:${ports[i]}`]);
    const nodes = ids.map((id, i) => {
      const c = startRaincore(id, [
        "node",
        "--id",
        id,
        "--listen",
        `udp://127.0.0.1:${ports[i]}`,
        ...peers,
        ...TUNED,
        "--key-file",
        i === 3 ? bad : good,
        "--encrypt",
      ]);
      running.add(c);
      return c;
    });
    const three = nodes.slice(0, 3);
    const viewOf = (c: JsonChild) => {
      const v = c.lines.findLast((l) => l.event === "view");
      return v === undefined ? "" : [...(v.members as string[])].sort().join(",");
    };
    await waitUntil(
      three,
      () => three.every((c) => viewOf(c) === "n1,n2,n3"),
      20_000,
      () => three.map(viewOf).join(" | "),
    );
    nodes[0].write("send hello");
    await waitUntil(
      three,
      () => three.every((c) => c.lines.some((l) => l.event === "deliver" && l.data === "hello")),
      10_000,
      () => "no delivery",
    );
    expect(["", "n4"]).toContain(viewOf(nodes[3])); // alone (or still trying to join)
    expect(nodes[3].lines.some((l) => l.event === "ready")).toBe(true);
  }, 40_000);

  it(
    "node credentials from tools/issue_credential.ts: eligible members agree; a credential holder cannot claim another ID",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "raincore-cred-"));
      const cluster = join(dir, "cluster.key");
      writeFileSync(cluster, "ab".repeat(32) + "\n");
      const ids = ["n1", "n2", "n3"];
      const files: string[] = [];
      for (const id of ids) {
        const out = execFileSync(process.execPath, [
          "--import",
          "tsx",
          "tools/issue_credential.ts",
          "--key-file",
          cluster,
          "--node",
          id,
          "--eligible",
          ids.join(","),
        ]);
        const f = join(dir, `${id}.cred`);
        writeFileSync(f, out);
        files.push(f);
      }
      const ports = await freeUdpPorts(4);
      const peers = ids.flatMap((id, i) => ["--peer", `${id}=udp://127.0.0.1:${ports[i]}`]);
      const nodes = ids.map((id, i) => {
        const c = startRaincore(id, [
          "node",
          "--id",
          id,
          "--listen",
          `udp://127.0.0.1:${ports[i]}`,
          ...peers,
          ...TUNED,
          "--key-file",
          files[i],
        ]);
        running.add(c);
        return c;
      });
      // n3's credential used under the ID n2 (a second process claiming n2): refused at start.
      const liar = startRaincore("liar", [
        "node",
        "--id",
        "n2",
        "--listen",
        `udp://127.0.0.1:${ports[3]}`,
        ...peers,
        "--key-file",
        files[2],
      ]);
      running.add(liar);
      const viewOf = (c: JsonChild) => {
        const v = c.lines.findLast((l) => l.event === "view");
        return v === undefined ? "" : [...(v.members as string[])].sort().join(",");
      };
      await waitUntil(
        nodes,
        () => nodes.every((c) => viewOf(c) === "n1,n2,n3"),
        20_000,
        () => nodes.map(viewOf).join(" | "),
      );
      await waitUntil([liar], () => liar.exited, 10_000, () => "the liar did not exit");
      expect(liar.stderr.join("") + JSON.stringify(liar.lines)).toMatch(/issue one for "n2"/);
    },
    60_000,
  );

  it("an unreadable or malformed key file is a usage error saying what to do", async () => {
    const dir = mkdtempSync(join(tmpdir(), "raincore-key-"));
    const short = join(dir, "short.key");
    writeFileSync(short, "abcd\n");
    const [port] = await freeUdpPorts(1);
    const c = startRaincore("bad", [
      "node",
      "--id",
      "x",
      "--listen",
      `udp://127.0.0.1:${port}`,
      "--key-file",
      short,
    ]);
    running.add(c);
    await waitUntil([c], () => c.exited, 10_000, () => "did not exit");
    expect(c.stderr.join("") + JSON.stringify(c.lines)).toMatch(/urandom/);
  }, 20_000);
});
