/** The secure wrapper: authentication, encryption, admission, freshness, both crypto back ends. */
import { beforeAll, describe, expect, it } from "vitest";
import { encodeAck, encodeNodeId } from "../../transport/codec.ts";
import type { PacketHandler, PacketTransport } from "../../transport/packet_transport.ts";
import { decodeSecureEnvelope, SECURE_OVERHEAD } from "../../transport/secure/envelope.ts";
import { InvalidKeyError } from "../../transport/errors.ts";
import { issueNodeCredential } from "../../transport/secure/keys.ts";
import { formatNodeCredential, parseKeyFile } from "../../transport/secure/key_file.ts";
import { loadNodeCrypto, secureTransport } from "../../transport/secure/secure.ts";
import { DecodeError } from "../../base/errors.ts";
import { pattern, runUntil, simCluster } from "./_helpers.ts";

/** An inner backend that records what it sends and lets the test inject packets. */
class Tap implements PacketTransport {
  readonly kind = "tap";
  readonly mtu = 1400;
  readonly addresses = ["tap://x"];
  readonly sent: Uint8Array[] = [];
  handler: PacketHandler | undefined;
  send(_to: string, packet: Uint8Array): void {
    this.sent.push(packet.slice());
  }
  onPacket(fn: PacketHandler): void {
    this.handler = fn;
  }
  inject(p: Uint8Array): void {
    this.handler?.("tap://peer", p);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const KEY = pattern(32, 7);
const OTHER_KEY = pattern(32, 8);

function ack(src: string, dst: string, cum = 5): Uint8Array {
  return encodeAck(encodeNodeId(src), encodeNodeId(dst), 11, 22, 1, cum, [7, 9]);
}

async function until(f: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 1));
  }
}

function pair(
  opts: {
    encrypt?: boolean;
    mac?: "gmac" | "hmac-sha256";
    crypto?: "auto" | "webcrypto";
    now?: () => number;
    keyA?: Uint8Array;
    keyB?: Uint8Array;
  },
) {
  const tapA = new Tap();
  const tapB = new Tap();
  const a = secureTransport(tapA, {
    key: opts.keyA ?? KEY,
    encrypt: opts.encrypt,
    mac: opts.mac,
    crypto: opts.crypto,
    now: opts.now,
    nodeId: "a",
  });
  const b = secureTransport(tapB, {
    key: opts.keyB ?? KEY,
    encrypt: opts.encrypt,
    mac: opts.mac,
    crypto: opts.crypto,
    now: opts.now,
    nodeId: "b",
  });
  const got: Uint8Array[] = [];
  b.onPacket((_f, p) => got.push(p.slice()));
  return { a, b, tapA, tapB, got };
}

beforeAll(async () => {
  expect(await loadNodeCrypto()).toBe(true);
});

describe("secureTransport", () => {
  for (const [encrypt, mac] of [[false, "gmac"], [false, "hmac-sha256"], [true, "gmac"]] as const) {
    for (const sendVia of ["auto", "webcrypto"] as const) {
      for (const recvVia of ["auto", "webcrypto"] as const) {
        it(`round trip, encrypt=${encrypt}, mac=${mac}, send ${sendVia}, receive ${recvVia}`, async () => {
          const tapA = new Tap();
          const tapB = new Tap();
          const a = secureTransport(tapA, { key: KEY, encrypt, mac, crypto: sendVia, nodeId: "a" });
          const b = secureTransport(tapB, { key: KEY, encrypt, mac, crypto: recvVia, nodeId: "b" });
          expect(a.mtu).toBe(1400 - SECURE_OVERHEAD);
          const got: Uint8Array[] = [];
          b.onPacket((_f, p) => got.push(p.slice()));
          const p = ack("a", "b");
          a.send("tap://b", p);
          await until(() => tapA.sent.length === 1);
          const wire = tapA.sent[0];
          expect(wire.length).toBe(p.length + SECURE_OVERHEAD);
          const env = decodeSecureEnvelope(wire);
          expect(env).toMatchObject({ encrypted: encrypt, src: "a", dst: "b" });
          tapB.inject(wire);
          await until(() => got.length === 1);
          expect(got[0]).toEqual(p);
          expect(b.stats).toMatchObject({ accepted: 1, rejected: 0, stale: 0 });
        });
      }
    }
  }

  it("encrypt hides the body (frames and acks) but not the TM header", async () => {
    const { a, tapA } = pair({ encrypt: true });
    const p = ack("a", "b", 0x01020304);
    a.send("tap://b", p);
    await until(() => tapA.sent.length === 1);
    const wire = tapA.sent[0];
    expect(wire.subarray(13, 13 + p.length - 13)).toEqual(p.subarray(0, p.length - 13)); // header prefix
    expect(wire.subarray(13 + p.length - 13, 13 + p.length)).not.toEqual(p.subarray(p.length - 13));
  });

  for (const [encrypt, mac] of [[false, "gmac"], [false, "hmac-sha256"], [true, "gmac"]] as const) {
    it(`every single-bit flip and every truncation is rejected, never handed up (encrypt=${encrypt}, mac=${mac})`, async () => {
      const { a, tapA, tapB, got, b } = pair({ encrypt, mac });
      a.send("tap://b", ack("a", "b"));
      await until(() => tapA.sent.length === 1);
      const wire = tapA.sent[0];
      let n = 0;
      for (let i = 0; i < wire.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const m = wire.slice();
          m[i] ^= 1 << bit;
          tapB.inject(m);
          n++;
        }
      }
      for (let len = 0; len < wire.length; len++) {
        tapB.inject(wire.subarray(0, len));
        n++;
      }
      await until(() => b.stats.rejected === n);
      expect(got.length).toBe(0);
      expect(b.stats.accepted).toBe(0);
    });
  }

  it("a different cluster key, or the other mode, is rejected", async () => {
    const { a, tapA, tapB, b, got } = pair({ keyB: OTHER_KEY });
    a.send("tap://b", ack("a", "b"));
    await until(() => tapA.sent.length === 1);
    tapB.inject(tapA.sent[0]);
    const enc = pair({ encrypt: true });
    const hm = pair({ mac: "hmac-sha256" });
    hm.a.send("tap://b", ack("a", "b"));
    await until(() => hm.tapA.sent.length === 1);
    tapB.inject(hm.tapA.sent[0]);
    enc.a.send("tap://b", ack("a", "b"));
    await until(() => enc.tapA.sent.length === 1);
    tapB.inject(enc.tapA.sent[0]);
    await until(() => b.stats.rejected === 3);
    expect(got.length).toBe(0);
  });

  it("a packet for another node ID, or not from this node, is dropped", async () => {
    const { a, tapA, tapB, b } = pair({});
    a.send("tap://b", ack("c", "b")); // a claims to be c: refused on send
    expect(a.stats.refused).toBe(1);
    a.send("tap://b", new Uint8Array([9, 9, 9])); // not a TM packet
    expect(a.stats.refused).toBe(2);
    // Cluster-key holder c speaking for itself to d: b (nodeId "b") drops it.
    const c = secureTransport(new Tap(), { key: KEY, nodeId: "c" });
    const cTap = c.inner as Tap;
    c.send("tap://d", ack("c", "d"));
    await until(() => cTap.sent.length === 1);
    tapB.inject(cTap.sent[0]);
    await until(() => b.stats.rejected === 1);
    expect(tapA.sent.length).toBe(0);
  });

  it("freshness: a packet replayed after maxPacketAgeMs is stale; one from the future too", async () => {
    let now = 1_700_000_000_000;
    const { a, tapA, tapB, b, got } = pair({ now: () => now });
    a.send("tap://b", ack("a", "b"));
    await until(() => tapA.sent.length === 1);
    const wire = tapA.sent[0];
    tapB.inject(wire);
    tapB.inject(wire); // a duplicate inside the window: handed up (the TM suppresses duplicates)
    await until(() => got.length === 2);
    now += 120_001;
    tapB.inject(wire);
    await until(() => b.stats.stale === 1);
    now -= 2 * 120_002;
    tapB.inject(wire);
    await until(() => b.stats.stale === 2);
    expect(got.length).toBe(2);
  });

  it("counters grow strictly per process even when the clock stands still", async () => {
    const { a, tapA } = pair({ now: () => 5_000 });
    for (let i = 0; i < 5; i++) a.send("tap://b", ack("a", "b"));
    await until(() => tapA.sent.length === 5);
    const counters = tapA.sent.map((w) => decodeSecureEnvelope(w).counter);
    expect(counters).toEqual([5_000_000, 5_000_001, 5_000_002, 5_000_003, 5_000_004]);
  });
});

describe("admission: node credentials", () => {
  it("a credential speaks only as its node, only with listed peers; a cluster-key holder talks to it", async () => {
    const eligible = ["alice", "bob", "mallory"];
    const alice = await issueNodeCredential(KEY, "alice", eligible);
    const mallory = await issueNodeCredential(KEY, "mallory", ["mallory", "bob"]); // not eligible towards alice
    expect(Object.keys(alice.peers).sort()).toEqual(["bob", "mallory"]);
    const tAlice = new Tap();
    const sAlice = secureTransport(tAlice, { key: alice });
    const gotAlice: Uint8Array[] = [];
    sAlice.onPacket((_f, p) => gotAlice.push(p));
    const tBob = new Tap();
    const sBob = secureTransport(tBob, { key: KEY, nodeId: "bob" }); // bob holds the cluster key
    const gotBob: Uint8Array[] = [];
    sBob.onPacket((_f, p) => gotBob.push(p));
    const tMal = new Tap();
    const sMal = secureTransport(tMal, { key: mallory });

    // alice ↔ bob works both ways.
    sAlice.send("tap://bob", ack("alice", "bob"));
    sBob.send("tap://alice", ack("bob", "alice"));
    await until(() => tAlice.sent.length === 1 && tBob.sent.length === 1);
    tBob.inject(tAlice.sent[0]);
    tAlice.inject(tBob.sent[0]);
    await until(() => gotAlice.length === 1 && gotBob.length === 1);

    // mallory cannot claim alice's ID …
    sMal.send("tap://bob", ack("alice", "bob"));
    expect(sMal.stats.refused).toBe(1);
    // … not even by splicing alice's header under its own key: MAC over (src, dst) fails at bob.
    sMal.send("tap://bob", ack("mallory", "bob"));
    await until(() => tMal.sent.length === 1);
    const forged = tMal.sent[0].slice();
    forged.set(encodeNodeId("alice").subarray(0, 5), 13 + 4); // "malloc" → "alice" would change lengths; overwrite bytes
    tBob.inject(forged);
    await until(() => sBob.stats.rejected === 1);
    // mallory → alice: mallory holds no pair key for alice (not eligible there) so it cannot send.
    sMal.send("tap://alice", ack("mallory", "alice"));
    expect(sMal.stats.refused).toBe(2);
    // A packet from mallory to bob replayed to alice: alice has no (mallory, bob) key.
    tAlice.inject(tMal.sent[0]);
    await until(() => sAlice.stats.rejected === 1);
    expect(gotAlice.length).toBe(1);
    expect(gotBob.length).toBe(1);
  });

  it("key files: cluster keys in base64 or hex, credentials as JSON; bad files say what to do", async () => {
    const b64 = btoa(String.fromCharCode(...KEY));
    expect(parseKeyFile(b64 + "\n")).toEqual(KEY);
    expect(parseKeyFile(Array.from(KEY, (x) => x.toString(16).padStart(2, "0")).join(""))).toEqual(KEY);
    const cred = await issueNodeCredential(KEY, "n1", ["n1", "n2"]);
    expect(parseKeyFile(formatNodeCredential(cred))).toEqual(cred);
    expect(() => parseKeyFile("abcd")).toThrow(InvalidKeyError);
    expect(() => parseKeyFile("abcd")).toThrow(/urandom/);
    expect(() => parseKeyFile("not a key!")).toThrow(InvalidKeyError);
    expect(() => parseKeyFile('{"nodeId": 3}')).toThrow(InvalidKeyError);
    expect(() => parseKeyFile("{nope")).toThrow(InvalidKeyError);
    expect(() => secureTransport(new Tap(), { key: new Uint8Array(8) })).toThrow(InvalidKeyError);
    expect(() => secureTransport(new Tap(), { key: cred, nodeId: "n2" })).toThrow(/issue one for "n2"/);
    expect(() => secureTransport(new Tap(), { key: KEY, maxPacketAgeMs: 0 })).toThrow(RangeError);
    expect(() => secureTransport(new Tap(), { key: KEY, mac: "md5" as "gmac" })).toThrow(RangeError);
  });

  it("decodeSecureEnvelope throws DecodeError only", () => {
    expect(() => decodeSecureEnvelope(new Uint8Array(3))).toThrow(DecodeError);
    expect(() => decodeSecureEnvelope(new Uint8Array(100))).toThrow(DecodeError);
  });
});

describe("Transport Managers over the wrapper (simulated network)", () => {
  for (const encrypt of [false, true]) {
    it(`messages of all sizes arrive whole (encrypt=${encrypt})`, async () => {
      const { clock, net } = simCluster(3, { loss: 0.05, reorder: 0.1, duplicate: 0.05 });
      const { TransportManager } = await import("../../transport/manager.ts");
      const now = () => 1_700_000_000_000 + clock.now();
      const mk = (id: string, inc: number) =>
        new TransportManager({
          nodeId: id,
          clock,
          incarnation: inc,
          transports: [
            secureTransport(net.createTransport(`mem://${id}`), { key: KEY, nodeId: id, encrypt, now }),
          ],
        });
      const a = mk("a", 1);
      const b = mk("b", 2);
      a.setAddresses("b", ["mem://b"]);
      b.setAddresses("a", ["mem://a"]);
      const got: Uint8Array[] = [];
      b.onMessage(0, (_from, m) => got.push(m));
      const sizes = [0, 1, 1000, 5000, 70_000];
      let ok = 0;
      for (const s of sizes) a.send("b", 0, pattern(s, s)).then(() => ok++);
      expect(await runUntil(clock, () => ok === sizes.length && got.length === sizes.length, 60_000)).toBe(
        true,
      );
      expect(got.map((m) => m.length).sort((x, y) => x - y)).toEqual(sizes);
      for (const m of got) expect(m).toEqual(pattern(m.length, m.length));
      await a.close();
      await b.close();
    });
  }
});
