/**
 * What the Deno URL consumer runs against the library it imported by URL. Each scenario is a small
 * cluster; `main.ts` runs them all in order. To prove a new layer from a URL import (e.g. a GCM
 * cluster), add an entry to {@link scenarios}: `run` gets nothing, throws on failure.
 *
 * This file belongs to the consumer project, not the library: it imports `"raincore"`, which the
 * consumer's own deno.json maps to the served `mod.ts` URL.
 * @module
 */

import { createUdpTransport, DeliveryFailedError, SimNetwork, TransportManager } from "raincore";

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
];
