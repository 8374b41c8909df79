/**
 * Members that sleep (issue 15, item 3), in the simulator: a member whose timers are throttled
 * (`setBackground`) never holds the token idle; `suspend()` leaves and `resume()` rejoins as a new
 * incarnation; a member whose process was paused (its timers and packets held back, then all at
 * once) is removed meanwhile and, seeing its timers fire far too late, starts over and rejoins.
 */
import { describe, expect, it } from "vitest";
import { type Clock, type TimerId, VirtualClock } from "../../base/clock.ts";
import { Random } from "../../base/random.ts";
import { createNode, type GcmNode, type LeaveEvent } from "../../gcm/mod.ts";
import { SimNetwork } from "../../transport/backends/memory.ts";
import type { PacketHandler, PacketTransport } from "../../transport/packet_transport.ts";
import { runUntil } from "../transport/_helpers.ts";

const mem = (id: string) => `mem://${id}`;

/** Members `ids` joining through the first one's address; `sleeper`, if given, runs member `ids[2]`. */
function cluster(seed: number, ids: readonly string[], sleeper?: Sleeper) {
  const clock = new VirtualClock();
  const net = new SimNetwork({ clock, random: new Random(seed), link: { delayMs: { min: 1, max: 3 } } });
  const nodes = ids.map((id, i) => {
    const sleeps = sleeper !== undefined && i === 2;
    const transport = net.createTransport(mem(id));
    return createNode({
      id,
      transports: [sleeps ? sleeper.wrap(transport) : transport],
      join: i === 0 ? [] : [mem(ids[0])],
      clock: sleeps ? sleeper.clock(clock) : clock,
      incarnation: i + 1,
    });
  });
  return { clock, net, nodes };
}

const oneView = (nodes: readonly GcmNode[], n = nodes.length) => () =>
  nodes.every((x) => x.gcm.agreed && x.gcm.view.members.length === n);

describe("members that sleep", () => {
  it("a member in the background passes the token on at once; the others keep their idle hold", async () => {
    const { clock, nodes } = cluster(31, ["a", "b", "c"]);
    expect(await runUntil(clock, oneView(nodes), 10_000)).toBe(true);
    nodes[1].gcm.setBackground(true);
    const views = nodes[0].gcm.metrics().view.installed;
    const before = nodes.map((n) => n.gcm.metrics().token);
    await runUntil(clock, () => false, 3_000);
    const after = nodes.map((n) => n.gcm.metrics().token);
    const meanHold = (i: number) => after[i].holdMsMean; // means over the whole run: compare b to a, c
    expect(after[1].received - before[1].received).toBeGreaterThan(10);
    expect(meanHold(1)).toBeLessThan(meanHold(0) / 2);
    expect(nodes[0].gcm.metrics().view.installed).toBe(views); // no view change
  });

  it("suspend() leaves gracefully; resume() rejoins as a new incarnation", async () => {
    const { clock, nodes } = cluster(32, ["a", "b", "c"]);
    expect(await runUntil(clock, oneView(nodes), 10_000)).toBe(true);
    const leaves: LeaveEvent[] = [];
    nodes[2].gcm.on("leave", (e) => leaves.push(e));
    const inc = nodes[2].gcm.incarnation;
    let suspended = false;
    void nodes[2].gcm.suspend().then(() => (suspended = true));
    expect(await runUntil(clock, () => suspended && oneView(nodes.slice(0, 2))(), 5_000)).toBe(true);
    expect(leaves).toEqual([{ graceful: true, reason: "suspended", rejoins: true }]);
    await runUntil(clock, () => false, 1_000);
    expect(nodes[2].gcm.core.left).toBe(true); // stays out until resume()
    nodes[2].gcm.resume();
    expect(await runUntil(clock, oneView(nodes), 10_000)).toBe(true);
    expect(nodes[2].gcm.incarnation).toBeGreaterThan(inc);
    expect(nodes[0].gcm.view.detail.find((m) => m.id === "c")?.inc).toBe(nodes[2].gcm.incarnation);
  });

  it("a paused member is removed, and once it runs again starts over and rejoins", async () => {
    const sleeper = new Sleeper();
    const { clock, nodes } = cluster(33, ["a", "b", "c"], sleeper);
    expect(await runUntil(clock, oneView(nodes), 10_000)).toBe(true);
    const c = nodes[2];
    const inc = c.gcm.incarnation;
    const leaves: LeaveEvent[] = [];
    c.gcm.on("leave", (e) => leaves.push(e));
    sleeper.sleep();
    // The others remove it (as after a crash: it answers nothing)...
    expect(await runUntil(clock, oneView(nodes.slice(0, 2), 2), 10_000)).toBe(true);
    await runUntil(clock, () => false, 8_000); // ...while it stays paused for 8 s or more
    sleeper.wake();
    // ...and when it runs again, its timers are seconds late: it starts over and rejoins.
    expect(await runUntil(clock, oneView(nodes), 10_000)).toBe(true);
    expect(leaves).toEqual([{ graceful: false, reason: "stalled", rejoins: true }]);
    expect(c.gcm.incarnation).toBeGreaterThan(inc);
  });
});

/**
 * A process that can be paused: while asleep its timers do not fire (they fire at once, late, when it
 * wakes, unless cleared), it sends nothing, and the packets that reach it wait in its socket.
 */
class Sleeper {
  #asleep = false;
  readonly #late: Array<{ fn: () => void; cleared: boolean }> = [];
  readonly #held: Array<() => void> = [];
  readonly #pending = new Map<TimerId, { fn: () => void; cleared: boolean }>();

  /** The process's clock over the shared one. */
  clock(inner: Clock): Clock {
    return {
      now: () => inner.now(),
      setTimer: (delayMs, fn) => {
        const entry = { fn, cleared: false };
        const id = inner.setTimer(delayMs, () => {
          this.#pending.delete(id);
          if (this.#asleep) this.#late.push(entry);
          else fn();
        });
        this.#pending.set(id, entry);
        return id;
      },
      clearTimer: (id) => {
        inner.clearTimer(id);
        const entry = this.#pending.get(id);
        if (entry !== undefined) entry.cleared = true;
        this.#pending.delete(id);
        for (const e of this.#late) if (e.fn === entry?.fn) e.cleared = true;
      },
    };
  }

  /** The process's transport over a real one. */
  wrap(t: PacketTransport): PacketTransport {
    return {
      kind: t.kind,
      mtu: t.mtu,
      get addresses() {
        return t.addresses;
      },
      send: (to, packet) => {
        if (!this.#asleep) t.send(to, packet);
      },
      onPacket: (fn: PacketHandler) =>
        t.onPacket((from, packet) => {
          if (!this.#asleep) fn(from, packet);
          else {
            const copy = packet.slice();
            this.#held.push(() => fn(from, copy));
          }
        }),
      close: () => t.close(),
    };
  }

  /** Pauses the process. */
  sleep(): void {
    this.#asleep = true;
  }

  /** Runs it again: the overdue timers fire, then the packets that waited are read. */
  wake(): void {
    this.#asleep = false;
    for (const e of this.#late.splice(0)) if (!e.cleared) e.fn();
    for (const f of this.#held.splice(0)) f();
  }
}
