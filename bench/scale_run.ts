/**
 * A large ring in the simulator: N members built with `createNode` (default timing unless told
 * otherwise) on one SimNetwork with 1–3 ms hops under a VirtualClock, put through the events whose
 * cost grows with N — boot, an idle round, a crash, a restart that rejoins — and measured in virtual
 * time, network bytes and GCM messages. The scaling benchmark (bench/scale.ts) prints these; a test
 * checks that the ring converges at all.
 * @module
 */
import { VirtualClock } from "../base/clock.ts";
import { Random } from "../base/random.ts";
import { createNode, type GcmNode } from "../gcm/create_node.ts";
import type { TimingOptions } from "../gcm/timing.ts";
import { SimNetwork } from "../transport/backends/memory.ts";

/** What to run. */
export interface ScaleOptions {
  /** Members. */
  size: number;
  /** Seed of the network's randomness. @default {1} */
  seed?: number;
  /** One-way delay of every hop, ms. @default {{ min: 1, max: 3 }} */
  hopMs?: { min: number; max: number };
  /**
   * Whom each member is told about at start: `"all"` every other member's address, `"first"` only the
   * first member's (the others are learned through the ring). @default {"all"}
   */
  contacts?: "all" | "first";
  /** Timing of every member. @default {{} (the defaults)} */
  timing?: TimingOptions;
  /** Longest virtual time each phase may take before it counts as not converged, ms. @default {60_000} */
  limitMs?: number;
  /** Progress lines. @default {nothing} */
  log?: (line: string) => void;
}

/** The cost of one event. */
export interface EventCost {
  /** Virtual time until every live member committed the view that ends the event, ms (-1: never). */
  ms: number;
  /** Bytes on the network (every packet, acknowledgements included) during the event. */
  bytes: number;
  /** 911 messages (regeneration requests, hand-shakes) sent during the event. */
  messages911: number;
  /** Tokens passed during the event. */
  tokens: number;
}

/** What one run measured. */
export interface ScaleResult {
  /** Members. */
  size: number;
  /** All members start → one view of all. */
  boot: EventCost;
  /** Mean time between two token arrivals at the first member while idle, ms. */
  idleRoundMs: number;
  /** A member (not the first) crashes → the others commit the view without it. */
  failover: EventCost;
  /** It restarts (a new incarnation) → everyone commits the view with it. */
  join: EventCost;
}

/** Runs boot, an idle round, a crash and a rejoin on a ring of `size` members. */
export function runScale(o: ScaleOptions): ScaleResult {
  const clock = new VirtualClock();
  const net = new SimNetwork({
    clock,
    random: new Random(o.seed ?? 1),
    link: { delayMs: o.hopMs ?? { min: 1, max: 3 } },
    mtu: 65_000,
  });
  let bytes = 0;
  net.onEvent((e) => {
    if (e.type === "send") bytes += e.size;
  });
  const ids = Array.from({ length: o.size }, (_, i) => `n${String(i).padStart(3, "0")}`);
  const addressOf = (id: string) => `mem://${id}`;
  const limit = o.limitMs ?? 60_000;
  const log = o.log ?? (() => {});
  const live = new Map<string, GcmNode>();
  const retired: GcmNode[] = [];
  const start = (id: string, incarnation: number): void => {
    const known = o.contacts === "first" ? (id === ids[0] ? [] : [ids[0]]) : ids.filter((p) => p !== id);
    live.set(
      id,
      createNode({
        id,
        transports: [net.createTransport(addressOf(id))],
        peers: Object.fromEntries(known.map((p) => [p, [addressOf(p)]])),
        clock,
        incarnation,
        timing: o.timing,
      }),
    );
  };
  const counted = () => {
    let m911 = 0;
    let tokens = 0;
    for (const n of [...live.values(), ...retired]) {
      const m = n.gcm.metrics();
      m911 += m.messages911.sent;
      tokens += m.token.sent;
    }
    return { bytes, m911, tokens };
  };
  const converged = () => {
    const want = [...live.values()].map((n) => `${n.id}#${n.gcm.incarnation}`).sort().join(",");
    for (const n of live.values()) {
      if (!n.gcm.agreed) return false;
      if (n.gcm.view.detail.map((m) => `${m.id}#${m.inc}`).sort().join(",") !== want) return false;
    }
    return true;
  };
  const measure = (what: string, begin: () => void): EventCost => {
    const before = counted();
    const t0 = clock.now();
    begin();
    const ok = clock.runUntil(converged, limit);
    const after = counted();
    const cost = {
      ms: ok ? clock.now() - t0 : -1,
      bytes: after.bytes - before.bytes,
      messages911: after.m911 - before.m911,
      tokens: after.tokens - before.tokens,
    };
    log(`${o.size} members, ${what}: ${ok ? `${cost.ms} ms` : "not converged"}, ${cost.bytes} bytes`);
    return cost;
  };

  const boot = measure("boot", () => ids.forEach((id, i) => start(id, i + 1)));
  // An idle ring: no traffic; count the token's arrivals at the first member.
  const first = live.get(ids[0])!;
  let arrivals = 0;
  const off = first.gcm.on("token", () => arrivals++);
  const idleFrom = clock.now();
  clock.runUntil(() => arrivals >= 6, limit);
  off();
  const idleRoundMs = arrivals > 1 ? (clock.now() - idleFrom) / arrivals : -1;
  const victim = ids[Math.floor(o.size / 2)];
  const failover = measure("fail-over", () => {
    const node = live.get(victim)!;
    live.delete(victim);
    retired.push(node);
    node.gcm.close();
    net.crash(addressOf(victim));
  });
  const join = measure("rejoin", () => start(victim, o.size + 1));
  for (const n of live.values()) {
    n.gcm.close();
    void n.transport.close();
  }
  return { size: o.size, boot, idleRoundMs, failover, join };
}
