/**
 * Every decoder fed random and mutated inputs (see _fuzz.ts): it returns or throws DecodeError,
 * within a time bound, with a result bounded by its input. ≥ 100,000 cases in CI in total
 * (FUZZ_CASES for the long mode, FUZZ_SEED to replay).
 */
import { describe, expect, it } from "vitest";
import { decode as decodeGcm, encode911, encodeForward, encodeToken } from "../../gcm/codec.ts";
import { F911_JOIN, STATUS_NO } from "../../gcm/message911.ts";
import { sampleToken } from "../gcm/_token_fixture.ts";
import type { Token } from "../../gcm/token.ts";
import { decodeChunk, decodeOp, encodeChunk, encodeOp, type Op } from "../../gdm/ops.ts";
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
} from "../../transport/codec.ts";
import { decodeSignal, encodeSignal } from "../../transport/backends/webrtc/signal_codec.ts";
import {
  decodeFrame,
  encodeChallengeFrame,
  encodeDataFrame,
  encodeGoneFrame,
  encodeHelloFrame,
  encodeNoRouteFrame,
  encodePingFrame,
  encodeRelayFrame,
  FRAME_PING,
  FRAME_PONG,
  FRAME_RELAY,
  FRAME_RELAYED,
  relayIdBytes,
} from "../../transport/backends/websocket/frame.ts";
import { decodeSecureEnvelope } from "../../transport/secure/envelope.ts";
import { casesPerTarget, fuzz, type FuzzTarget, runSeed } from "./_fuzz.ts";

const LIMITS = { maxMessageBytes: 1 << 20 };
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

const stamp = { c: 5, n: "a#1" } as unknown as Op extends { s: infer S } ? S : never;
const ops = [
  { t: "w", id: "a#1#1", s: stamp, w: [{ k: "x", v: new Uint8Array([1, 2]) }] },
  { t: "lock", id: "a#1#2", s: stamp, n: "L", o: "a#1", vi: 3 },
  { t: "hello", m: ["a#1", "b#2"], vi: 4, me: "a#1", side: ["a#1"], d: 10 },
  { t: "b", ops: [{ t: "evict", m: ["c#3"], vi: 5 }, { t: "req", rid: "r1", to: "b#2", from: "a#1" }] },
  { t: "digest", round: "r", me: "a#1", dg: "abcdef" },
] as unknown as Op[];

/** Bytes of frames/payloads of a decoded TM packet stay within the packet. */
function checkPacket(p: unknown, input: Uint8Array): void {
  const pk = p as { type: number; frames?: DataFrame[]; ranges?: number[] };
  if (pk.frames !== undefined) {
    let total = 0;
    for (const f of pk.frames) {
      total += f.bytes.length;
      if (f.bytes.buffer !== input.buffer) throw new Error("frame bytes are not a view of the packet");
      if (f.offset + f.bytes.length > f.total || f.total > LIMITS.maxMessageBytes) {
        throw new Error("fragment outside its message");
      }
    }
    if (total > input.length) throw new Error("frames longer than the packet");
  }
  if (pk.ranges !== undefined && pk.ranges.length > 2 * 64) throw new Error("too many ranges");
}

const targets: FuzzTarget[] = [
  {
    name: "transport/codec decodePacket",
    corpus: [
      encodeData(header, 1, frames),
      encodeData(header, 0xffffffff, frames.slice(2)),
      encodeAck(encodeNodeId("a"), encodeNodeId("b"), 1, 2, 3, 10, [12, 14, 20, 20]),
      encodeHello(encodeNodeId("b"), encodeNodeId("a"), 99, 98, 1),
      encodeProbe(encodeNodeId("a"), encodeNodeId("b"), 5, 0, 2 ** 52 + 3),
      encodeProbeReply(encodeNodeId("b"), encodeNodeId("a"), 6, 5, {
        nonce: 77,
        epoch: 4,
        baseSeq: 17,
        window: 256,
        otherInc: 9,
        refused: true,
      }),
      encodeConflict(encodeNodeId("b"), encodeNodeId("a"), 6, 5),
    ],
    decode: (b) => decodePacket(b, LIMITS),
    check: checkPacket,
  },
  {
    name: "gcm/codec decode (token, 911, forward)",
    corpus: [
      encodeToken(sampleToken()),
      encodeToken({ ...sampleToken(), entries: [] }),
      encode911({
        ringId: "r",
        seq: 5,
        nodelist: [{ id: "x", inc: 1 }],
        orig: 0,
        current: 0,
        dest: 0,
        status: STATUS_NO,
        flags: F911_JOIN,
        addrs: [],
      }),
      encodeForward({ from: "z", safe: true, data: new Uint8Array([9, 8, 7]) }),
    ],
    decode: decodeGcm,
    check: (m, input) => {
      const t = (m as { token?: Token }).token;
      if (t !== undefined && t.nodelist.length + t.entries.length > input.length) {
        throw new Error("more list entries than bytes");
      }
    },
  },
  { name: "gdm/ops decodeOp", corpus: ops.map(encodeOp), decode: decodeOp },
  {
    name: "gdm/ops decodeChunk",
    corpus: [
      encodeChunk({ rid: "r", n: 0, last: true, clock: 9, items: [] }),
      encodeChunk({ rid: "r2", n: 3, last: false, clock: 1, items: [] }),
    ],
    decode: decodeChunk,
  },
  {
    name: "websocket decodeFrame",
    corpus: [
      encodeHelloFrame("node-1"),
      encodeHelloFrame("node-1", new Uint8Array(32).fill(7)),
      encodeChallengeFrame("hub", new Uint8Array(16).fill(9)),
      encodePingFrame(FRAME_PING, 0xdeadbeef),
      encodePingFrame(FRAME_PONG, 1),
      encodeNoRouteFrame("x"),
      encodeGoneFrame("gone"),
      encodeDataFrame(0, new Uint8Array([1, 2, 3, 4])),
      encodeRelayFrame(FRAME_RELAY, 1, relayIdBytes("peer"), new Uint8Array(20).fill(3)),
      encodeRelayFrame(FRAME_RELAYED, 0, relayIdBytes("p"), new Uint8Array(0)),
    ],
    decode: decodeFrame,
    check: (f, input) => {
      const p = (f as { payload?: Uint8Array }).payload;
      if (p !== undefined && p.length > input.length) throw new Error("payload longer than the frame");
    },
  },
  {
    name: "webrtc decodeSignal",
    corpus: [
      encodeSignal({ type: "offer", session: 7, sdp: "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n" }),
      encodeSignal({ type: "answer", session: 0xffffffff, sdp: "" }),
      encodeSignal({ type: "bye", session: 3 }),
    ],
    decode: decodeSignal,
    check: (s, input) => {
      const sdp = (s as { sdp?: string }).sdp;
      if (sdp !== undefined && sdp.length > input.length) throw new Error("sdp longer than the message");
    },
  },
  {
    name: "secure decodeSecureEnvelope",
    corpus: (() => {
      const wrap = (inner: Uint8Array, marker: number) => {
        const out = new Uint8Array(13 + inner.length + 16);
        out[0] = marker;
        out.set(inner, 13);
        return out;
      };
      return [
        wrap(encodeData(header, 1, frames), 0xa1),
        wrap(encodeAck(encodeNodeId("a"), encodeNodeId("b"), 1, 2, 3, 10, []), 0xa2),
      ];
    })(),
    decode: decodeSecureEnvelope,
  },
];

describe("fuzz: decoders never throw anything but DecodeError", () => {
  const per = casesPerTarget(targets.length + 1); // + the secure wrapper's receive path (secure.test)
  targets.forEach((t, i) => {
    it(`${t.name} (${per} cases)`, () => {
      const seed = runSeed(i + 1);
      let report;
      try {
        report = fuzz(t, seed, per, 1000);
      } catch (e) {
        console.error(`fuzz failure — replay with FUZZ_SEED=${seed}`);
        throw e;
      }
      expect(report.cases).toBe(per);
      expect(report.rejected).toBeGreaterThan(0);
    }, 600_000);
  });
});
