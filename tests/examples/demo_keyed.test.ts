/**
 * The demo with a cluster key (`raincore demo --key-file`): a tab gets its ID and a credential from
 * the server and joins the ring with them (played here from Node with the same calls the page
 * makes); nobody without a key, or with a tab's credential, can take a server member's relay ID;
 * when every tab ID is in use the server says so. Without a key the first live holder of a relay ID
 * keeps it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { DEMO_TIMING } from "../../cli/demo/members.ts";
import { type Demo, startDemo } from "../../cli/demo/server.ts";
import {
  createNode,
  createWebSocketTransport,
  InvalidKeyError,
  type NodeCredential,
  parseKeyFile,
  type WebSocketTransport,
} from "../../mod.ts";
import { until } from "../helpers/until.ts";

const KEY = new Uint8Array(32).map((_, i) => i * 13 + 1);
const closers: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function demo(key?: Uint8Array, tabSlots?: number): Promise<Demo> {
  const d = await startDemo({ port: 0, key, tabSlots });
  closers.push(() => d.close());
  return d;
}

async function credential(d: Demo): Promise<{ status: number; id?: string; key?: NodeCredential }> {
  const r = await fetch(new URL("/credential.json", d.url));
  if (!r.ok) return { status: r.status };
  const c = (await r.json()) as { id: string; credential: string };
  return { status: r.status, id: c.id, key: parseKeyFile(c.credential) as NodeCredential };
}

async function client(id: string, d: Demo, key?: Uint8Array | NodeCredential): Promise<WebSocketTransport> {
  const ws = await createWebSocketTransport({ id, servers: [d.hub], key });
  closers.push(() => ws.close());
  return ws;
}

describe("the demo with a cluster key", () => {
  it("a tab joins with the credential it is given; nobody takes a member's relay ID", async () => {
    const d = await demo(KEY);
    const c = await credential(d);
    expect(c.status).toBe(200);
    expect(c.id).toBe("tab-01");
    // The page's transports: the hub with the credential, every packet secured with it.
    const ws = await client(c.id!, d, c.key);
    // It names the hub's member (a credential holds keys for known IDs only); the other members'
    // addresses come with the join.
    const node = createNode({
      id: c.id!,
      transports: [ws],
      key: c.key!,
      peers: { [d.members[0].id]: [d.hub] },
      timing: DEMO_TIMING,
    });
    const gcm = node.gcm;
    closers.push(() => node.close(0));
    await until("the tab in the ring", 30_000, () => gcm.view.members.length === 4);
    expect([...gcm.view.members].sort()).toEqual(["alpha", "bravo", "charlie", "tab-01"]);
    // A client without a key claiming "alpha" is refused; the real alpha stays in the ring.
    const thief = await client("alpha", d);
    await until("thief refused", 10_000, () => thief.stats.helloRefused > 0);
    // A tab's credential is good for its own ID only.
    await expect(createWebSocketTransport({ id: "alpha", servers: [d.hub], key: c.key })).rejects
      .toBeInstanceOf(InvalidKeyError);
    expect(gcm.view.members).toContain("alpha");
  }, 60_000);

  it("hands out each tab ID once while it is in use, and says when none is left", async () => {
    const d = await demo(KEY, 2);
    const a = await credential(d);
    const b = await credential(d);
    expect([a.id, b.id]).toEqual(["tab-01", "tab-02"]);
    expect((await credential(d)).status).toBe(503);
  });
});

describe("the demo without a key", () => {
  it("serves no credentials, and a second claim of a member's relay ID is refused", async () => {
    const d = await demo();
    expect((await fetch(new URL("/credential.json", d.url))).status).toBe(404);
    const ring = () => d.members.every((m) => m.gcm.view.members.length === 3);
    await until("the members' ring", 20_000, ring);
    const thief = await client("bravo", d);
    await until("thief refused", 10_000, () => thief.stats.helloRefused > 0);
    expect(ring()).toBe(true);
  }, 30_000);
});
