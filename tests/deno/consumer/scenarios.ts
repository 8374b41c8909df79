/**
 * What the Deno URL consumer runs against the library it imported by URL. Each scenario is a small
 * cluster; `main.ts` runs them all in order. To prove a new layer from a URL import (e.g. a GCM
 * cluster), add an entry to {@link scenarios}: `run` gets nothing, throws on failure.
 *
 * This file belongs to the consumer project, not the library: it imports `"raincore"`, which the
 * consumer's own deno.json maps to the served `mod.ts` URL.
 * @module
 */

import {
  createNode,
  createUdpTransport,
  DeliveryFailedError,
  GroupDataManager,
  SimNetwork,
  TransportManager,
} from "raincore";

/** One consumer check. */
export interface Scenario {
  /** Shown in the summary. */
  name: string;
  /** Runs the cluster; resolves when it behaved, throws otherwise. */
  run(): Promise<void>;
}

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Two managers exchange `count` messages each way plus one large one; checks every byte. */
async function exchange(
  a: TransportManager,
  b: TransportManager,
  count: number,
  large: number,
): Promise<void> {
  const seen = { a: [] as Uint8Array[], b: [] as Uint8Array[] };
  a.onMessage(1, (from, m) => {
    if (from !== "b") throw new Error(`a got a message from ${from}`);
    seen.a.push(m.slice());
  });
  b.onMessage(1, (from, m) => {
    if (from !== "a") throw new Error(`b got a message from ${from}`);
    seen.b.push(m.slice());
  });
  const sends: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    sends.push(a.send("b", 1, bytes(100, i)));
    sends.push(b.send("a", 1, bytes(100, 1000 + i)));
  }
  sends.push(a.send("b", 1, bytes(large, 7)));
  await Promise.all(sends);
  if (seen.a.length !== count || seen.b.length !== count + 1) {
    throw new Error(`expected ${count} and ${count + 1} messages, got ${seen.a.length} and ${seen.b.length}`);
  }
  if (!seen.b.some((m) => m.length === large && equal(m, bytes(large, 7)))) {
    throw new Error("large message corrupted");
  }
  for (let i = 0; i < count; i++) {
    if (!seen.b.some((m) => equal(m, bytes(100, i)))) throw new Error(`message ${i} to b missing`);
    if (!seen.a.some((m) => equal(m, bytes(100, 1000 + i)))) throw new Error(`message ${i} to a missing`);
  }
}

/** The scenarios, run in order. */
export const scenarios: Scenario[] = [
  {
    name: "two TransportManagers over UDP loopback (100 messages each way + 1 MiB)",
    async run() {
      // The default (LAN) mtu: Deno cannot enlarge socket buffers, and 256 in-flight packets of
      // the loopback mtu overflow its 208 KiB default receive buffer (measured: 0.2 MB/s).
      const udpA = await createUdpTransport();
      const udpB = await createUdpTransport();
      const a = new TransportManager({ nodeId: "a", transports: [udpA] });
      const b = new TransportManager({ nodeId: "b", transports: [udpB] });
      try {
        a.setAddresses("b", udpB.addresses);
        b.setAddresses("a", udpA.addresses);
        await exchange(a, b, 100, 1 << 20);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    },
  },
  {
    name: "two TransportManagers over the memory backend, then a failed delivery",
    async run() {
      const net = new SimNetwork();
      const a = new TransportManager({
        nodeId: "a",
        transports: [net.createTransport("mem://a")],
        rtoMinMs: 5,
        rtoInitialMs: 10,
        retries: 2,
      });
      const b = new TransportManager({ nodeId: "b", transports: [net.createTransport("mem://b")] });
      try {
        a.setAddresses("b", ["mem://b"]);
        b.setAddresses("a", ["mem://a"]);
        await exchange(a, b, 20, 100_000);
        a.setAddresses("c", ["mem://nobody"]);
        const failed = await a.send("c", 1, bytes(10, 0)).then(() => undefined, (e: unknown) => e);
        if (!(failed instanceof DeliveryFailedError)) {
          throw new Error(`expected DeliveryFailedError, got ${String(failed)}`);
        }
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    },
  },
  {
    name: "a three-member ring over UDP: one view, one multicast order, one replicated item (GCM + GDM)",
    async run() {
      const udps = await Promise.all([0, 1, 2].map(() => createUdpTransport()));
      const ids = ["u1", "u2", "u3"];
      const peers = Object.fromEntries(ids.map((id, i) => [id, udps[i].addresses]));
      const nodes = ids.map((id, i) =>
        createNode({
          id,
          transports: [udps[i]],
          peers,
          timing: { eatingMs: 2, rtoInitialMs: 20, retries: 3 },
        })
      );
      const data = nodes.map((n) => new GroupDataManager({ gcm: n.gcm, layer: n.transport }));
      const orders: string[][] = ids.map(() => []);
      nodes.forEach((n, i) =>
        n.gcm.on("deliver", (d) => orders[i].push(`${d.from}:${new TextDecoder().decode(d.data)}`))
      );
      try {
        await until(
          () => nodes.every((n) => n.gcm.view.members.length === 3 && n.gcm.agreed),
          "one view of three",
        );
        for (const [i, n] of nodes.entries()) n.gcm.multicast(new TextEncoder().encode(`m${i}`));
        await until(() => orders.every((o) => o.length === 3), "every member delivers three messages");
        if (new Set(orders.map((o) => o.join(" "))).size !== 1) {
          throw new Error(`orders differ: ${JSON.stringify(orders)}`);
        }
        await data[0].set("greeting", { text: "hello from Deno" });
        await until(
          () =>
            data.every((d) =>
              (d.get("greeting") as { text?: string } | undefined)?.text === "hello from Deno"
            ),
          "the item on every replica",
        );
      } finally {
        await Promise.all(data.map((d) => d.close()));
        await Promise.all(nodes.map((n) => n.close(500)));
      }
    },
  },
];

/** Polls `cond` every few ms until it holds; throws after 20 s naming what was awaited. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 20_000;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
