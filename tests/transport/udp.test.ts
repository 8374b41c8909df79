/** UDP-specific behaviour beyond the compliance suite: addresses, options, errors, counters. */
import { afterEach, describe, expect, it } from "vitest";
import { TransportBindError } from "../../transport/errors.ts";
import {
  createUdpTransport,
  formatUdpAddress,
  parseUdpAddress,
  UDP_LAN_MTU,
  type UdpTransport,
} from "../../transport/backends/udp.ts";
import { withDeadline } from "./compliance.ts";
import { deadUdpAddress } from "./udp_fixture.ts";

const open: UdpTransport[] = [];
async function udp(opts: Parameters<typeof createUdpTransport>[0] = {}): Promise<UdpTransport> {
  const t = await createUdpTransport(opts);
  open.push(t);
  return t;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe("UDP addresses", () => {
  it("parses IPv4 and bracketed IPv6 literals and formats them back", () => {
    expect(parseUdpAddress("udp://127.0.0.1:7001")).toEqual({ host: "127.0.0.1", port: 7001, family: 4 });
    expect(parseUdpAddress("udp://[::1]:65535")).toEqual({ host: "::1", port: 65535, family: 6 });
    expect(formatUdpAddress("::1", 9)).toBe("udp://[::1]:9");
    expect(formatUdpAddress("10.0.0.1", 9)).toBe("udp://10.0.0.1:9");
  });

  it.each([
    "udp://localhost:7001",
    "udp://127.0.0.1",
    "udp://127.0.0.1:0",
    "udp://127.0.0.1:65536",
    "udp://256.0.0.1:1",
    "udp://::1:7001",
    "udp://[::1]7001",
    "ws://127.0.0.1:7001",
    "127.0.0.1:7001",
  ])("rejects %s with a RangeError", (bad) => {
    expect(() => parseUdpAddress(bad)).toThrow(RangeError);
  });
});

describe("createUdpTransport", () => {
  it("binds an ephemeral port by default and reports it", async () => {
    const t = await udp();
    expect(t.kind).toBe("udp");
    expect(t.mtu).toBe(UDP_LAN_MTU);
    expect(t.port).toBeGreaterThan(0);
    expect(t.addresses).toEqual([`udp://127.0.0.1:${t.port}`]);
  });

  it("asks for large socket buffers", async () => {
    const t = await udp({ recvBufferBytes: 1 << 20, sendBufferBytes: 1 << 20 });
    const sizes = t.bufferSizes;
    // Linux reports twice the request (bookkeeping); other kernels report it as set.
    expect(sizes.recv).toBeGreaterThanOrEqual(1 << 20);
    expect(sizes.send).toBeGreaterThanOrEqual(1 << 20);
  });

  it("rejects a port in use with TransportBindError", async () => {
    const t = await udp();
    const err = await createUdpTransport({ port: t.port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportBindError);
    expect((err as TransportBindError).name).toBe("TransportBindError");
    expect((err as TransportBindError).cause).toBeInstanceOf(Error);
  });

  it.each([
    [{ host: "localhost" }],
    [{ port: 70_000 }],
    [{ mtu: 10 }],
    [{ mtu: 70_000 }],
    [{ recvBufferBytes: 0 }],
    [{ advertise: ["ws://x:1"] }],
  ])("rejects invalid options %j with a RangeError", async (opts) => {
    await expect(createUdpTransport(opts)).rejects.toThrow(RangeError);
  });

  it("announces the advertised addresses instead of a wildcard", async () => {
    const t = await udp({ host: "0.0.0.0", advertise: ["udp://127.0.0.1:1"] });
    expect(t.addresses).toEqual(["udp://127.0.0.1:1"]);
  });
});

describe("UdpTransport.send", () => {
  it("throws RangeError for a packet above the mtu (a caller bug)", async () => {
    const t = await udp({ mtu: 100 });
    expect(() => t.send(t.addresses[0], new Uint8Array(101))).toThrow(RangeError);
  });

  it("drops and counts packets to unusable addresses instead of throwing", async () => {
    const t = await udp();
    expect(() => t.send("udp://[::1]:9", new Uint8Array(1))).not.toThrow(); // other family
    expect(() => t.send("not an address", new Uint8Array(1))).not.toThrow();
    expect(() => t.send(t.addresses[0], new Uint8Array(0))).not.toThrow(); // empty datagram
    expect(t.stats.badAddress).toBe(2);
  });

  it("counts packets and bytes both ways and reuses from-address strings", async () => {
    const a = await udp();
    const b = await udp();
    const froms: string[] = [];
    const done = new Promise<void>((resolve) =>
      b.onPacket((from) => {
        froms.push(from);
        if (froms.length === 3) resolve();
      })
    );
    for (let i = 0; i < 3; i++) a.send(b.addresses[0], new Uint8Array(10));
    await withDeadline(done, 5_000, "3 packets");
    expect(a.stats.packetsSent).toBe(3);
    expect(a.stats.bytesSent).toBe(30);
    expect(b.stats.packetsReceived).toBe(3);
    expect(b.stats.bytesReceived).toBe(30);
    expect(new Set(froms)).toEqual(new Set(a.addresses));
  });

  it("hands the handler a plain Uint8Array whose slice() is a copy", async () => {
    const a = await udp();
    const b = await udp();
    const got = new Promise<Uint8Array>((resolve) => b.onPacket((_, p) => resolve(p)));
    a.send(b.addresses[0], new Uint8Array([1, 2, 3]));
    const p = await withDeadline(got, 5_000, "packet");
    expect(Object.getPrototypeOf(p)).toBe(Uint8Array.prototype);
    const copy = p.slice();
    copy[0] = 99;
    expect(p[0]).toBe(1);
  });

  it("keeps working after sends to a closed port", async () => {
    const a = await udp();
    const dead = await deadUdpAddress();
    for (let i = 0; i < 100; i++) a.send(dead, new Uint8Array(64));
    const b = await udp();
    const got = new Promise<void>((resolve) => b.onPacket(() => resolve()));
    a.send(b.addresses[0], new Uint8Array(1));
    await withDeadline(got, 5_000, "packet after sends to a closed port");
    expect(a.stats.socketErrors).toBe(0);
  });
});
