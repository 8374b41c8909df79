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
import { decodeDirect, decodeOperations, encodeDirect, encodeOperations } from "../../gdm/codec.ts";
import type { Operation } from "../../gdm/operations.ts";
import type { Stamp } from "../../gdm/stamp.ts";
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

const stamp: Stamp = [5, "a"];
const gdmOps: Operation[][] = [
  [{ kind: "write", issuer: "a#1.1", n: 1, stamp, writes: [{ key: "x", value: new Uint8Array([1, 2]) }] }],
  [
    { kind: "lock", issuer: "a#1.1", n: 2, stamp, name: "L", owner: "a#1", acks: true },
    { kind: "unlock", issuer: "a#1.1", n: 3, stamp, name: "L", owner: "a#1", request: "a#1.1#2" },
    {
      kind: "write",
      issuer: "a#1.1",
      n: 4,
      stamp,
      writes: [{ key: "p", patch: { path: ["f", 1], value: 3 } }],
      reads: [{ key: "p", stamp: null }],
    },
  ],
  [{
    kind: "hello",
    view: "4:a/1/3",
    member: "a#1",
    epoch: "e",
    items: 10,
    applied: 7,
    clock: 9,
    digest: "d",
    stale: false,
    locks: [["L", {
      holder: { owner: "a#1", request: "a#1.1#2", fence: 3 },
      fence: 3,
      waiting: [{ owner: "b#2", request: "b#2.1#5" }],
    }]],
    sessions: [["a#1.1", {
      upTo: 4,
      above: [6],
      failures: [[5, { kind: "conflict", detail: "x" }]],
      last: 9,
    }]],
  }, { kind: "synced", member: "b#2" }],
  [{
    kind: "merge",
    issuer: "b#2.1",
    n: 1,
    stamp,
    items: [["k", { value: new Uint8Array([7]), stamp, replaced: stamp }]],
    quiet: true,
  }],
];

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
  { name: "gdm/codec decodeOperations", corpus: gdmOps.map(encodeOperations), decode: decodeOperations },
  {
    name: "gdm/codec decodeDirect",
    corpus: [
      encodeDirect({
        kind: "chunk",
        chunk: {
          view: "v",
          n: 0,
          last: true,
          totalItems: 1,
          totalBytes: 9,
          items: [["k", { stamp }]],
          head: { locks: [], sessions: [], clock: 9, applied: 2 },
        },
      }),
      encodeDirect({ kind: "resume", view: "v", member: "a#1", from: 3 }),
      encodeDirect({ kind: "refuse", view: "v" }),
      encodeDirect({ kind: "durable", member: "b#2", issuer: "a#1.1", ns: [1, 2], grants: [3] }),
    ],
    decode: decodeDirect,
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
