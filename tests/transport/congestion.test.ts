import { describe, expect, it } from "vitest";
import { CongestionWindow } from "../../transport/congestion.ts";
import { RtoEstimator } from "../../transport/rtt.ts";

describe("CongestionWindow", () => {
  it("starts at the initial window, clamped to 1..max", () => {
    expect(new CongestionWindow(10, 256).packets).toBe(10);
    expect(new CongestionWindow(10, 4).packets).toBe(4);
    expect(new CongestionWindow(0, 4).packets).toBe(1);
  });

  it("doubles every window acknowledged in slow start, and never grows above the cap", () => {
    const cw = new CongestionWindow(10, 256);
    const sizes: number[] = [];
    for (let round = 0; round < 6; round++) {
      cw.onAcked(cw.packets); // a whole window acknowledged: one round trip without loss
      sizes.push(cw.packets);
    }
    expect(sizes).toEqual([20, 40, 80, 160, 256, 256]);
  });

  it("halves on a loss episode, once for all losses of the episode", () => {
    const cw = new CongestionWindow(200, 256);
    cw.onLoss(50, 300); // packets up to 300 were sent when the loss was found
    expect(cw.packets).toBe(100);
    expect(cw.ssthresh).toBe(100);
    cw.onLoss(120, 310); // sent before the episode began: the same congestion
    cw.onLoss(300, 320);
    expect(cw.packets).toBe(100);
    cw.onLoss(301, 400); // sent after it: a new episode
    expect(cw.packets).toBe(50);
  });

  it("grows by about one packet per window acknowledged above the threshold (additive increase)", () => {
    const cw = new CongestionWindow(200, 256);
    cw.onLoss(1, 200);
    expect(cw.packets).toBe(100);
    for (let round = 0; round < 10; round++) {
      const window = cw.packets;
      for (let i = 0; i < window; i++) cw.onAcked(1);
    }
    expect(cw.packets).toBeGreaterThanOrEqual(109);
    expect(cw.packets).toBeLessThanOrEqual(110);
  });

  it("never halves below two packets", () => {
    const cw = new CongestionWindow(3, 256);
    for (let seq = 1; seq < 10; seq++) cw.onLoss(seq * 10, seq * 10);
    expect(cw.packets).toBe(2);
  });

  it("drops to one packet on a timeout and slow-starts to half the window it had", () => {
    const cw = new CongestionWindow(128, 256);
    cw.onTimeout(500);
    expect(cw.packets).toBe(1);
    expect(cw.ssthresh).toBe(64);
    cw.onTimeout(500); // back-off: the threshold of the first timeout stays
    expect(cw.ssthresh).toBe(64);
    for (let i = 0; i < 63; i++) cw.onAcked(1);
    expect(cw.packets).toBe(64);
    cw.onAcked(64);
    expect(cw.packets).toBe(65); // above the threshold: additive
    cw.onLoss(400, 600); // sent before the timeout: already answered
    expect(cw.packets).toBe(65);
  });

  it("undoes a spurious timeout, but not one that was settled", () => {
    const cw = new CongestionWindow(128, 256);
    cw.onTimeout(500);
    cw.undoTimeout();
    expect(cw.packets).toBe(128);
    expect(cw.ssthresh).toBe(256);
    cw.onLoss(400, 600); // the episode of before the timeout is back: this is a new loss
    expect(cw.packets).toBe(64);
    cw.onTimeout(700);
    cw.settleTimeout();
    cw.undoTimeout();
    expect(cw.packets).toBe(1);
  });

  it("forgets the episode when the numbering restarts", () => {
    const cw = new CongestionWindow(128, 256);
    cw.onLoss(10, 500);
    cw.restartNumbering();
    cw.onLoss(5, 20);
    expect(cw.packets).toBe(32);
  });
});

describe("RtoEstimator.queueing", () => {
  const opts = { initialMs: 200, minMs: 1, maxMs: 1000 };

  it("is false before any path sample and on a path at its fastest round trip", () => {
    const rto = new RtoEstimator(opts);
    expect(rto.queueing).toBe(false);
    for (let i = 0; i < 50; i++) {
      rto.sample(10);
      rto.samplePath(10);
    }
    expect(rto.queueing).toBe(false);
  });

  it("turns true when round trips stay well above the fastest (a queue filled) and false when it drains", () => {
    const rto = new RtoEstimator(opts);
    const feed = (r: number) => {
      rto.sample(r);
      rto.samplePath(r);
    };
    for (let i = 0; i < 20; i++) feed(10);
    for (let r = 10; r <= 17; r += 0.25) feed(r);
    for (let i = 0; i < 20; i++) feed(17);
    expect(rto.queueing).toBe(true);
    for (let i = 0; i < 40; i++) feed(10);
    expect(rto.queueing).toBe(false);
  });

  it("takes jitter for what it is: round trips spread around their mean are no queue", () => {
    const rto = new RtoEstimator(opts);
    // Triangular between 2 and 10 ms (two one-way delays uniform in 1..5 ms), cycled.
    const jitter = [2, 6, 10, 4, 8, 6, 3, 9, 5, 7];
    for (let i = 0; i < 200; i++) {
      const r = jitter[i % jitter.length];
      rto.sample(r);
      rto.samplePath(r);
    }
    expect(rto.queueing).toBe(false);
  });
});
