/**
 * The UDP backend: best-effort datagrams over `node:dgram`, which Node and Deno both provide. The
 * module loads `node:dgram` lazily, inside {@link createUdpTransport}, so that `mod.ts` can
 * re-export the factory and still load in a browser (where calling it fails with a clear error).
 *
 * ```ts
 * const udp = await createUdpTransport({ port: 7001 });       // udp://127.0.0.1:7001
 * udp.onPacket((from, packet) => udp.send(from, packet));    // echo
 * ```
 *
 * Sizes. The default {@link UdpTransportOptions.mtu} of {@link UDP_LAN_MTU} (1,400 B) fits one
 * Ethernet frame (1,500 B − 20 B IPv4 or 40 B IPv6 − 8 B UDP = 1,472 or 1,452 B) with room for a
 * tunnel or VPN header, so no datagram is IP-fragmented on a LAN, where losing one fragment loses
 * the datagram. On loopback (interface MTU 65,536 B) pass {@link UDP_LOOPBACK_MTU}: fewer,
 * larger datagrams cost far fewer system calls per byte. Socket buffers default to 8 MiB because
 * the Transport Manager sends a whole window at once; the kernel caps them (Linux:
 * `net.core.rmem_max` / `wmem_max`), see {@link UdpTransport.bufferSizes}.
 * @module
 */

import type { RemoteInfo, Socket } from "node:dgram";
import { TransportBindError } from "../errors.ts";
import type { PacketHandler, PacketTransport } from "../packet_transport.ts";
import { formatUdpAddress, ipFamily, tryParseUdpAddress, type UdpSocketAddress } from "./udp_address.ts";

export { formatUdpAddress, parseUdpAddress, type UdpSocketAddress } from "./udp_address.ts";

/** Default packet size: one Ethernet frame less IP/UDP headers and a margin for tunnels. */
export const UDP_LAN_MTU = 1_400;
/**
 * Packet size for loopback-only clusters: below the largest UDP payload of both IPv4 (65,507 B)
 * and IPv6 on a 65,536 B loopback interface (65,488 B), rounded down.
 */
export const UDP_LOOPBACK_MTU = 65_000;
/** Largest `mtu` accepted (largest IPv6 UDP payload on a 65,536 B loopback interface). */
export const UDP_MAX_MTU = 65_488;

/** Options of {@link createUdpTransport}. */
export interface UdpTransportOptions {
  /** IP literal to bind; `"0.0.0.0"` or `"::"` binds every interface. @default {"127.0.0.1"} */
  host?: string;
  /** Port to bind; 0 picks a free one, reported in {@link UdpTransport.addresses}. @default {0} */
  port?: number;
  /** Largest packet payload in bytes (64..65,488). @default {UDP_LAN_MTU} (1,400) */
  mtu?: number;
  /** Requested receive buffer (`SO_RCVBUF`), capped by the kernel. @default {8_388_608} */
  recvBufferBytes?: number;
  /** Requested send buffer (`SO_SNDBUF`), capped by the kernel. @default {8_388_608} */
  sendBufferBytes?: number;
  /**
   * Addresses to announce instead of the bound one; needed when binding a wildcard host, whose
   * bound address is not reachable. @default {the bound address; `127.0.0.1`/`::1` for wildcards}
   */
  advertise?: readonly string[];
}

/** Counters of one {@link UdpTransport}. */
export interface UdpTransportStats {
  /** Packets handed to the socket. */
  packetsSent: number;
  /** Payload bytes handed to the socket. */
  bytesSent: number;
  /** Packets received and handed to the packet handler. */
  packetsReceived: number;
  /** Payload bytes received. */
  bytesReceived: number;
  /** Packets the socket refused (EHOSTUNREACH, ENOBUFS, …): dropped, as UDP may. */
  sendErrors: number;
  /** Packets dropped before the socket: unparseable address or the other IP family. */
  badAddress: number;
  /** Socket `error` events after binding (ignored; counted). */
  socketErrors: number;
}

/** Effective socket buffer sizes as the kernel reports them (Linux doubles the request). */
export interface UdpBufferSizes {
  /** `SO_RCVBUF`, or `undefined` when the runtime cannot set or report it. */
  recv: number | undefined;
  /** `SO_SNDBUF`, or `undefined` when the runtime cannot set or report it. */
  send: number | undefined;
}

const DEFAULT_BUFFER_BYTES = 8 * 1024 * 1024;
const ADDRESS_CACHE_LIMIT = 4_096;
/** Bytes of idle staging buffers a transport keeps for reuse. */
const STAGING_POOL_BYTES = 4 * 1024 * 1024;

/**
 * One bound UDP socket as a {@link PacketTransport}. Create it with {@link createUdpTransport}.
 * `send()` never throws for network conditions (it drops and counts); after `close()` it does
 * nothing.
 */
export class UdpTransport implements PacketTransport {
  /** Always `"udp"`. */
  readonly kind = "udp";
  /** `node:dgram` (Node and Deno) allocates a buffer per datagram: see {@link PacketTransport.handsOverPackets}. */
  readonly handsOverPackets = true;
  /** Largest packet payload this transport sends. */
  readonly mtu: number;
  /** Addresses at which peers reach this transport, e.g. `udp://127.0.0.1:7001`. */
  readonly addresses: readonly string[];
  /** The bound port. */
  readonly port: number;
  /** Counters since creation. */
  readonly stats: UdpTransportStats = {
    packetsSent: 0,
    bytesSent: 0,
    packetsReceived: 0,
    bytesReceived: 0,
    sendErrors: 0,
    badAddress: 0,
    socketErrors: 0,
  };
  readonly #socket: Socket;
  readonly #family: 4 | 6;
  #handler: PacketHandler | undefined;
  #closing: Promise<void> | undefined;
  /** `udp://…` string → parsed address (or `null` when unusable), so `send` parses each address once. */
  readonly #targets = new Map<string, UdpSocketAddress | null>();
  /** Remote host → port → `udp://…` string, so `receive` builds each from-address once. */
  readonly #sources = new Map<string, Map<number, string>>();
  #sourceCount = 0;
  /** Staging buffers of `mtu` bytes that no pending send holds; see {@link UdpTransport.send}. */
  readonly #free: Uint8Array[] = [];
  readonly #freeLimit: number;

  /** @internal Use {@link createUdpTransport}: the socket must be bound first. */
  constructor(socket: Socket, family: 4 | 6, mtu: number, addresses: readonly string[], port: number) {
    this.#socket = socket;
    this.#family = family;
    this.mtu = mtu;
    this.#freeLimit = Math.max(16, Math.floor(STAGING_POOL_BYTES / mtu));
    this.addresses = addresses;
    this.port = port;
    socket.on("message", (msg: Uint8Array, rinfo: RemoteInfo) => this.#receive(msg, rinfo));
    socket.on("error", () => {
      this.stats.socketErrors++;
    });
  }

  /** Whether {@link UdpTransport.close} was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Effective socket buffer sizes (see {@link UdpTransportOptions.recvBufferBytes}). `undefined`
   * on Deno: its `node:dgram` (2.9) does not apply the sizes, so the kernel
   * default (Linux: 208 KiB, about 90 datagrams of 1,400 B) holds there, and bursts overflow it.
   */
  get bufferSizes(): UdpBufferSizes {
    if (isDeno()) return { recv: undefined, send: undefined };
    return {
      recv: tryGet(() => this.#socket.getRecvBufferSize()),
      send: tryGet(() => this.#socket.getSendBufferSize()),
    };
  }

  /**
   * Sends one datagram, best effort. The bytes are copied before this returns, so the caller may
   * reuse or patch `packet` at once (the socket may hold a buffer until the kernel takes it).
   * @throws {RangeError} when the packet is larger than {@link UdpTransport.mtu} (a caller bug).
   */
  send(to: string, packet: Uint8Array): void {
    if (this.#closing !== undefined) return;
    if (packet.length > this.mtu) {
      throw new RangeError(`packet of ${packet.length} bytes exceeds the mtu (${this.mtu})`);
    }
    const target = this.#target(to);
    if (target === null) {
      this.stats.badAddress++;
      return;
    }
    this.stats.packetsSent++;
    this.stats.bytesSent += packet.length;
    // Copy into a staging buffer that returns to the pool once the socket is done with it: the
    // socket may hold the bytes past this call (DNS tick on Deno, a full send queue on Node), and
    // callers may patch theirs at once. Pooled, because allocating a fresh copy per datagram costs
    // more than the copy (measured: 0.6 µs for 1,400 B and 27 µs for 65,000 B, against 0.2 and ~7).
    const staging = this.#free.pop() ?? new Uint8Array(this.mtu);
    staging.set(packet);
    const done = (err: Error | null): void => {
      if (this.#free.length < this.#freeLimit) this.#free.push(staging);
      if (err !== null && err !== undefined && this.#closing === undefined) this.stats.sendErrors++;
    };
    try {
      this.#socket.send(staging, 0, packet.length, target.port, target.host, done);
    } catch {
      this.stats.sendErrors++;
    }
  }

  /** Registers the handler for incoming packets (a later call replaces it). */
  onPacket(fn: PacketHandler): void {
    this.#handler = fn;
  }

  /** Closes the socket; idempotent. Packets that arrive afterwards are not delivered. */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      this.#handler = undefined;
      this.#closing = new Promise<void>((resolve) => {
        try {
          this.#socket.close(() => resolve());
        } catch {
          resolve();
        }
      });
    }
    return this.#closing;
  }

  #target(to: string): UdpSocketAddress | null {
    let target = this.#targets.get(to);
    if (target === undefined) {
      const parsed = tryParseUdpAddress(to);
      target = parsed !== undefined && parsed.family === this.#family ? parsed : null;
      if (this.#targets.size >= ADDRESS_CACHE_LIMIT) this.#targets.clear();
      this.#targets.set(to, target);
    }
    return target;
  }

  #receive(msg: Uint8Array, rinfo: RemoteInfo): void {
    const handler = this.#handler;
    if (handler === undefined || this.#closing !== undefined) return;
    this.stats.packetsReceived++;
    this.stats.bytesReceived += msg.length;
    let ports = this.#sources.get(rinfo.address);
    if (ports === undefined) {
      if (this.#sourceCount >= ADDRESS_CACHE_LIMIT) {
        this.#sources.clear();
        this.#sourceCount = 0;
      }
      ports = new Map();
      this.#sources.set(rinfo.address, ports);
    }
    let from = ports.get(rinfo.port);
    if (from === undefined) {
      from = formatUdpAddress(rinfo.address, rinfo.port);
      ports.set(rinfo.port, from);
      this.#sourceCount++;
    }
    // A plain Uint8Array view of the runtime's Buffer: no copy, and `slice()` copies as callers expect.
    handler(from, new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
  }
}

/**
 * Opens a UDP socket and resolves once it is bound.
 * @throws {RangeError} for invalid options.
 * @throws {TransportBindError} when the socket cannot be bound (port in use, address not local).
 * @throws {Error} when the runtime has no `node:dgram` (browsers).
 */
export async function createUdpTransport(opts: UdpTransportOptions = {}): Promise<UdpTransport> {
  const host = opts.host ?? "127.0.0.1";
  const port = opts.port ?? 0;
  const mtu = opts.mtu ?? UDP_LAN_MTU;
  const family = ipFamily(host);
  if (family === undefined) throw new RangeError(`'host' must be an IP literal, got "${host}"`);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new RangeError("'port' must be an integer 0..65535");
  }
  if (!Number.isInteger(mtu) || mtu < 64 || mtu > UDP_MAX_MTU) {
    throw new RangeError(`'mtu' must be an integer 64..${UDP_MAX_MTU}`);
  }
  const recvBufferBytes = positive(opts.recvBufferBytes ?? DEFAULT_BUFFER_BYTES, "recvBufferBytes");
  const sendBufferBytes = positive(opts.sendBufferBytes ?? DEFAULT_BUFFER_BYTES, "sendBufferBytes");
  for (const a of opts.advertise ?? []) {
    if (tryParseUdpAddress(a) === undefined) {
      throw new RangeError(`'advertise' holds a non-UDP address "${a}"`);
    }
  }

  const dgram = await loadDgram();
  const type = family === 4 ? "udp4" : "udp6";
  // Addresses are IP literals, so skip the DNS lookup (and the tick it costs) on every send. Not on
  // Deno: there (2.9) a socket with a custom `lookup` never finishes `close()`.
  const socket = isDeno()
    ? dgram.createSocket({ type })
    : dgram.createSocket({ type, lookup: literalLookup });
  try {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      socket.once("error", onError);
      socket.bind({ port, address: host, exclusive: true }, () => {
        socket.off("error", onError);
        resolve();
      });
    });
  } catch (err) {
    try {
      socket.close();
    } catch { /* already closed */ }
    throw new TransportBindError(formatUdpAddress(host, port), { cause: err });
  }
  // Best effort: the kernel caps the sizes. Not on Deno (2.9): there the calls do not reach the
  // kernel, and a socket that made them delivers a burst ~30× slower (measured: 80 datagrams in
  // 305 ms instead of 9 ms).
  if (!isDeno()) {
    tryGet(() => socket.setRecvBufferSize(recvBufferBytes));
    tryGet(() => socket.setSendBufferSize(sendBufferBytes));
  }
  const bound = socket.address();
  const wildcard = host === "0.0.0.0" || host === "::";
  const shownHost = wildcard ? (family === 4 ? "127.0.0.1" : "::1") : bound.address;
  const addresses = opts.advertise !== undefined && opts.advertise.length > 0
    ? [...opts.advertise]
    : [formatUdpAddress(shownHost, bound.port)];
  return new UdpTransport(socket, family, mtu, Object.freeze(addresses), bound.port);
}

/** The specifier in a variable, so browser bundlers leave the import alone (it runs only here). */
const DGRAM_MODULE = "node:dgram";

async function loadDgram(): Promise<typeof import("node:dgram")> {
  try {
    return (await import(/* @vite-ignore */ DGRAM_MODULE)) as typeof import("node:dgram");
  } catch (err) {
    throw new Error("the UDP backend needs node:dgram (Node or Deno); this runtime has none", { cause: err });
  }
}

type LookupCallback = (err: Error | null, address: string, family: number) => void;

/** A `lookup` for `dgram.createSocket` that answers IP literals synchronously. */
function literalLookup(hostname: string, options: unknown, callback?: LookupCallback): void {
  const cb = (typeof options === "function" ? options : callback) as LookupCallback;
  const family = ipFamily(hostname);
  if (family === undefined) cb(new Error(`not an IP literal: ${hostname}`), "", 0);
  else cb(null, hostname, family);
}

function isDeno(): boolean {
  return typeof (globalThis as { Deno?: unknown }).Deno === "object";
}

function positive(value: number, name: string): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`'${name}' must be a positive integer`);
  return value;
}

function tryGet<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}
