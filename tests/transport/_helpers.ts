/** Shared helpers of the transport tests: a simulated cluster of Transport Managers. */
import { VirtualClock } from "../../base/clock.ts";
import { TransportManager, type TransportManagerOptions } from "../../transport/manager.ts";
import { type LinkOptions, SimNetwork } from "../../transport/backends/memory.ts";
import { Random } from "../../base/random.ts";
import { decodePacket, encodeNodeId, encodeProbeReply, TYPE_PROBE } from "../../transport/codec.ts";
import type { PacketTransport } from "../../transport/packet_transport.ts";

/** Outcome of a tracked send. */
export type Outcome = { state: "pending" } | { state: "resolved"; at: number } | {
  state: "rejected";
  error: unknown;
  at: number;
};

/** A send whose settlement the test can inspect synchronously. */
export function track(clock: VirtualClock, promise: Promise<void>): Outcome & { readonly settled: boolean } {
  const o = {
    state: "pending",
    get settled() {
      return o.state !== "pending";
    },
  } as Outcome & { settled: boolean; at?: number; error?: unknown };
  promise.then(
    () => {
      if (o.state !== "pending") throw new Error("settled twice");
      Object.assign(o, { state: "resolved", at: clock.now() });
    },
    (error: unknown) => {
      if (o.state !== "pending") throw new Error("settled twice");
      Object.assign(o, { state: "rejected", error, at: clock.now() });
    },
  );
  return o;
}

/**
 * Runs the virtual clock, letting promise callbacks run between timer steps (they are
 * microtasks), until `done()` or `limitMs` of virtual time passed. Returns whether `done()` held.
 */
export async function runUntil(clock: VirtualClock, done: () => boolean, limitMs: number): Promise<boolean> {
  const end = clock.now() + limitMs;
  for (;;) {
    await flushMicrotasks();
    if (done()) return true;
    const at = clock.nextTimerAt();
    if (at === undefined || at > end) {
      clock.advance(Math.max(0, end - clock.now()));
      await flushMicrotasks();
      return done();
    }
    // Fire everything due at this instant, then let promise reactions run.
    while (clock.nextTimerAt() === at) clock.step();
  }
}

/** Lets pending promise reactions run. */
export async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 4; i++) await Promise.resolve();
}

/** A network plus helpers to start managers on it. */
export function simCluster(seed: number, link: Partial<LinkOptions> = {}, mtu?: number) {
  const clock = new VirtualClock();
  const random = new Random(seed);
  const net = new SimNetwork({ clock, random: random.fork(), link, mtu });
  let nextInc = 1000;
  const start = (
    nodeId: string,
    addresses: string[] = [`mem://${nodeId}`],
    opts: Partial<TransportManagerOptions> = {},
  ) =>
    new TransportManager({
      nodeId,
      transports: addresses.map((a) => net.createTransport(a)),
      clock,
      incarnation: nextInc++,
      ...opts,
    });
  return { clock, net, random, start };
}

/** Deterministic pseudo-random bytes (xorshift32 from `salt`), so corruption or truncation shows. */
export { pattern } from "../../sim/tm/run.ts";

/** What a scripted peer says about itself when probed. */
export interface ScriptedIdentity {
  /** Its node ID. */
  id: string;
  /** Its incarnation. */
  inc: number;
  /** Its data session towards the prober. */
  epoch: number;
  /** Lowest sequence number of that session it still needs acknowledged. */
  baseSeq?: number;
}

/**
 * Makes a raw transport answer every PROBE as `who(probedId)` says, like a Transport Manager would:
 * the way for a test that writes packets by hand (or plays a forger) to have its sessions confirmed.
 * Replaces the transport's packet handler. Returns the count of probes answered so far (a function).
 */
export function answerProbes(
  raw: PacketTransport,
  who: (probedId: string) => ScriptedIdentity,
): () => number {
  let answered = 0;
  raw.onPacket((from, bytes) => {
    let p;
    try {
      p = decodePacket(bytes, { maxMessageBytes: 2 ** 32 - 1 });
    } catch {
      return;
    }
    if (p.type !== TYPE_PROBE) return;
    const me = who(p.dstId);
    answered++;
    raw.send(
      from,
      encodeProbeReply(encodeNodeId(me.id), encodeNodeId(p.srcId), me.inc, p.srcInc, {
        nonce: p.nonce,
        epoch: me.epoch,
        baseSeq: me.baseSeq ?? 1,
        window: 256,
        otherInc: 0,
        refused: false,
      }),
    );
  });
  return () => answered;
}
