/**
 * The Cloudflare example (examples/cloudflare: a ring member as a Durable Object) in `workerd`, the
 * open-source Workers runtime from npm, on loopback — no account, no network. Two Node members that
 * know only the Worker's URL join it: one view of three, and data written anywhere reaches all. Then
 * the runtime is killed (the object's isolate is gone, as after an eviction) and started again: the
 * two remove it, redial, and the fresh instance rejoins as a new incarnation and gets the data back
 * by state transfer. Runs only in a loopback-only network namespace:
 *   node scripts/loopback-only.mjs npx vitest run tests/examples/cloudflare_workerd.test.ts
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createNode, createWebSocketTransport, type GcmNode, GroupDataManager } from "../../mod.ts";
import { repoRoot } from "../../tools/json_child.ts";
import { freeTcpPort } from "../../tools/ports.ts";
import { onlyLoopback } from "../helpers/loopback_netns.ts";
import { until } from "../helpers/until.ts";

/** The workerd binary of the `workerd` npm package (its main module exports the path). */
const workerdBinary = (createRequire(import.meta.url)("workerd") as { default: string }).default;

interface EdgeStatus {
  id: string;
  view: { index: number; members: string[] };
  items: Record<string, unknown>;
}

/** Builds the Worker and writes a workerd configuration serving it on `port`; returns the config path. */
function prepare(port: number): string {
  const dir = mkdtempSync(join(tmpdir(), "raincore-workerd-"));
  const built = spawnSync(process.execPath, [
    "scripts/build-browser.mjs",
    "--entry",
    "examples/cloudflare/worker.ts",
    "--outfile",
    join(dir, "worker.js"),
  ], { cwd: repoRoot, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`worker bundle failed: ${built.stderr}`);
  const config = join(dir, "config.capnp");
  writeFileSync(
    config,
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "ring", worker = .ringWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "ring") ],
);
const ringWorker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = "2026-11-01",
  durableObjectNamespaces = [ (className = "RingMember", uniqueKey = "raincore-ring") ],
  durableObjectStorage = (inMemory = void),
  bindings = [
    (name = "RING", durableObjectNamespace = "RingMember"),
    (name = "MEMBER_ID", text = "edge"),
  ],
);
`,
  );
  return config;
}

if (!onlyLoopback()) {
  // Refuse loudly rather than skip: workerd may only run where no packet can leave the host.
  it("Cloudflare example in workerd", () => {
    throw new Error(
      "needs a loopback-only network namespace: node scripts/loopback-only.mjs npx vitest run <file>",
    );
  });
} else {
  describe("a ring member as a Durable Object in workerd, and two Node members that know its URL", () => {
    let runtime: ChildProcess | undefined;
    const members: Array<{ node: GcmNode; gdm: GroupDataManager }> = [];
    afterAll(async () => {
      for (const m of members) {
        await m.gdm.close();
        await m.node.close(500);
      }
      runtime?.kill("SIGKILL");
    });

    it("form one ring, share data, and take the object back after its isolate is gone", async () => {
      const port = await freeTcpPort();
      const config = prepare(port);
      const start = () => {
        const child = spawn(workerdBinary, ["serve", config], { stdio: ["ignore", "ignore", "pipe"] });
        child.stderr!.on("data", (d) => process.stderr.write(`[workerd] ${d}`));
        return child;
      };
      runtime = start();
      const http = `http://127.0.0.1:${port}/`;
      const url = `ws://127.0.0.1:${port}/`;
      const status = async (): Promise<EdgeStatus | undefined> => {
        try {
          return await (await fetch(http)).json() as EdgeStatus;
        } catch {
          return undefined; // not listening (yet)
        }
      };
      await until("workerd answers", 20_000, status);
      for (const id of ["node-1", "node-2"]) {
        const ws = await createWebSocketTransport({ id, servers: [url] });
        const node = createNode({ id, transports: [ws], join: [url] });
        members.push({ node, gdm: new GroupDataManager({ gcm: node.gcm, layer: node.transport }) });
      }
      const three = "edge,node-1,node-2";
      const sorted = (m: readonly string[] | undefined) => (m ?? []).slice().sort().join(",");
      await until(
        "one view of three at the object and both members",
        30_000,
        async () =>
          sorted((await status())?.view.members) === three &&
          members.every((m) => sorted(m.node.gcm.view.members) === three),
      );
      await members[0].gdm.set("greeting", "hello from node-1");
      await until(
        "the item at the object and at node-2",
        10_000,
        async () =>
          (await status())?.items.greeting === "hello from node-1" &&
          members[1].gdm.get("greeting") === "hello from node-1",
      );
      const edgeInc = members[0].node.gcm.view.detail.find((m) => m.id === "edge")!.inc;

      // The isolate is gone (the runtime is killed): the members go on without the object — each
      // alone, since they reached each other only through its relay...
      runtime.kill("SIGKILL");
      await until(
        "each Node member in a view without the object",
        30_000,
        () => members.every((m) => !m.node.gcm.view.members.includes("edge")),
      );
      // ...and when it runs again, their transports redial, a fresh instance starts and rejoins.
      runtime = start();
      await until(
        "the fresh object back in a view of three",
        30_000,
        async () =>
          sorted((await status())?.view.members) === three &&
          members.every((m) => sorted(m.node.gcm.view.members) === three),
      );
      const fresh = members[0].node.gcm.view.detail.find((m) => m.id === "edge")!.inc;
      expect(fresh).not.toBe(edgeInc);
      // It got the data back from the others (state transfer).
      await until(
        "the item back at the fresh object",
        10_000,
        async () => (await status())?.items.greeting === "hello from node-1",
      );
    }, 120_000);
  });
}
