/**
 * The UDP backend under Deno (node:dgram compatibility): bind, an mtu-sized packet both ways on
 * IPv4 and IPv6 loopback, the from-address, close() (idempotent, stops delivery), send after
 * close, a port in use. Run by scripts/deno-tests.mjs (`deno test --allow-net --allow-read`).
 */
import { TransportBindError } from "../../transport/errors.ts";
import { createUdpTransport, UDP_LOOPBACK_MTU, type UdpTransport } from "../../transport/backends/udp.ts";

function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 7 + 3) & 0xff;
  return out;
}

async function echoRoundTrip(a: UdpTransport, b: UdpTransport, size: number): Promise<void> {
  b.onPacket((from, packet) => b.send(from, packet.slice()));
  const back = new Promise<{ from: string; packet: Uint8Array }>((resolve) =>
    a.onPacket((from, packet) => resolve({ from, packet: packet.slice() }))
  );
  const sent = pattern(size);
  a.send(b.addresses[0], sent);
  const got = await deadline(back, 5_000, "echo");
  assert(got.from === b.addresses[0], `from ${got.from}, expected ${b.addresses[0]}`);
  assert(got.packet.length === size, `length ${got.packet.length}, expected ${size}`);
  for (let i = 0; i < size; i++) assert(got.packet[i] === sent[i], `byte ${i} differs`);
}

for (const [name, host, mtu] of [["IPv4", "127.0.0.1", 1400], ["IPv6", "::1", UDP_LOOPBACK_MTU]] as const) {
  Deno.test(`udp (${name}): an mtu-sized packet goes there and back`, async () => {
    const a = await createUdpTransport({ host, mtu });
    const b = await createUdpTransport({ host, mtu });
    try {
      assert(a.kind === "udp" && a.mtu === mtu && a.port > 0, "kind, mtu and port are reported");
      await echoRoundTrip(a, b, mtu);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
}

Deno.test("udp: close() is idempotent, stops delivery, and send afterwards is ignored", async () => {
  const a = await createUdpTransport();
  const b = await createUdpTransport();
  const c = await createUdpTransport();
  let atB = 0;
  b.onPacket(() => atB++);
  await Promise.all([b.close(), b.close()]);
  for (let i = 0; i < 10; i++) a.send(b.addresses[0], new Uint8Array(8));
  await echoRoundTrip(a, c, 10); // barrier after the sends to b
  assert(atB === 0, `closed transport delivered ${atB} packets`);
  await a.close();
  a.send(c.addresses[0], new Uint8Array(1)); // must not throw
  await c.close();
});

Deno.test("udp: a port in use fails with TransportBindError", async () => {
  const a = await createUdpTransport();
  try {
    const err = await createUdpTransport({ port: a.port }).then(() => undefined, (e: unknown) => e);
    assert(err instanceof TransportBindError, `expected TransportBindError, got ${String(err)}`);
  } finally {
    await a.close();
  }
});

// Deno 2.9's node:dgram cannot set SO_RCVBUF, so the kernel default (Linux: 208 KiB) bounds a
// burst: 50 × 1,000 B fits it; 100 already overflows (measured). The Transport Manager resends.
Deno.test("udp: a burst of 50 packets over an idle loopback all arrives", async () => {
  const a = await createUdpTransport();
  const b = await createUdpTransport();
  try {
    const seen = new Set<number>();
    const all = new Promise<void>((resolve) =>
      b.onPacket((_, p) => {
        seen.add(p[0] | (p[1] << 8));
        if (seen.size === 50) resolve();
      })
    );
    for (let i = 0; i < 50; i++) {
      const p = new Uint8Array(1000);
      p[0] = i & 0xff;
      p[1] = i >> 8;
      a.send(b.addresses[0], p);
    }
    await deadline(all, 5_000, "50 packets");
    assert(b.stats.packetsReceived === 50, `received ${b.stats.packetsReceived}`);
    assert(b.bufferSizes.recv === undefined, "buffer sizes are not reported where they are not applied");
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
