import { describe, expect, it } from "vitest";
import {
  type DataFrame,
  decodePacket,
  encodeAck,
  encodeConflict,
  encodeData,
  encodeHello,
  encodeNodeId,
  encodeProbe,
  encodeProbeReply,
  MAX_PACKET_BYTES,
  patchDstInc,
  TYPE_ACK,
  TYPE_CONFLICT,
  TYPE_DATA,
  TYPE_HELLO,
  TYPE_PROBE,
  TYPE_PROBE_REPLY,
} from "../../transport/codec.ts";
import { DecodeError } from "../../base/errors.ts";
import { Random } from "../../base/random.ts";

const limits = { maxMessageBytes: 1 << 20 };
const header = { srcId: "nöde-α", dstId: "b", srcInc: 2 ** 52 + 12345, dstInc: 7, epoch: 0xfffffffe };
const frames: DataFrame[] = [
  { channel: 0, whole: true, msgId: 0, total: 3, offset: 0, bytes: new Uint8Array([1, 2, 3]) },
  { channel: 65535, whole: true, msgId: 0, total: 0, offset: 0, bytes: new Uint8Array(0) },
  {
    channel: 9,
    whole: false,
    msgId: 0xffffffff,
    total: 100_000,
    offset: 99_990,
    bytes: new Uint8Array(10).fill(7),
  },
];

function valid(): Uint8Array[] {
  return [
    encodeData(header, 1, frames),
    encodeData(header, 0xffffffff, frames.slice(2)),
    encodeAck(encodeNodeId("a"), encodeNodeId("b"), 1, 2, 3, 10, [12, 14, 20, 20]),
    encodeAck(encodeNodeId("a"), encodeNodeId("b"), 1, 0, 3, 0, []),
    encodeHello(encodeNodeId("b"), encodeNodeId("a"), 99, 98, 1),
    encodeProbe(encodeNodeId("a"), encodeNodeId("b"), 5, 0, 2 ** 53 - 1),
    encodeProbeReply(encodeNodeId("b"), encodeNodeId("a"), 6, 5, REPLY),
    encodeProbeReply(encodeNodeId("b"), encodeNodeId("a"), 6, 5, { ...REPLY, otherInc: 9, refused: true }),
    encodeConflict(encodeNodeId("b"), encodeNodeId("a"), 6, 5),
  ];
}

const REPLY = { nonce: 123456789012345, epoch: 4, baseSeq: 17, window: 256, otherInc: 0, refused: false };

/** Decodes; returns the packet or the error, failing the test for any error other than DecodeError. */
function tryDecode(bytes: Uint8Array): unknown {
  try {
    return decodePacket(bytes, limits);
  } catch (error) {
    if (!(error instanceof DecodeError)) throw new Error(`non-DecodeError thrown: ${String(error)}`);
    return error;
  }
}

describe("codec", () => {
  it("round-trips DATA packets", () => {
    const p = decodePacket(encodeData(header, 42, frames), limits);
    expect(p.type).toBe(TYPE_DATA);
    if (p.type !== TYPE_DATA) return;
    expect({ srcId: p.srcId, dstId: p.dstId, srcInc: p.srcInc, dstInc: p.dstInc, epoch: p.epoch }).toEqual(
      header,
    );
    expect(p.seq).toBe(42);
    expect(p.frames.map((f) => ({ ...f, bytes: [...f.bytes] }))).toEqual(
      frames.map((f) => ({ ...f, bytes: [...f.bytes] })),
    );
  });

  it("round-trips ACK and HELLO packets and patches dstInc in place", () => {
    const ack = decodePacket(
      encodeAck(encodeNodeId("a"), encodeNodeId("bb"), 5, 6, 7, 10, [12, 14, 20, 20]),
      limits,
    );
    expect(ack).toEqual({
      type: TYPE_ACK,
      srcId: "a",
      dstId: "bb",
      srcInc: 5,
      dstInc: 6,
      epoch: 7,
      cum: 10,
      ranges: [12, 14, 20, 20],
    });
    const hello = encodeHello(encodeNodeId("b"), encodeNodeId("a"), 99, 98, 1);
    patchDstInc(hello, 2 ** 53 - 1);
    expect(decodePacket(hello, limits)).toEqual({
      type: TYPE_HELLO,
      srcId: "b",
      dstId: "a",
      srcInc: 99,
      dstInc: 2 ** 53 - 1,
      epoch: 1,
    });
  });

  it("round-trips PROBE, PROBE_REPLY (with and without conflict news) and CONFLICT packets", () => {
    const [probe, reply, news, conflict] = valid().slice(-4).map((b) => decodePacket(b, limits));
    expect(probe).toEqual({
      type: TYPE_PROBE,
      srcId: "a",
      dstId: "b",
      srcInc: 5,
      dstInc: 0,
      epoch: 0,
      nonce: 2 ** 53 - 1,
    });
    const h = { srcId: "b", dstId: "a", srcInc: 6, dstInc: 5 };
    expect(reply).toEqual({ type: TYPE_PROBE_REPLY, ...h, ...REPLY, refused: undefined, flags: 0 });
    expect(news).toEqual({
      type: TYPE_PROBE_REPLY,
      ...h,
      ...REPLY,
      otherInc: 9,
      refused: undefined,
      flags: 3,
    });
    expect(conflict).toEqual({ type: TYPE_CONFLICT, ...h, epoch: 0 });
    // The refused flag means nothing without conflict news: such a reply is not ours.
    const bad = encodeProbeReply(encodeNodeId("b"), encodeNodeId("a"), 6, 5, REPLY);
    bad[bad.length - 1] = 2;
    expect(tryDecode(bad)).toBeInstanceOf(DecodeError);
  });

  it("rejects every truncation of valid packets with DecodeError", () => {
    for (const bytes of valid()) {
      for (let n = 0; n < bytes.length; n++) {
        expect(tryDecode(bytes.subarray(0, n))).toBeInstanceOf(DecodeError);
      }
      // And trailing garbage.
      const longer = new Uint8Array(bytes.length + 1);
      longer.set(bytes);
      expect(tryDecode(longer)).toBeInstanceOf(DecodeError);
    }
  });

  it("never throws anything but DecodeError on random bytes or single-byte corruption", () => {
    const random = new Random(1);
    let decoded = 0;
    for (let i = 0; i < 50_000; i++) {
      const bytes = new Uint8Array(random.int(200));
      for (let j = 0; j < bytes.length; j++) bytes[j] = random.int(256);
      // Make some of them look like the format so the deeper checks are reached too.
      if (i % 2 === 0 && bytes.length > 4) {
        bytes[0] = 1;
        bytes[1] = 1 + random.int(3);
        bytes[2] = 1 + random.int(4);
        bytes[3] = 1 + random.int(4);
      }
      if (!(tryDecode(bytes) instanceof DecodeError)) decoded++;
    }
    expect(decoded).toBeLessThan(50_000);
    for (const bytes of valid()) {
      for (let pos = 0; pos < bytes.length; pos++) {
        for (const v of [0, 1, 0x7f, 0x80, 0xff, bytes[pos] ^ 1]) {
          const copy = bytes.slice();
          copy[pos] = v;
          tryDecode(copy);
        }
      }
    }
  });

  it("enforces bounds: oversized packets, messages above maxMessageBytes, fragments outside their message", () => {
    expect(tryDecode(new Uint8Array(MAX_PACKET_BYTES + 1))).toBeInstanceOf(DecodeError);
    const big = encodeData(header, 1, [
      { channel: 0, whole: false, msgId: 1, total: (1 << 20) + 1, offset: 0, bytes: new Uint8Array(4) },
    ]);
    expect(tryDecode(big)).toBeInstanceOf(DecodeError);
    const outside = encodeData(header, 1, [
      { channel: 0, whole: false, msgId: 1, total: 10, offset: 8, bytes: new Uint8Array(4) },
    ]);
    expect(tryDecode(outside)).toBeInstanceOf(DecodeError);
    const seq0 = encodeData(header, 0, frames);
    expect(tryDecode(seq0)).toBeInstanceOf(DecodeError);
    const badRanges = encodeAck(encodeNodeId("a"), encodeNodeId("b"), 1, 2, 3, 10, [11, 12]);
    expect(tryDecode(badRanges)).toBeInstanceOf(DecodeError); // 11 = cum + 1 cannot be a selective ack
    const badUtf8 = encodeHello(encodeNodeId("b"), encodeNodeId("a"), 99, 98, 1);
    badUtf8[4] = 0xff;
    expect(tryDecode(badUtf8)).toBeInstanceOf(DecodeError);
    const version = valid()[0];
    version[0] = 2;
    expect(tryDecode(version)).toBeInstanceOf(DecodeError);
  });

  it("validates node IDs", () => {
    expect(() => encodeNodeId("")).toThrow(RangeError);
    expect(() => encodeNodeId("é".repeat(128))).toThrow(RangeError); // 256 bytes
    expect(encodeNodeId("é".repeat(127)).length).toBe(254);
  });
});
