/**
 * The transport compliance suite: one set of contract tests that every {@link PacketTransport}
 * backend must pass, parameterised by a {@link BackendFixture}. A backend joins by adding a
 * `compliance_<backend>.test.ts` that calls {@link describeTransportCompliance} with its fixture.
 *
 * Part 1 checks the PacketTransport contract itself; part 2 runs the Transport Manager over the
 * backend (large messages, many messages, a dead address, fail-over between addresses).
 * @module
 */

import { afterEach, describe, expect, it } from "vitest";
import { DeliveryFailedError } from "../../transport/errors.ts";
import { TransportManager, type TransportManagerOptions } from "../../transport/manager.ts";
import type { PacketTransport } from "../../transport/packet_transport.ts";
import { pattern } from "./_helpers.ts";

/** How the suite makes transports of one backend. */
export interface BackendFixture {
  /** Name shown in the test titles, e.g. `"udp"`. */
  name: string;
  /** Creates a fresh, ready transport (bound, listening). */
  create(): Promise<PacketTransport>;
  /**
   * An address of this backend at which nothing listens (and nothing will during the test), for
   * the tests of lost packets and failed delivery.
   */
  deadAddress(): Promise<string>;
  /** Called after each test, once the suite closed the transports it created. */
  cleanup?(): Promise<void>;
}

/** Options of {@link describeTransportCompliance}. */
export interface ComplianceOptions {
  /** Deadline for each awaited event, in ms. @default {5_000} */
  eventTimeoutMs?: number;
}

/** A promise that rejects with `what` if it is not settled within `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** One received packet, copied (the contract lets a backend reuse its buffer). */
interface Received {
  from: string;
  packet: Uint8Array;
}

/** Collects packets and lets a test await the n-th one. */
class Inbox {
  readonly packets: Received[] = [];
  #waiters: Array<{ n: number; resolve: () => void }> = [];

  constructor(transport: PacketTransport) {
    transport.onPacket((from, packet) => {
      this.packets.push({ from, packet: packet.slice() });
      this.#waiters = this.#waiters.filter((w) => {
        if (this.packets.length < w.n) return true;
        w.resolve();
        return false;
      });
    });
  }

  /** Resolves once at least `n` packets arrived. */
  count(n: number): Promise<void> {
    if (this.packets.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ n, resolve }));
  }
}

/** Registers the compliance tests of one backend. */
export function describeTransportCompliance(fixture: BackendFixture, opts: ComplianceOptions = {}): void {
  const timeout = opts.eventTimeoutMs ?? 5_000;
  let open: PacketTransport[] = [];

  const create = async (): Promise<PacketTransport> => {
    const t = await fixture.create();
    open.push(t);
    return t;
  };

  let managers: TransportManager[] = [];
  /** A manager on a fresh transport of the backend; fast failure detection unless overridden. */
  const manager = async (
    nodeId: string,
    extra: Partial<TransportManagerOptions> = {},
  ): Promise<{ tm: TransportManager; transport: PacketTransport }> => {
    const transport = await create();
    const tm = new TransportManager({ nodeId, transports: [transport], ...extra });
    managers.push(tm);
    return { tm, transport };
  };
  /** Two managers that know each other's addresses. */
  const pair = async (): Promise<
    { a: TransportManager; b: TransportManager; addressB: readonly string[] }
  > => {
    const a = await manager("node-a");
    const b = await manager("node-b");
    a.tm.setAddresses("node-b", b.transport.addresses);
    b.tm.setAddresses("node-a", a.transport.addresses);
    return { a: a.tm, b: b.tm, addressB: b.transport.addresses };
  };

  afterEach(async () => {
    const tms = managers;
    managers = [];
    await Promise.all(tms.map((tm) => tm.close()));
    const all = open;
    open = [];
    await Promise.all(all.map((t) => t.close()));
    await fixture.cleanup?.();
  });

  describe(`PacketTransport contract: ${fixture.name}`, () => {
    it("reports its kind, mtu and addresses", async () => {
      const t = await create();
      expect(typeof t.kind).toBe("string");
      expect(t.kind.length).toBeGreaterThan(0);
      expect(Number.isInteger(t.mtu)).toBe(true);
      expect(t.mtu).toBeGreaterThanOrEqual(64);
      expect(t.addresses.length).toBeGreaterThan(0);
      for (const a of t.addresses) expect(a).toMatch(/^[a-z][a-z0-9+.-]*:\/\/\S+$/);
      const other = await create();
      expect(other.addresses.some((a) => t.addresses.includes(a))).toBe(false);
    });

    it("carries a packet of exactly mtu bytes intact, and a 1-byte packet", async () => {
      const a = await create();
      const b = await create();
      const inbox = new Inbox(b);
      const big = pattern(a.mtu, 7);
      a.send(b.addresses[0], big);
      a.send(b.addresses[0], new Uint8Array([42]));
      await withDeadline(inbox.count(2), timeout, "two packets at b");
      const sizes = inbox.packets.map((p) => p.packet.length).sort((x, y) => x - y);
      expect(sizes).toEqual([1, a.mtu]);
      const full = inbox.packets.find((p) => p.packet.length === a.mtu)!;
      expect(full.packet).toEqual(big);
      expect(inbox.packets.find((p) => p.packet.length === 1)!.packet[0]).toBe(42);
    });

    it("lets the sender reuse its buffer as soon as send() returns", async () => {
      const a = await create();
      const b = await create();
      const inbox = new Inbox(b);
      const buf = pattern(a.mtu, 11);
      const expected = buf.slice();
      a.send(b.addresses[0], buf);
      buf.fill(0);
      await withDeadline(inbox.count(1), timeout, "packet at b");
      expect(inbox.packets[0].packet).toEqual(expected);
    });

    it("reports a from-address that reaches the sender", async () => {
      const a = await create();
      const b = await create();
      const inboxA = new Inbox(a);
      b.onPacket((from, packet) => b.send(from, packet.slice().reverse()));
      a.send(b.addresses[0], new Uint8Array([1, 2, 3]));
      await withDeadline(inboxA.count(1), timeout, "echo back at a");
      expect(inboxA.packets[0].packet).toEqual(new Uint8Array([3, 2, 1]));
      expect(b.addresses).toContain(inboxA.packets[0].from);
    });

    it("does not throw when sending to an address where nothing listens", async () => {
      const a = await create();
      const dead = await fixture.deadAddress();
      for (let i = 0; i < 50; i++) expect(() => a.send(dead, new Uint8Array(100))).not.toThrow();
      // The transport still works afterwards.
      const b = await create();
      const inbox = new Inbox(b);
      a.send(b.addresses[0], new Uint8Array([9]));
      await withDeadline(inbox.count(1), timeout, "packet after sends to a dead address");
    });

    it("stops delivery on close(), which is idempotent", async () => {
      const a = await create();
      const b = await create();
      const c = await create();
      let atB = 0;
      b.onPacket(() => atB++);
      const inboxB = new Inbox(b);
      a.send(b.addresses[0], new Uint8Array([1]));
      await withDeadline(inboxB.count(1), timeout, "first packet at b");
      const before = atB;
      await Promise.all([b.close(), b.close()]);
      await b.close();
      for (let i = 0; i < 20; i++) a.send(b.addresses[0], new Uint8Array([2]));
      // Barrier: a round trip a → c → a over the same backend after the sends to b.
      const inboxA = new Inbox(a);
      c.onPacket((from, packet) => c.send(from, packet.slice()));
      a.send(c.addresses[0], new Uint8Array([3]));
      await withDeadline(inboxA.count(1), timeout, "round trip through c");
      expect(atB).toBe(before);
    });

    it("ignores send() after close() and close() resolves", async () => {
      const a = await create();
      const b = await create();
      await a.close();
      expect(() => a.send(b.addresses[0], new Uint8Array(10))).not.toThrow();
      await expect(a.close()).resolves.toBeUndefined();
    });

    it("carries a burst of 200 packets over an idle path without loss", async () => {
      const a = await create();
      const b = await create();
      const inbox = new Inbox(b);
      for (let i = 0; i < 200; i++) {
        const p = pattern(Math.min(a.mtu, 1000), i + 1);
        p[0] = i;
        a.send(b.addresses[0], p);
      }
      // UDP may drop, but not on an idle loopback with 8 MiB buffers: wait for all, fail on loss.
      await withDeadline(inbox.count(200), timeout, "200 packets at b");
      const ids = new Set(inbox.packets.map((p) => p.packet[0]));
      expect(ids.size).toBe(200);
    });
  });

  describe(`Transport Manager over ${fixture.name}`, () => {
    it("delivers a 16 MiB message intact", async () => {
      const { a, b } = await pair();
      const message = pattern(16 * 1024 * 1024, 99);
      const got = new Promise<{ from: string; message: Uint8Array }>((resolve) =>
        b.onMessage(3, (from, m) => resolve({ from, message: m.slice() }))
      );
      await withDeadline(a.send("node-b", 3, message), 60_000, "16 MiB send acknowledged");
      const received = await withDeadline(got, timeout, "16 MiB message handed up");
      expect(received.from).toBe("node-a");
      expect(received.message.length).toBe(message.length);
      expect(Buffer.compare(received.message, message)).toBe(0);
    }, 90_000);

    it("delivers 2,000 small messages, each exactly once", async () => {
      const { a, b } = await pair();
      const counts = new Uint16Array(2_000);
      let other = 0;
      b.onMessage(5, (from, m) => {
        const view = new DataView(m.buffer, m.byteOffset, m.byteLength);
        if (from !== "node-a" || m.length !== 64 || view.getUint32(60) !== 0xc0ffee) other++;
        else counts[view.getUint32(0)]++;
      });
      const sends: Promise<void>[] = [];
      for (let i = 0; i < 2_000; i++) {
        const m = new Uint8Array(64);
        const view = new DataView(m.buffer);
        view.setUint32(0, i);
        view.setUint32(60, 0xc0ffee);
        sends.push(a.send("node-b", 5, m));
      }
      await withDeadline(Promise.all(sends), 30_000, "2,000 sends acknowledged");
      // Barrier: one more acknowledged message, so late duplicates would have arrived by now.
      const last = new Promise<void>((resolve) => b.onMessage(6, () => resolve()));
      await withDeadline(a.send("node-b", 6, new Uint8Array([1])), timeout, "barrier message");
      await withDeadline(last, timeout, "barrier message handed up");
      expect(other).toBe(0);
      expect(counts.every((c) => c === 1)).toBe(true);
    }, 60_000);

    it("rejects with DeliveryFailedError when the node's address is dead", async () => {
      const { tm } = await manager("node-a", { rtoInitialMs: 20, rtoMinMs: 10, rtoMaxMs: 50, retries: 2 });
      tm.setAddresses("ghost", [await fixture.deadAddress()]);
      const err = await withDeadline(
        tm.send("ghost", 1, new Uint8Array(10)).then(() => undefined, (e: unknown) => e),
        timeout,
        "failed delivery",
      );
      expect(err).toBeInstanceOf(DeliveryFailedError);
      expect((err as DeliveryFailedError).nodeId).toBe("ghost");
    });

    it("fails over from a dead first address to a live second one", async () => {
      const a = await manager("node-a", { rtoInitialMs: 20, rtoMinMs: 10, rtoMaxMs: 50, retries: 2 });
      const b = await manager("node-b");
      const dead = await fixture.deadAddress();
      a.tm.setAddresses("node-b", [dead, ...b.transport.addresses]);
      const got = new Promise<Uint8Array>((resolve) => b.tm.onMessage(2, (_, m) => resolve(m.slice())));
      await withDeadline(
        a.tm.send("node-b", 2, new Uint8Array([4, 5, 6])),
        timeout,
        "send via the second address",
      );
      expect(await withDeadline(got, timeout, "message at b")).toEqual(new Uint8Array([4, 5, 6]));
      // And the next message goes straight to the working address.
      await withDeadline(a.tm.send("node-b", 2, new Uint8Array([7])), timeout, "second send");
    });
  });
}
