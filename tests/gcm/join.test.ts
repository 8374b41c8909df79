/**
 * Members that find each other (issue 15, item 1), in the simulator: members that know one address
 * of one member — or only an address, without the ID — form one ring, because every member's own
 * addresses travel with the join (hand-shakes, 911s, notes on the token); an address change reaches
 * the others; addresses the application configured are not replaced; the Transport Manager finds the
 * node behind an address.
 */
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../base/clock.ts";
import { Random } from "../../base/random.ts";
import { createNode, type GcmNode } from "../../gcm/mod.ts";
import { SimNetwork } from "../../transport/backends/memory.ts";
import { TransportManager } from "../../transport/manager.ts";
import type { PacketHandler, PacketTransport } from "../../transport/packet_transport.ts";
import { runUntil } from "../transport/_helpers.ts";

const ids = (n: number) => Array.from({ length: n }, (_, i) => `n${i}`);
const mem = (id: string) => `mem://${id}`;

function network(seed: number) {
  const clock = new VirtualClock();
  const net = new SimNetwork({ clock, random: new Random(seed), link: { delayMs: { min: 1, max: 3 } } });
  return { clock, net };
}

/** Whether every node is in agreement on one view of exactly `nodes`. */
const oneView = (nodes: readonly GcmNode[]) => () =>
  nodes.every((n) => n.gcm.agreed && n.gcm.view.members.length === nodes.length);

describe("joining through one address", () => {
  it("members that know only the first member's address form one ring and learn every address", async () => {
    const { clock, net } = network(21);
    const all = ids(6);
    const nodes = all.map((id, i) =>
      createNode({
        id,
        transports: [net.createTransport(mem(id))],
        peers: i === 0 ? {} : { n0: [mem("n0")] },
        clock,
        incarnation: i + 1,
      })
    );
    expect(await runUntil(clock, oneView(nodes), 10_000)).toBe(true);
    // Each knows every other member's address although nobody told it: they came with the join.
    for (const n of nodes) {
      for (const other of all) {
        if (other !== n.id) expect(n.transport.addressesOf(other)).toEqual([mem(other)]);
      }
    }
    const got: string[] = [];
    nodes[5].gcm.on("deliver", (d) => got.push(d.from));
    for (const n of nodes) n.gcm.multicast(new Uint8Array([1]));
    expect(await runUntil(clock, () => got.length === 6, 5_000)).toBe(true);
  });

  it("with `join` the IDs need not be known: the node behind the address is found, then asked", async () => {
    const { clock, net } = network(22);
    const nodes = ids(5).map((id, i) =>
      createNode({
        id,
        transports: [net.createTransport(mem(id))],
        join: i === 0 ? [] : [mem("n0")],
        clock,
        incarnation: i + 1,
      })
    );
    expect(await runUntil(clock, oneView(nodes), 10_000)).toBe(true);
    // A member that joins later through any member's address, not the first one's.
    const late = createNode({
      id: "late",
      transports: [net.createTransport(mem("late"))],
      join: [mem("n3")],
      clock,
      incarnation: 9,
    });
    const six = [...nodes, late];
    expect(await runUntil(clock, oneView(six), 10_000)).toBe(true);
    expect(late.transport.addressesOf("n1")).toEqual([mem("n1")]);
  });

  it("a member whose addresses change tells the ring; the others use the new one", async () => {
    const { clock, net } = network(23);
    const movable = new MovableTransport(
      net.createTransport(mem("m-home")),
      net.createTransport(mem("m-away")),
    );
    const nodes = [
      createNode({ id: "a", transports: [net.createTransport(mem("a"))], clock, incarnation: 1 }),
      createNode({
        id: "b",
        transports: [net.createTransport(mem("b"))],
        join: [mem("a")],
        clock,
        incarnation: 2,
      }),
      createNode({ id: "m", transports: [movable], join: [mem("a")], clock, incarnation: 3 }),
    ];
    expect(await runUntil(clock, oneView(nodes), 10_000)).toBe(true);
    expect(nodes[1].transport.addressesOf("m")).toEqual([mem("m-home")]);
    movable.move();
    net.crash(mem("m-home"));
    const moved = () => nodes.slice(0, 2).every((n) => n.transport.addressesOf("m")[0] === mem("m-away"));
    expect(await runUntil(clock, moved, 5_000)).toBe(true);
    // It is a member again (or still) once the others use its new address.
    expect(await runUntil(clock, oneView(nodes), 10_000)).toBe(true);
  });

  it("addresses the application set for a node win over those the node declares", async () => {
    const { clock, net } = network(24);
    const a = createNode({ id: "a", transports: [net.createTransport(mem("a"))], clock, incarnation: 1 });
    const b = createNode({
      id: "b",
      transports: [net.createTransport(mem("b"))],
      peers: { a: [mem("a")] },
      clock,
      incarnation: 2,
    });
    b.transport.declareAddresses("a", ["mem://elsewhere"]);
    expect(b.transport.addressesOf("a")).toEqual([mem("a")]);
    expect(await runUntil(clock, oneView([a, b]), 5_000)).toBe(true);
    expect(b.transport.addressesOf("a")).toEqual([mem("a")]);
    // a was never configured with b's address: it uses the one b declared.
    expect(a.transport.addressesOf("b")).toEqual([mem("b")]);
  });
});

describe("TransportManager.discover", () => {
  it("finds the node behind an address, says undefined where nobody answers, and never answers itself", async () => {
    const { clock, net } = network(25);
    const a = new TransportManager({ nodeId: "a", transports: [net.createTransport(mem("a"))], clock });
    const b = new TransportManager({ nodeId: "b", transports: [net.createTransport(mem("b"))], clock });
    const found: Array<string | undefined> = [];
    a.discover(mem("b"), (id) => found.push(id));
    a.discover(mem("nobody"), (id) => found.push(id));
    a.discover(mem("a"), (id) => found.push(id));
    expect(await runUntil(clock, () => found.length === 3, 20_000)).toBe(true);
    expect(found).toEqual(["b", undefined, undefined]);
    // b's address and incarnation are known now: a message goes straight through.
    expect(a.addressesOf("b")).toEqual([mem("b")]);
    let got = 0;
    let acked = false;
    b.onMessage(1, () => got++);
    void a.send("b", 1, new Uint8Array([7])).then(() => (acked = true));
    expect(await runUntil(clock, () => got === 1 && acked, 2_000)).toBe(true);
    await Promise.all([a.close(), b.close()]);
  });
});

/** A backend over two memory endpoints that declares one of them, and can move to the other. */
class MovableTransport implements PacketTransport {
  readonly kind = "memory";
  readonly mtu: number;
  #away = false;
  #onChange: (() => void) | undefined;

  constructor(readonly home: PacketTransport, readonly away: PacketTransport) {
    this.mtu = Math.min(home.mtu, away.mtu);
  }

  get addresses(): readonly string[] {
    return this.#away ? this.away.addresses : this.home.addresses;
  }

  /** Declares the other endpoint from now on. */
  move(): void {
    this.#away = true;
    this.#onChange?.();
  }

  onAddressChange(fn: () => void): void {
    this.#onChange = fn;
  }

  send(to: string, packet: Uint8Array): void {
    (this.#away ? this.away : this.home).send(to, packet);
  }

  onPacket(fn: PacketHandler): void {
    this.home.onPacket(fn);
    this.away.onPacket(fn);
  }

  async close(): Promise<void> {
    await Promise.all([this.home.close(), this.away.close()]);
  }
}
