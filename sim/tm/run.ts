/**
 * The Transport Manager under seeded fault schedules: loss up to 30 %, duplication, reordering,
 * delay spikes, link cuts, partitions, and receivers that crash and restart (a new manager with a
 * greater incarnation on a new transport at the same address). For every send:
 * - it settles (resolves or rejects) — never neither, never both;
 * - resolved ⇒ the destination handed the message up exactly once, intact, on the right channel,
 *   from the right sender;
 * - rejected ⇒ handed up at most once;
 * - nothing is handed up that was not sent, or to the wrong node.
 * `raincore sim --layer tm`.
 * @module
 */
import { VirtualClock } from "../../base/clock.ts";
import { Random } from "../../base/random.ts";
import { SimNetwork } from "../../transport/backends/memory.ts";
import { TransportManager } from "../../transport/manager.ts";
import type { SeedOutcome } from "../outcome.ts";

interface Sent {
  no: number;
  from: string;
  to: string;
  channel: number;
  body: Uint8Array;
  state: "unsent" | "pending" | "resolved" | "rejected";
  error?: unknown;
  deliveries: number;
}

/** Outcome of one Transport Manager run. */
export interface TmRunResult extends SeedOutcome {
  resolved: number;
  rejected: number;
  sends: number;
  /** Sends to a joiner (address never configured) that resolved: the address was learned. */
  toJoinerResolved: number;
}

/** Runs one seeded schedule and checks every send; with `verbose`, the trace is printed as it happens. */
export async function runTmSeed(seed: number, opts: { verbose?: boolean } = {}): Promise<TmRunResult> {
  const verbose = opts.verbose ?? false;
  const rng = new Random(seed);
  const clock = new VirtualClock();
  const lossy = rng.chance(0.8);
  const link = {
    loss: lossy ? rng.next() * 0.3 : 0,
    duplicate: rng.chance(0.5) ? rng.next() * 0.2 : 0,
    reorder: rng.chance(0.5) ? rng.next() * 0.3 : 0,
    delayMs: { min: rng.int(5), max: 0 },
    spikeChance: rng.chance(0.4) ? rng.next() * 0.1 : 0,
    // Long spikes bring packets of an old incarnation or session back after the new one started.
    spikeMs: 50 + rng.int(rng.chance(0.5) ? 450 : 4000),
  };
  link.delayMs.max = link.delayMs.min + rng.int(30);
  const net = new SimNetwork({
    clock,
    random: rng.fork(),
    link,
    mtu: rng.chance(0.5) ? 1400 : 200 + rng.int(600),
  });
  const log: string[] = [];
  const note = (s: string) => {
    const line = `t=${clock.now().toFixed(2)} ${s}`;
    log.push(line);
    if (verbose) console.log(line);
  };
  note(`link ${JSON.stringify(link)}`);

  // A fault-free schedule (only loss, duplication, reordering and delay) with generous retries
  // must deliver everything: that catches liveness bugs such as a stalled window or reassembly.
  const faultCount = rng.chance(0.25) ? 0 : 1 + rng.int(5);
  const nodeCount = 2 + rng.int(3);
  const ids = Array.from({ length: nodeCount }, (_, i) => String.fromCharCode(97 + i));
  const addrs = new Map(
    ids.map((id) => [id, rng.chance(0.3) ? [`mem://${id}1`, `mem://${id}2`] : [`mem://${id}`]]),
  );
  const tmOpts = {
    addressMode: rng.chance(0.5) ? ("parallel" as const) : ("sequence" as const),
    windowPackets: rng.chance(0.5) ? 1 + rng.int(16) : 256,
    maxReassembliesPerPeer: rng.chance(0.5) ? 1 + rng.int(3) : 64,
    retries: faultCount === 0 ? 30 : 3 + rng.int(4),
    rtoInitialMs: 50 + rng.int(200),
    rtoMinMs: 10,
    rtoMaxMs: 1000,
  };
  // Sometimes node "a" is a joiner whose address nobody was told: the others must learn it from
  // its packets; sends to it before that reject with UnknownNodeError.
  const joiner = rng.chance(0.2) ? "a" : undefined;
  note(`nodes ${ids.join(",")} joiner ${joiner ?? "-"} opts ${JSON.stringify(tmOpts)}`);

  const sent: Sent[] = [];
  const failures: string[] = [];
  const live = new Map<string, TransportManager>();
  let nextInc = 1;

  const startNode = (id: string) => {
    const tm = new TransportManager({
      nodeId: id,
      transports: addrs.get(id)!.map((a) => net.createTransport(a)),
      clock,
      incarnation: nextInc++,
      ...tmOpts,
    });
    for (const other of ids) if (other !== id && other !== joiner) tm.setAddresses(other, addrs.get(other)!);
    for (let channel = 0; channel < 3; channel++) {
      tm.onMessage(channel, (from, message) => {
        const no = message.length >= 4 ? new DataView(message.buffer, message.byteOffset).getUint32(0) : -1;
        const s = sent[no];
        if (s === undefined) {
          return void failures.push(`${id} got an invented message (${message.length} bytes)`);
        }
        s.deliveries++;
        note(`deliver #${no} at ${id}/${tm.incarnation}`);
        if (s.to !== id || s.from !== from || s.channel !== channel) {
          failures.push(
            `#${no} delivered at ${id} from ${from} ch ${channel}, sent ${s.from}>${s.to} ch ${s.channel}`,
          );
        }
        if (message.length !== s.body.length + 4 || !equal(message.subarray(4), s.body)) {
          failures.push(`#${no} corrupted: ${message.length - 4} bytes, sent ${s.body.length}`);
        }
      });
    }
    live.set(id, tm);
    note(`start ${id} inc ${tm.incarnation}`);
  };
  ids.forEach(startNode);

  // Messages.
  const messageCount = 10 + rng.int(50);
  const horizon = 3000;
  // Half the messages leave in bursts, so that windows fill and fragments of messages overtake.
  const bursts = Array.from({ length: 1 + rng.int(4) }, () => rng.int(horizon));
  for (let no = 0; no < messageCount; no++) {
    const from = rng.pick(ids);
    const to = rng.pick(ids.filter((x) => x !== from));
    const r = rng.next();
    const size = r < 0.6 ? rng.int(100) : r < 0.95 ? rng.int(5000) : rng.int(60_000);
    const s: Sent = {
      no,
      from,
      to,
      channel: rng.int(3),
      body: pattern(size, seed * 1000 + no),
      state: "unsent",
      deliveries: 0,
    };
    sent.push(s);
    clock.setTimer(rng.chance(0.5) ? rng.pick(bursts) : rng.int(horizon), () => {
      const tm = live.get(from);
      if (tm === undefined) return; // the sender is down: nothing sent
      const message = new Uint8Array(4 + size);
      new DataView(message.buffer).setUint32(0, no);
      message.set(s.body, 4);
      s.state = "pending";
      note(`send #${no} ${from}>${to} ch ${s.channel} ${size}B`);
      tm.send(to, s.channel, message).then(
        () => {
          if (s.state !== "pending") failures.push(`#${no} settled twice`);
          s.state = "resolved";
        },
        (error: unknown) => {
          if (s.state !== "pending") failures.push(`#${no} settled twice`);
          s.state = "rejected";
          s.error = error;
        },
      );
    });
  }

  // Faults.
  for (let f = 0; f < faultCount; f++) {
    const at = rng.int(horizon);
    const kind = rng.int(4); // 0 cut, 1 partition, 2-3 crash and restart
    const duration = 50 + rng.int(3000);
    if (kind === 0) {
      const a = rng.pick(ids);
      const b = rng.pick(ids.filter((x) => x !== a));
      const oneWay = rng.chance(0.5);
      const pairs = addrs.get(a)!.flatMap((x) => (rng.chance(0.7) ? addrs.get(b)!.map((y) => [x, y]) : []));
      clock.setTimer(at, () => {
        note(`cut ${a}-${b}${oneWay ? " one-way" : ""} for ${duration}`);
        for (const [x, y] of pairs) net.cut(x, y, { oneWay });
      });
      clock.setTimer(at + duration, () => pairs.forEach(([x, y]) => net.heal(x, y)));
    } else if (kind === 1) {
      const side = ids.filter(() => rng.chance(0.5));
      const rest = ids.filter((x) => !side.includes(x));
      const groups = [side, rest].map((g) => g.flatMap((id) => addrs.get(id)!));
      clock.setTimer(at, () => {
        note(`partition ${side.join("")} | ${rest.join("")} for ${duration}`);
        net.partition(groups);
      });
      clock.setTimer(at + duration, () => net.healAll());
    } else {
      const id = rng.pick(ids);
      const down = rng.int(1500);
      clock.setTimer(at, () => {
        const tm = live.get(id);
        if (tm === undefined) return;
        note(`crash ${id} for ${down}`);
        for (const a of addrs.get(id)!) net.crash(a);
        live.delete(id);
        void tm.close();
        clock.setTimer(down, () => startNode(id));
      });
    }
  }

  clock.setTimer(horizon + 3000, () => net.healAll());
  // No periodic timers exist: the run ends when every send settled and every timer fired.
  clock.runUntil(() => false, 600_000);
  await flushMicrotasks();
  await flushMicrotasks();
  if (clock.pendingTimers > 0) failures.push(`still ${clock.pendingTimers} timers after 600 s`);

  let resolved = 0;
  let rejected = 0;
  let toJoinerResolved = 0;
  for (const s of sent) {
    if (s.state === "unsent") {
      if (s.deliveries > 0) failures.push(`#${s.no} delivered but never sent`);
      continue;
    }
    if (s.state === "pending") failures.push(`#${s.no} ${s.from}>${s.to} never settled`);
    if (s.state === "resolved") {
      resolved++;
      if (s.to === joiner) toJoinerResolved++;
      if (s.deliveries !== 1) {
        failures.push(`#${s.no} ${s.from}>${s.to} resolved but delivered ${s.deliveries} times`);
      }
    }
    if (s.state === "rejected") {
      rejected++;
      if (s.deliveries > 1) {
        failures.push(`#${s.no} ${s.from}>${s.to} rejected and delivered ${s.deliveries} times`);
      }
      const name = (s.error as Error).name;
      const expected = name === "DeliveryFailedError" || name === "ClosedError" ||
        (name === "UnknownNodeError" && s.to === joiner);
      if (!expected) failures.push(`#${s.no} rejected with ${String(s.error)}`);
    }
  }
  if (faultCount === 0) {
    for (const s of sent) {
      if (s.state === "rejected" && (s.error as Error).name !== "UnknownNodeError") {
        failures.push(`#${s.no} ${s.from}>${s.to} rejected without any fault: ${String(s.error)}`);
      }
    }
  }
  for (const tm of live.values()) await tm.close();
  return {
    seed,
    ok: failures.length === 0,
    violations: failures,
    summary: `${nodeCount} nodes, ${faultCount} faults, ${resolved + rejected} sends`,
    events: log,
    stats: { sends: resolved + rejected, resolved, toJoinerResolved },
    resolved,
    rejected,
    sends: resolved + rejected,
    toJoinerResolved,
  };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A deterministic byte pattern of `length` bytes (xorshift from `salt`). */
export function pattern(length: number, salt: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (salt * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

// The Transport Manager settles sends as promises: let their reactions run.
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 4; i++) await Promise.resolve();
}
