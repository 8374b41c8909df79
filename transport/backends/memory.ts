/**
 * The memory backend and the simulated network it lives on. A {@link SimNetwork} connects any
 * number of {@link MemoryTransport}s by address (`mem://a`, `mem://b`, …) and decides, from a seeded
 * {@link Random}, what happens to every packet: lost, delayed, duplicated, reordered, held up by a
 * delay spike, or blocked by a cut link or a partition. A link may also be a bottleneck: limited
 * bandwidth behind a bounded queue that drops what overflows it (drop-tail), as a router does. Every delivery is a `clock.setTimer`
 * callback, so under a {@link VirtualClock} a whole run is a pure function of the seed and replays
 * exactly. With a {@link SystemClock} (the default) the same network is an ordinary in-process
 * backend, e.g. for the transport compliance suite.
 *
 * ```ts
 * const clock = new VirtualClock();
 * const net = new SimNetwork({ clock, random: new Random(42), link: { loss: 0.1 } });
 * const a = net.createTransport("mem://a");
 * const b = net.createTransport("mem://b");
 * b.onPacket((from, packet) => console.log(from, packet));
 * a.send("mem://b", new Uint8Array([1, 2, 3]));
 * clock.runUntil(() => false, 1000);
 * ```
 * @module
 */

import { type Clock, SystemClock } from "../../base/clock.ts";
import { ClosedError } from "../../base/errors.ts";
import type { PacketHandler, PacketTransport } from "../packet_transport.ts";
import { Random } from "../../base/random.ts";

/** How one direction of a link treats packets. Probabilities are in [0, 1]. */
export interface LinkOptions {
  /** Probability that a packet is lost. @default {0} */
  loss: number;
  /** Uniformly distributed one-way delay, in ms. @default {{ min: 0, max: 0 }} */
  delayMs: { min: number; max: number };
  /** Probability that a packet is delivered twice (each copy with its own delay). @default {0} */
  duplicate: number;
  /**
   * Probability that a packet gets an extra random delay of up to `2 × delayMs.max + 1` ms, so that
   * it overtakes or is overtaken by its neighbours. @default {0}
   */
  reorder: number;
  /** Probability of a delay spike (a long stall) on a packet. @default {0} */
  spikeChance?: number;
  /** Length of a delay spike, in ms. @default {200} */
  spikeMs?: number;
  /**
   * Bandwidth of the link in bytes per ms (1 byte/ms = 1 kB/s; 10,000 = 10 MB/s), or 0 for none
   * (every packet leaves at once). With a bandwidth the link sends one packet at a time, each taking
   * `size / bandwidth` ms, and packets waiting their turn queue up to `queuePackets`; a packet that
   * finds the queue full is dropped (reason `"queue"`). The delays above come on top. Decided by the
   * clock alone, not by the random source. @default {0}
   */
  bandwidth?: number;
  /**
   * Most packets queued on a link with a `bandwidth`, the one being sent included. @default {64}
   */
  queuePackets?: number;
}

/** Counters over the whole network since it was created. */
export interface SimNetworkStats {
  /** Packets handed to `send()` of a live transport. */
  sent: number;
  /** Packets handed to a receiver's packet handler (duplicates included). */
  delivered: number;
  /** Packets lost, dropped by a full bottleneck queue, blocked by a cut or partition, or without a live receiver on arrival. */
  dropped: number;
  /** Extra copies created by the `duplicate` probability. */
  duplicated: number;
}

/** What happened to a packet; see {@link SimNetwork.onEvent}. */
export interface SimNetworkEvent {
  /** `send`: accepted by the network; `deliver`: handed to the receiver; `drop`: gone. */
  type: "send" | "deliver" | "drop";
  /** Virtual (or real) time of the event, in ms. */
  at: number;
  /** Source address. */
  from: string;
  /** Destination address. */
  to: string;
  /** Packet length in bytes. */
  size: number;
  /** Why a packet was dropped: `"loss"`, `"queue"` (bottleneck full), `"blocked"`, `"no-receiver"`. */
  reason?: string;
}

/** Options of {@link SimNetwork}. */
export interface SimNetworkOptions {
  /** Time source; every delivery is a timer on it. @default {new SystemClock()} */
  clock?: Clock;
  /** Decides every loss, delay, duplicate and reorder. @default {new Random(1)} */
  random?: Random;
  /** Default settings of every link (each direction); see {@link SimNetwork.setLink}. */
  link?: Partial<LinkOptions>;
  /** Default packet size limit of the transports. @default {1400} */
  mtu?: number;
  /**
   * Whether {@link MemoryTransport.isUnreachable} reports addresses with no live transport or a
   * blocked link as unreachable (like a closed WebSocket would). Off by default because a datagram
   * network such as UDP does not tell. @default {false}
   */
  reportUnreachable?: boolean;
}

const DEFAULT_LINK: Readonly<Required<LinkOptions>> = {
  loss: 0,
  delayMs: { min: 0, max: 0 },
  duplicate: 0,
  reorder: 0,
  spikeChance: 0,
  spikeMs: 200,
  bandwidth: 0,
  queuePackets: 64,
};

function linkKey(from: string, to: string): string {
  return from + "\u0000" + to;
}

/**
 * A deterministic simulated packet network. Links are one-way: `setLink(a, b, …)` changes only
 * packets from `a` to `b`. A packet may pass when its link is not cut and the partition (if any)
 * puts both ends in one group; this is checked when it is sent and again when it arrives, so a cut
 * also catches packets in flight. Packets in flight to an address reach whichever transport lives
 * there on arrival — also a restarted one, exactly as UDP datagrams reach a new process on the same
 * port.
 */
export class SimNetwork {
  /** The clock every delivery is scheduled on. */
  readonly clock: Clock;
  /** The network's source of randomness. */
  readonly random: Random;
  /** Counters; see {@link SimNetworkStats}. */
  readonly stats: SimNetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
  readonly #mtu: number;
  readonly #reportUnreachable: boolean;
  #defaultLink: Required<LinkOptions>;
  readonly #links = new Map<string, Required<LinkOptions>>();
  /** Per bottleneck link: the times its queued packets finish leaving, in order. */
  readonly #queues = new Map<string, number[]>();
  readonly #cuts = new Set<string>();
  /** Group index per address while a partition is in force; `undefined` = fully connected. */
  #groups: Map<string, number> | undefined;
  readonly #live = new Map<string, MemoryTransport>();
  #listener: ((event: SimNetworkEvent) => void) | undefined;

  /** Creates an empty network. */
  constructor(opts: SimNetworkOptions = {}) {
    this.clock = opts.clock ?? new SystemClock();
    this.random = opts.random ?? new Random(1);
    this.#mtu = opts.mtu ?? 1400;
    if (!Number.isInteger(this.#mtu) || this.#mtu < 64) throw new RangeError("'mtu' must be an integer ≥ 64");
    this.#reportUnreachable = opts.reportUnreachable ?? false;
    this.#defaultLink = mergeLink(DEFAULT_LINK, opts.link ?? {});
  }

  /**
   * Creates the transport that lives at `address` (kind `"memory"`). An address holds one live
   * transport at a time: after {@link SimNetwork.crash} or `close()`, calling this again is a restart.
   * @throws {Error} when a live transport already holds the address.
   */
  createTransport(address: string, opts: { mtu?: number } = {}): MemoryTransport {
    if (this.#live.has(address)) throw new Error(`address "${address}" is already in use`);
    const mtu = opts.mtu ?? this.#mtu;
    if (!Number.isInteger(mtu) || mtu < 64) throw new RangeError("'mtu' must be an integer ≥ 64");
    const transport = new MemoryTransport(this, address, mtu);
    this.#live.set(address, transport);
    return transport;
  }

  /** Changes the default settings of all links that have no own settings. */
  setDefaultLink(opts: Partial<LinkOptions>): void {
    this.#defaultLink = mergeLink(this.#defaultLink, opts);
  }

  /** Changes the settings of the one-way link `from → to` (unset fields keep their current value). */
  setLink(from: string, to: string, opts: Partial<LinkOptions>): void {
    const key = linkKey(from, to);
    this.#links.set(key, mergeLink(this.#links.get(key) ?? this.#defaultLink, opts));
  }

  /** Cuts the link between `a` and `b` in both directions, or only `a → b` with `oneWay`. */
  cut(a: string, b: string, opts: { oneWay?: boolean } = {}): void {
    this.#cuts.add(linkKey(a, b));
    if (opts.oneWay !== true) this.#cuts.add(linkKey(b, a));
  }

  /** Restores the link between `a` and `b` in both directions. */
  heal(a: string, b: string): void {
    this.#cuts.delete(linkKey(a, b));
    this.#cuts.delete(linkKey(b, a));
  }

  /**
   * Splits the network: packets pass only between addresses of one group. An address listed in
   * no group is isolated from every other address (also from other unlisted ones) until
   * {@link SimNetwork.healAll}. Replaces any earlier partition; cuts stay in force.
   */
  partition(groups: string[][]): void {
    const map = new Map<string, number>();
    groups.forEach((group, i) => {
      for (const address of group) map.set(address, i);
    });
    this.#groups = map;
  }

  /** Removes the partition and every cut. Link settings stay. */
  healAll(): void {
    this.#groups = undefined;
    this.#cuts.clear();
  }

  /**
   * Kills the transport at `address` instantly: it neither sends nor receives any more, and its
   * handler is never called again. Packets it already sent stay in flight. Restart with
   * {@link SimNetwork.createTransport}. Unknown addresses are ignored.
   */
  crash(address: string): void {
    this.#live.get(address)?._shutdown();
  }

  /** Whether a live transport holds `address`. */
  isLive(address: string): boolean {
    return this.#live.has(address);
  }

  /** Whether a packet from `from` to `to` would pass cuts and the partition right now. */
  canPass(from: string, to: string): boolean {
    if (this.#cuts.has(linkKey(from, to))) return false;
    const groups = this.#groups;
    if (groups === undefined) return true;
    const g = groups.get(from);
    return g !== undefined && g === groups.get(to);
  }

  /** Registers a listener for every send, delivery and drop (one listener; a later call replaces it). */
  onEvent(fn: ((event: SimNetworkEvent) => void) | undefined): void {
    this.#listener = fn;
  }

  /** @internal Called by {@link MemoryTransport.send}. */
  _send(from: MemoryTransport, to: string, packet: Uint8Array): void {
    const source = from.address;
    this.stats.sent++;
    this.#emit("send", source, to, packet.length);
    if (!this.canPass(source, to)) return this.#drop(source, to, packet.length, "blocked");
    const key = linkKey(source, to);
    const link = this.#links.get(key) ?? this.#defaultLink;
    let queued = 0;
    if (link.bandwidth > 0) {
      queued = this.#enqueue(key, link, packet.length);
      if (queued < 0) return this.#drop(source, to, packet.length, "queue");
    }
    const random = this.random;
    if (random.chance(link.loss)) return this.#drop(source, to, packet.length, "loss");
    // Copy once: the sender may reuse its buffer as soon as send() returns.
    const copy = packet.slice();
    this.#schedule(source, to, copy, link, queued);
    if (random.chance(link.duplicate)) {
      this.stats.duplicated++;
      this.#schedule(source, to, copy.slice(), link, queued);
    }
  }

  /**
   * Puts a packet of `size` bytes into the bottleneck queue of link `key`: returns how long it
   * takes to leave (waiting plus its own transmission), in ms, or -1 when the queue is full.
   */
  #enqueue(key: string, link: Required<LinkOptions>, size: number): number {
    const now = this.clock.now();
    let queue = this.#queues.get(key);
    if (queue === undefined) this.#queues.set(key, queue = []);
    let gone = 0;
    while (gone < queue.length && queue[gone] <= now) gone++;
    if (gone > 0) queue.splice(0, gone);
    if (queue.length >= link.queuePackets) return -1;
    const leaves = Math.max(now, queue.length > 0 ? queue[queue.length - 1] : now) + size / link.bandwidth;
    queue.push(leaves);
    return leaves - now;
  }

  /** @internal Called by {@link MemoryTransport.isUnreachable}. */
  _unreachable(from: string, to: string): boolean {
    return this.#reportUnreachable && (!this.#live.has(to) || !this.canPass(from, to));
  }

  /** @internal Called when a transport closes or crashes. */
  _remove(transport: MemoryTransport): void {
    if (this.#live.get(transport.address) === transport) this.#live.delete(transport.address);
  }

  #schedule(from: string, to: string, packet: Uint8Array, link: Required<LinkOptions>, queued: number): void {
    const random = this.random;
    const { min, max } = link.delayMs;
    let delay = queued + min + (max > min ? random.next() * (max - min) : 0);
    if (random.chance(link.reorder)) delay += random.next() * (2 * max + 1);
    if (random.chance(link.spikeChance)) delay += link.spikeMs;
    this.clock.setTimer(delay, () => {
      if (!this.canPass(from, to)) return this.#drop(from, to, packet.length, "blocked");
      const receiver = this.#live.get(to);
      if (receiver === undefined) return this.#drop(from, to, packet.length, "no-receiver");
      this.stats.delivered++;
      this.#emit("deliver", from, to, packet.length);
      receiver._receive(from, packet);
    });
  }

  #drop(from: string, to: string, size: number, reason: string): void {
    this.stats.dropped++;
    this.#emit("drop", from, to, size, reason);
  }

  #emit(type: SimNetworkEvent["type"], from: string, to: string, size: number, reason?: string): void {
    const listener = this.#listener;
    if (listener === undefined) return;
    const event: SimNetworkEvent = { type, at: this.clock.now(), from, to, size };
    if (reason !== undefined) event.reason = reason;
    listener(event);
  }
}

/**
 * One endpoint on a {@link SimNetwork}; create it with {@link SimNetwork.createTransport}.
 * `send()` after `close()` or a crash is silently ignored (a dead process sends nothing).
 */
export class MemoryTransport implements PacketTransport {
  /** Always `"memory"`. */
  readonly kind = "memory";
  /** The network copies each packet as it is sent, and nobody changes the copy: see {@link PacketTransport.handsOverPackets}. */
  readonly handsOverPackets = true;
  /** The one address of this transport. */
  readonly address: string;
  /** Addresses at which peers reach this transport (just {@link MemoryTransport.address}). */
  readonly addresses: readonly string[];
  /** Largest packet this transport sends. */
  readonly mtu: number;
  readonly #network: SimNetwork;
  #handler: PacketHandler | undefined;
  #closed = false;

  /** @internal Use {@link SimNetwork.createTransport}. */
  constructor(network: SimNetwork, address: string, mtu: number) {
    this.#network = network;
    this.address = address;
    this.addresses = [address];
    this.mtu = mtu;
  }

  /** Whether this transport was closed or crashed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends one packet, best effort.
   * @throws {RangeError} when the packet is larger than {@link MemoryTransport.mtu} (a caller bug).
   */
  send(to: string, packet: Uint8Array): void {
    if (this.#closed) return;
    if (packet.length > this.mtu) {
      throw new RangeError(`packet of ${packet.length} bytes exceeds the mtu (${this.mtu})`);
    }
    this.#network._send(this, to, packet);
  }

  /** Registers the handler for incoming packets (a later call replaces it). */
  onPacket(fn: PacketHandler): void {
    if (this.#closed) throw new ClosedError(`transport ${this.address} is closed`);
    this.#handler = fn;
  }

  /** Whether `to` is known to be unreachable (only with the network's `reportUnreachable`). */
  isUnreachable(to: string): boolean {
    return this.#closed || this.#network._unreachable(this.address, to);
  }

  /** Stops sending and receiving and frees the address for a restart. */
  close(): Promise<void> {
    this._shutdown();
    return Promise.resolve();
  }

  /** @internal */
  _shutdown(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handler = undefined;
    this.#network._remove(this);
  }

  /** @internal Called by the network on arrival. */
  _receive(from: string, packet: Uint8Array): void {
    const handler = this.#handler;
    if (!this.#closed && handler !== undefined) handler(from, packet);
  }
}

function mergeLink(base: Required<LinkOptions>, opts: Partial<LinkOptions>): Required<LinkOptions> {
  const merged: Required<LinkOptions> = {
    loss: opts.loss ?? base.loss,
    delayMs: opts.delayMs !== undefined ? { min: opts.delayMs.min, max: opts.delayMs.max } : base.delayMs,
    duplicate: opts.duplicate ?? base.duplicate,
    reorder: opts.reorder ?? base.reorder,
    spikeChance: opts.spikeChance ?? base.spikeChance,
    spikeMs: opts.spikeMs ?? base.spikeMs,
    bandwidth: opts.bandwidth ?? base.bandwidth,
    queuePackets: opts.queuePackets ?? base.queuePackets,
  };
  for (const p of [merged.loss, merged.duplicate, merged.reorder, merged.spikeChance]) {
    if (!(p >= 0 && p <= 1)) throw new RangeError("link probabilities must be in [0, 1]");
  }
  if (!(merged.delayMs.min >= 0 && merged.delayMs.max >= merged.delayMs.min)) {
    throw new RangeError("'delayMs' needs 0 ≤ min ≤ max");
  }
  if (!(merged.spikeMs >= 0)) throw new RangeError("'spikeMs' must be ≥ 0");
  if (!(merged.bandwidth >= 0 && merged.bandwidth < Infinity)) {
    throw new RangeError("'bandwidth' must be a finite number ≥ 0");
  }
  if (!(Number.isInteger(merged.queuePackets) && merged.queuePackets >= 1)) {
    throw new RangeError("'queuePackets' must be an integer ≥ 1");
  }
  return merged;
}
