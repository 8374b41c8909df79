import { describe, expect, it } from "vitest";
import { DecodeError } from "../../base/errors.ts";
import { Random } from "../../base/random.ts";
import {
  decode,
  encode911,
  encodeForward,
  encodeToken,
  KIND_911,
  KIND_FORWARD,
  KIND_TOKEN,
} from "../../gcm/codec.ts";
import { sampleToken } from "./_token_fixture.ts";
import { F911_JOIN, STATUS_NO } from "../../gcm/message911.ts";

describe("GCM codec", () => {
  it("round-trips a token, a 911 and a forward", () => {
    const t = sampleToken();
    const d = decode(encodeToken(t));
    expect(d.kind).toBe(KIND_TOKEN);
    if (d.kind === KIND_TOKEN) {
      expect(d.token.nodelist).toEqual(t.nodelist);
      expect({ ...d.token, entries: [], nodelist: [] }).toEqual({ ...t, entries: [], nodelist: [] });
      expect(d.token.entries.map((e) => ({ ...e, data: [...e.data] }))).toEqual(
        t.entries.map((e) => ({ ...e, data: [...e.data] })),
      );
    }
    const m = {
      ringId: "r",
      seq: 5,
      nodelist: [{ id: "x", inc: 1 }],
      orig: 0,
      current: 0,
      dest: 0,
      status: STATUS_NO,
      flags: F911_JOIN,
      addrs: [
        {
          member: { id: "x", inc: 1 },
          version: 4,
          addresses: ["udp://127.0.0.1:7001", "ws://127.0.0.1:8080/"],
        },
        { member: { id: "y", inc: 2 ** 45 }, version: 1, addresses: [] },
      ],
    };
    const d2 = decode(encode911(m));
    expect(d2).toEqual({ kind: KIND_911, msg: m });
    const f = decode(encodeForward({ from: "z", safe: true, data: new Uint8Array([9]) }));
    expect(f.kind).toBe(KIND_FORWARD);
    if (f.kind === KIND_FORWARD) expect([f.fwd.from, f.fwd.safe, [...f.fwd.data]]).toEqual(["z", true, [9]]);
  });

  it("writes each member ID once per token, not once per message", () => {
    const t = { ...sampleToken(), addrs: [] };
    t.entries = Array.from({ length: 100 }, (_, i) => ({
      cfg: t.cfg,
      gseq: t.mseq - 99 + i,
      originId: "a",
      originInc: 1,
      seq: i + 1,
      safe: false,
      holder: "a",
      fwd: "",
      stream: 0,
      data: new Uint8Array(100),
    }));
    expect(encodeToken(t).length).toBeLessThan(100 * (100 + 17) + 300);
  });

  it("re-encodes a decoded token to the same bytes (u32 fields at their limits, forwarded entries)", () => {
    const t = sampleToken();
    t.entries[0].seq = 0xffffffff;
    t.entries[1].seq = 0x80000000;
    t.entries.push({ ...t.entries[1], seq: 0x7fffffff, fwd: "a", data: new Uint8Array(300).fill(7) });
    const bytes = encodeToken(t);
    const d = decode(bytes);
    expect(d.kind).toBe(KIND_TOKEN);
    if (d.kind !== KIND_TOKEN) return;
    expect(d.token.entries.map((e) => [e.seq, e.fwd, e.data.length, e.cfg, e.gseq])).toEqual([
      [0xffffffff, "outsider", 0, "6:b/1099511627776/1", 11],
      [0x80000000, "", 3, t.cfg, 39],
      [9, "", 4, t.cfg, 40],
      [0x7fffffff, "a", 300, t.cfg, 39],
    ]);
    expect([...encodeToken(d.token)]).toEqual([...bytes]);
    // payloads are views into the decoded buffer, not copies
    expect(d.token.entries[3].data.buffer).toBe(bytes.buffer);
  });

  it("rejects bad version, truncations, trailing bytes and random bytes with DecodeError only", () => {
    const good = encodeToken(sampleToken());
    const badVersion = good.slice();
    badVersion[1] = 99;
    expect(() => decode(badVersion)).toThrow(DecodeError);
    for (let n = 0; n < good.length; n++) expect(() => decode(good.subarray(0, n))).toThrow(DecodeError);
    expect(() => decode(new Uint8Array([...good, 0]))).toThrow(DecodeError);
    const r = new Random(7);
    for (let i = 0; i < 3000; i++) {
      const b = good.slice();
      for (let k = 0; k < 1 + r.int(4); k++) b[r.int(b.length)] = r.int(256);
      const junk = new Uint8Array(r.int(64)).map(() => r.int(256));
      for (const bytes of [b, junk]) {
        try {
          decode(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(DecodeError);
        }
      }
    }
  });
});
