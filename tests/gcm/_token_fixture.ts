/**
 * One token that exercises every field of the GCM wire format (shared by the codec tests and the
 * decoder fuzzer): members with large incarnations and non-ASCII IDs, entries of the token's view and
 * of an older one, a forwarded safe message, a holder outside the nodelist, transition information,
 * address notes (one for a member outside the nodelist, one with a holder outside it).
 */
import type { Token } from "../../gcm/token.ts";

/** A fresh copy of the sample token. */
export function sampleToken(): Token {
  return {
    ringId: "a/1/1",
    parentRingId: "z/1/2",
    forkSeq: 123456700,
    seq: 123456789,
    nodelist: [{ id: "a", inc: 1 }, { id: "b", inc: 2 ** 40 }, { id: "ü-ñ", inc: 3 }],
    current: 1,
    dest: 2,
    gvn: 7,
    rsv: 8,
    flags: 3,
    cfg: "7:a/1/5",
    mseq: 40,
    rsvTag: "b/1099511627776/2",
    trans: [
      { member: { id: "a", inc: 1 }, from: "6:b/1099511627776/1", delivered: 12, stable: 10 },
      { member: { id: "ü-ñ", inc: 3 }, from: "7:a/1/5", delivered: 39, stable: 30 },
    ],
    entries: [
      {
        cfg: "6:b/1099511627776/1",
        gseq: 11,
        originId: "gone",
        originInc: 9,
        seq: 4,
        safe: true,
        holder: "b",
        fwd: "outsider",
        stream: 1,
        data: new Uint8Array(0),
      },
      {
        cfg: "7:a/1/5",
        gseq: 39,
        originId: "a",
        originInc: 1,
        seq: 1,
        safe: false,
        holder: "a",
        fwd: "",
        stream: 0,
        data: new Uint8Array([1, 2, 3]),
      },
      {
        cfg: "7:a/1/5",
        gseq: 40,
        originId: "b",
        originInc: 2 ** 40,
        seq: 9,
        safe: false,
        holder: "b",
        fwd: "",
        stream: 0,
        data: new Uint8Array([0, 0, 0, 5]),
      },
    ],
    addrs: [
      {
        member: { id: "b", inc: 2 ** 40 },
        version: 3,
        addresses: ["udp://[::1]:7001", "relay+ws://hub.example/#b"],
        holder: "a",
      },
      {
        member: { id: "new", inc: 77 },
        version: 1,
        addresses: ["webrtc+ws://ü.example/#new"],
        holder: "later",
      },
      { member: { id: "a", inc: 1 }, version: 2 ** 32 - 1, addresses: [], holder: "b" },
    ],
  };
}
