/**
 * Cluster authentication and confidentiality as a {@link PacketTransport} wrapper:
 * `secureTransport(inner, { key })` works over every backend (UDP, WebSocket, WebRTC, memory)
 * without the Transport Manager knowing about it.
 *
 * Every packet from node S to node D is protected with a direction key
 * `K(S→D) = HMAC-SHA-256(pairKey(S, D), dir)`, where `pairKey(S, D) = HMAC-SHA-256(clusterKey,
 * "raincore/1 pair" | sorted length-prefixed IDs)`. A node holding the cluster key derives any pair
 * key; a node given only a {@link NodeCredential} (its own pair keys, issued by the operator with
 * {@link issueNodeCredential}) can speak only as itself and only to the eligible peers listed in
 * it — it cannot claim another node's ID (admission). S and D are the Transport Manager header's
 * source and destination IDs, which the MAC covers.
 *
 * ```text
 * packet  u8 marker (0xA1 = HMAC, 0xA2 = AES-GCM, 0xA3 = GMAC) | u32 salt | u64 counter | TM header | body | tag16
 * ```
 * The TM header stays in clear (authenticated data); with `encrypt: true` the body (frames, acks)
 * is AES-256-GCM ciphertext with nonce `salt | counter`, else it is plaintext and the tag is
 * GMAC (AES-256-GCM, same nonce, everything before the tag as authenticated data; the default) or
 * HMAC-SHA-256 over everything before it, truncated to 16 bytes (`mac: "hmac-sha256"`). `counter` is the sender's wall
 * clock in microseconds, made strictly increasing per process; `salt` is random per process. A
 * receiver drops a packet whose counter is further than `maxPacketAgeMs` from its own clock
 * (freshness: a recording replayed later cannot restart anything); replays within that window are
 * duplicates, which the Transport Manager suppresses (incarnation + sequence numbers) as it does
 * the network's own duplicates.
 *
 * Crypto: Web Crypto (`globalThis.crypto.subtle`) everywhere — asynchronous, so packets may leave
 * and arrive out of order, which the Transport Manager tolerates. On Node, Deno and Bun,
 * `node:crypto` is loaded lazily and, once loaded, used synchronously (several times faster per
 * packet); both produce the same bytes. Await {@link loadNodeCrypto} first for deterministic
 * simulations.
 * @module
 */

import { DecodeError, RaincoreError } from "../../base/errors.ts";
import type { PacketHandler, PacketTransport } from "../packet_transport.ts";

/** Bytes the wrapper adds to every packet: marker, salt, counter, tag. */
export const SECURE_OVERHEAD: number = 1 + 4 + 8 + 16;
const MARKER_HMAC = 0xa1;
const MARKER_GCM = 0xa2;
const MARKER_GMAC = 0xa3;
const PREFIX = 13;
const TAG = 16;
/** Smallest cluster key accepted, in bytes. */
export const MIN_KEY_BYTES = 16;
const MAX_DERIVED_KEYS = 4096;

/** A node's credential: its pair keys with the eligible peers, issued by the operator. */
export interface NodeCredential {
  /** The node ID this credential speaks for. */
  readonly nodeId: string;
  /** Peer node ID → pair key (32 bytes) shared by this node and that peer. */
  readonly peers: Readonly<Record<string, Uint8Array>>;
}

/** Options of {@link secureTransport}. */
export interface SecureTransportOptions {
  /**
   * The cluster key (≥ 16 random bytes; every holder is trusted with every ID) or a
   * {@link NodeCredential} (its holder can speak only as `nodeId`, only with the listed peers).
   */
  key: Uint8Array | NodeCredential;
  /** This node's ID; required with a cluster key only to reject packets meant for other IDs. @default {the credential's nodeId, or none} */
  nodeId?: string;
  /** Encrypt packet bodies (AES-256-GCM) instead of only authenticating them. All nodes must agree. @default {false} */
  encrypt?: boolean;
  /**
   * MAC when not encrypting: `"gmac"` (AES-256-GCM over the packet as authenticated data; ~3× faster
   * than HMAC where the CPU has AES and carry-less multiply instructions) or `"hmac-sha256"`
   * (truncated to 16 bytes; does not depend on nonce uniqueness). All nodes must agree. @default {"gmac"}
   */
  mac?: "gmac" | "hmac-sha256";
  /** Largest difference between a packet's counter time and the receiver's clock, ms. Node clocks must agree to within this. @default {120000} */
  maxPacketAgeMs?: number;
  /** Wall-clock time in ms since the epoch (a virtual clock in simulations). @default {Date.now} */
  now?: () => number;
  /** Crypto implementation: `"auto"` (node:crypto when it loads, Web Crypto until then and elsewhere) or `"webcrypto"` only. @default {"auto"} */
  crypto?: "auto" | "webcrypto";
}

/** Counters of a {@link SecureTransport}. */
export interface SecureTransportStats {
  /** Packets protected and handed to the inner backend. */
  sent: number;
  /** Packets that passed authentication and freshness and were handed up. */
  accepted: number;
  /** Packets dropped: bad format, unknown or ineligible IDs, wrong mode, or failed authentication. */
  rejected: number;
  /** Packets dropped because their counter time was outside `maxPacketAgeMs` (replays, bad clocks). */
  stale: number;
  /** Outgoing packets dropped because they were not Transport Manager packets from this node. */
  refused: number;
}

/** A {@link PacketTransport} that authenticates (and optionally encrypts) every packet. */
export interface SecureTransport extends PacketTransport {
  /** Counters (live object). */
  readonly stats: SecureTransportStats;
  /** The backend it wraps. */
  readonly inner: PacketTransport;
}

/** A key file or key option that is not usable. */
export class InvalidKeyError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "InvalidKeyError";
}

// ---------------------------------------------------------------------------------------------
// Crypto back ends

interface NodeCryptoModule {
  createHmac(alg: string, key: Uint8Array): { update(d: Uint8Array): unknown; digest(): Uint8Array };
  createCipheriv(alg: string, key: Uint8Array, iv: Uint8Array, o: { authTagLength: number }): NodeCipher;
  createDecipheriv(alg: string, key: Uint8Array, iv: Uint8Array, o: { authTagLength: number }): NodeCipher;
  timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean;
}
interface NodeCipher {
  setAAD(aad: Uint8Array): unknown;
  update(d: Uint8Array): Uint8Array;
  final(): Uint8Array;
  getAuthTag(): Uint8Array;
  setAuthTag(t: Uint8Array): unknown;
}

let nodeCrypto: NodeCryptoModule | undefined;
let nodeCryptoLoading: Promise<boolean> | undefined;

/**
 * Loads `node:crypto` (Node, Deno, Bun) for synchronous per-packet crypto; resolves `false` where
 * it does not exist (browsers), which leaves Web Crypto in use. Safe to call many times.
 */
export function loadNodeCrypto(): Promise<boolean> {
  nodeCryptoLoading ??= (async () => {
    try {
      const spec = "node:crypto";
      const m = (await import(/* @vite-ignore */ spec)) as NodeCryptoModule & { default?: NodeCryptoModule };
      nodeCrypto = typeof m.createHmac === "function" ? m : m.default;
      return nodeCrypto !== undefined;
    } catch {
      return false;
    }
  })();
  return nodeCryptoLoading;
}

function subtle(): SubtleCrypto {
  const s = globalThis.crypto?.subtle;
  if (s === undefined) {
    throw new InvalidKeyError(
      "Web Crypto (crypto.subtle) is not available; use a secure context (https) or a newer runtime",
    );
  }
  return s;
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

/** HMAC-SHA-256: with `c` (node:crypto) when given, else Web Crypto. */
async function hmacAsync(
  c: NodeCryptoModule | undefined,
  key: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array> {
  if (c !== undefined) return hmacSync(c, key, data);
  const k = await subtle().importKey("raw", key as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await subtle().sign("HMAC", k, data as BufferSource));
}

function hmacSync(c: NodeCryptoModule, key: Uint8Array, data: Uint8Array): Uint8Array {
  const h = c.createHmac("sha256", key);
  h.update(data);
  return new Uint8Array(h.digest());
}

function pairLabel(a: string, b: string): Uint8Array {
  const [x, y] = a < b ? [a, b] : [b, a];
  const xb = enc.encode(x);
  const yb = enc.encode(y);
  const label = enc.encode("raincore/1 pair");
  const out = new Uint8Array(label.length + 2 + xb.length + yb.length);
  out.set(label, 0);
  out[label.length] = xb.length;
  out.set(xb, label.length + 1);
  out[label.length + 1 + xb.length] = yb.length;
  out.set(yb, label.length + 2 + xb.length);
  return out;
}

/** Direction byte: 1 when the sender's ID sorts first, else 2. */
function dirLabel(src: string, dst: string): Uint8Array {
  return enc.encode(src < dst ? "raincore/1 dir 1" : "raincore/1 dir 2");
}

/**
 * The pair key of nodes `a` and `b` under `clusterKey` (order of `a` and `b` does not matter).
 * @throws {InvalidKeyError} when the cluster key is shorter than {@link MIN_KEY_BYTES}.
 */
export async function derivePairKey(clusterKey: Uint8Array, a: string, b: string): Promise<Uint8Array> {
  checkClusterKey(clusterKey);
  return await hmacAsync(nodeCrypto, clusterKey, pairLabel(a, b));
}

/**
 * Issues the credential of node `nodeId`: its pair keys with each of `eligible` (the other node
 * IDs allowed in the cluster). Give it to that node instead of the cluster key; it cannot speak as
 * any other ID.
 */
export async function issueNodeCredential(
  clusterKey: Uint8Array,
  nodeId: string,
  eligible: readonly string[],
): Promise<NodeCredential> {
  checkId(nodeId);
  const peers: Record<string, Uint8Array> = {};
  for (const peer of eligible) {
    if (peer === nodeId) continue;
    checkId(peer);
    peers[peer] = await derivePairKey(clusterKey, nodeId, peer);
  }
  return { nodeId, peers };
}

function checkClusterKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length < MIN_KEY_BYTES) {
    throw new InvalidKeyError(
      `cluster key must be at least ${MIN_KEY_BYTES} bytes; generate one with \`head -c 32 /dev/urandom | base64\``,
    );
  }
}

function checkId(id: string): void {
  const n = enc.encode(id).length;
  if (typeof id !== "string" || n === 0 || n > 255) {
    throw new InvalidKeyError(`node ID must be 1..255 bytes of UTF-8, got ${JSON.stringify(id)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Key files

/**
 * Parses a key file: either a cluster key (one line of base64 or hex, ≥ 16 bytes) or a node
 * credential as JSON `{"nodeId": "a", "peers": {"b": "<base64>", …}}`.
 * @throws {InvalidKeyError} with what is wrong and how to make a good file.
 */
export function parseKeyFile(text: string): Uint8Array | NodeCredential {
  const t = text.trim();
  if (t.startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(t);
    } catch (e) {
      throw new InvalidKeyError(`key file looks like JSON but does not parse: ${(e as Error).message}`);
    }
    const o = json as { nodeId?: unknown; peers?: unknown };
    if (typeof o.nodeId !== "string" || typeof o.peers !== "object" || o.peers === null) {
      throw new InvalidKeyError('node credential must be {"nodeId": string, "peers": {id: base64 key}}');
    }
    checkId(o.nodeId);
    const peers: Record<string, Uint8Array> = {};
    for (const [id, v] of Object.entries(o.peers as Record<string, unknown>)) {
      if (typeof v !== "string") throw new InvalidKeyError(`pair key of "${id}" must be a base64 string`);
      const k = decodeKeyText(v);
      if (k.length !== 32) throw new InvalidKeyError(`pair key of "${id}" must be 32 bytes, got ${k.length}`);
      peers[id] = k;
    }
    return { nodeId: o.nodeId, peers };
  }
  const key = decodeKeyText(t);
  checkClusterKey(key);
  return key;
}

/** Formats a node credential as the JSON that {@link parseKeyFile} reads. */
export function formatNodeCredential(c: NodeCredential): string {
  const peers: Record<string, string> = {};
  for (const [id, k] of Object.entries(c.peers)) peers[id] = toBase64(k);
  return JSON.stringify({ nodeId: c.nodeId, peers }) + "\n";
}

function decodeKeyText(t: string): Uint8Array {
  const s = t.trim();
  if (/^[0-9a-fA-F]+$/.test(s) && s.length % 2 === 0) {
    const out = new Uint8Array(s.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
    return out;
  }
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(s)) {
    const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  throw new InvalidKeyError(
    "key must be base64 or hex text; generate one with `head -c 32 /dev/urandom | base64`",
  );
}

function toBase64(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

// ---------------------------------------------------------------------------------------------
// Packet format helpers

/** Source and destination IDs and the header end of a TM packet at `off`; undefined when malformed. */
function tmIds(p: Uint8Array, off: number): { src: string; dst: string; end: number } | undefined {
  if (p.length < off + 4 || p[off] !== 1) return undefined;
  const sl = p[off + 2];
  const dl = p[off + 3];
  const end = off + 4 + sl + dl + 20;
  if (sl === 0 || dl === 0 || p.length < end) return undefined;
  try {
    return {
      src: dec.decode(p.subarray(off + 4, off + 4 + sl)),
      dst: dec.decode(p.subarray(off + 4 + sl, off + 4 + sl + dl)),
      end,
    };
  } catch {
    return undefined;
  }
}

function writeU64(b: Uint8Array, p: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  const lo = v >>> 0;
  b[p] = hi >>> 24;
  b[p + 1] = hi >>> 16;
  b[p + 2] = hi >>> 8;
  b[p + 3] = hi;
  b[p + 4] = lo >>> 24;
  b[p + 5] = lo >>> 16;
  b[p + 6] = lo >>> 8;
  b[p + 7] = lo;
}

function readU64(b: Uint8Array, p: number): number {
  const hi = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  const lo = ((b[p + 4] << 24) | (b[p + 5] << 16) | (b[p + 6] << 8) | b[p + 7]) >>> 0;
  return hi * 4294967296 + lo;
}

function equalTag(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

/**
 * Unwraps the prefix of a secured packet without checking it: marker, counter and the TM header
 * IDs. For fuzzing and diagnostics; never trust its result.
 * @throws {DecodeError} for anything that is not a well-formed secured packet.
 */
export function decodeSecureEnvelope(
  p: Uint8Array,
): { encrypted: boolean; counter: number; src: string; dst: string } {
  if (p.length < PREFIX + TAG) {
    throw new DecodeError(`secured packet of ${p.length} bytes is shorter than ${PREFIX + TAG}`);
  }
  if (p[0] !== MARKER_HMAC && p[0] !== MARKER_GCM && p[0] !== MARKER_GMAC) {
    throw new DecodeError(`unknown secured packet marker ${p[0]}`);
  }
  const ids = tmIds(p, PREFIX);
  if (ids === undefined || ids.end > p.length - TAG) {
    throw new DecodeError("secured packet holds no valid Transport Manager header");
  }
  return { encrypted: p[0] === MARKER_GCM, counter: readU64(p, 5), src: ids.src, dst: ids.dst };
}

// ---------------------------------------------------------------------------------------------
// The wrapper

/**
 * Wraps `inner` so that every packet is authenticated (and, with `encrypt`, its body encrypted)
 * under the cluster key or a node credential. The result has the same `kind` and `addresses` and
 * an `mtu` smaller by {@link SECURE_OVERHEAD}; packets failing checks are dropped and counted.
 * @throws {InvalidKeyError} for a short key or a malformed credential.
 * @throws {RangeError} for invalid options.
 */
export function secureTransport(inner: PacketTransport, options: SecureTransportOptions): SecureTransport {
  return new SecureWrapper(inner, options);
}

class SecureWrapper implements SecureTransport {
  readonly stats: SecureTransportStats = { sent: 0, accepted: 0, rejected: 0, stale: 0, refused: 0 };
  readonly kind: string;
  readonly mtu: number;
  readonly schemes?: readonly string[];
  readonly #cluster?: Uint8Array;
  readonly #credential?: NodeCredential;
  readonly #nodeId?: string;
  readonly #encrypt: boolean;
  readonly #marker: number;
  readonly #maxAgeUs: number;
  readonly #now: () => number;
  readonly #salt = new Uint8Array(4);
  /** "src\0dst" → direction key (raw) and, for Web Crypto, imported keys. */
  readonly #keys = new Map<string, DirKey | Promise<DirKey | undefined>>();
  #counter = 0;
  readonly #useNode: boolean;
  /** node:crypto when this instance may use it and it has loaded. */
  get #nc(): NodeCryptoModule | undefined {
    return this.#useNode ? nodeCrypto : undefined;
  }
  #handler: PacketHandler | undefined;
  #closed = false;

  constructor(readonly inner: PacketTransport, o: SecureTransportOptions) {
    if (o.key instanceof Uint8Array) {
      checkClusterKey(o.key);
      this.#cluster = o.key.slice();
      if (o.nodeId !== undefined) checkId(o.nodeId);
      this.#nodeId = o.nodeId;
    } else if (typeof o.key === "object" && o.key !== null && typeof o.key.nodeId === "string") {
      checkId(o.key.nodeId);
      if (o.nodeId !== undefined && o.nodeId !== o.key.nodeId) {
        throw new InvalidKeyError(
          `credential is for node "${o.key.nodeId}", not "${o.nodeId}"; issue one for "${o.nodeId}"`,
        );
      }
      for (const [id, k] of Object.entries(o.key.peers)) {
        if (!(k instanceof Uint8Array) || k.length !== 32) {
          throw new InvalidKeyError(`pair key of "${id}" must be 32 bytes`);
        }
      }
      this.#credential = o.key;
      this.#nodeId = o.key.nodeId;
    } else {
      throw new InvalidKeyError("key must be a Uint8Array cluster key or a NodeCredential");
    }
    const maxAgeMs = o.maxPacketAgeMs ?? 120_000;
    if (!(maxAgeMs > 0)) throw new RangeError(`'maxPacketAgeMs' must be positive, got ${maxAgeMs}`);
    if (inner.mtu <= SECURE_OVERHEAD + 64) {
      throw new RangeError(
        `inner mtu ${inner.mtu} is too small for the ${SECURE_OVERHEAD}-byte security overhead`,
      );
    }
    this.#encrypt = o.encrypt ?? false;
    const mac = o.mac ?? "gmac";
    if (mac !== "gmac" && mac !== "hmac-sha256") {
      throw new RangeError(`'mac' must be "gmac" or "hmac-sha256", got ${String(mac)}`);
    }
    this.#marker = this.#encrypt ? MARKER_GCM : mac === "gmac" ? MARKER_GMAC : MARKER_HMAC;
    this.#maxAgeUs = maxAgeMs * 1000;
    this.#now = o.now ?? Date.now;
    globalThis.crypto.getRandomValues(this.#salt);
    this.kind = inner.kind;
    this.mtu = inner.mtu - SECURE_OVERHEAD;
    if (inner.schemes !== undefined) this.schemes = inner.schemes;
    if (inner.onAddressChange !== undefined) {
      const f = inner.onAddressChange.bind(inner);
      this.onAddressChange = (fn: () => void) => f(fn);
    }
    if (inner.isUnreachable !== undefined) {
      const f = inner.isUnreachable.bind(inner);
      this.isUnreachable = (to: string) => f(to);
    }
    this.#useNode = (o.crypto ?? "auto") === "auto";
    if (this.#useNode) void loadNodeCrypto();
    inner.onPacket((from, packet) => this.#receive(from, packet));
  }

  isUnreachable?(to: string): boolean;
  onAddressChange?(fn: () => void): void;

  /** The inner backend's addresses (they may change: a WebSocket client that reconnects elsewhere). */
  get addresses(): readonly string[] {
    return this.inner.addresses;
  }

  onPacket(fn: PacketHandler): void {
    this.#handler = fn;
  }

  close(): Promise<void> {
    this.#closed = true;
    return this.inner.close();
  }

  send(to: string, packet: Uint8Array): void {
    if (this.#closed) return;
    const ids = tmIds(packet, 0);
    if (ids === undefined || (this.#nodeId !== undefined && ids.src !== this.#nodeId)) {
      this.stats.refused++;
      return;
    }
    const key = this.#key(ids.src, ids.dst);
    if (key === undefined) {
      this.stats.refused++;
      return;
    }
    const nowUs = Math.floor(this.#now() * 1000);
    this.#counter = Math.max(this.#counter + 1, nowUs);
    const out = new Uint8Array(PREFIX + packet.length + TAG);
    out[0] = this.#marker;
    out.set(this.#salt, 1);
    writeU64(out, 5, this.#counter);
    out.set(packet, PREFIX);
    const hdrEnd = PREFIX + ids.end;
    if (key instanceof Promise) {
      // Web Crypto path: the key is being derived; protect once it is there.
      key.then((k) => {
        if (k === undefined) this.stats.refused++;
        else void this.#sealAsync(to, out, hdrEnd, k);
      });
    } else if (this.#nc !== undefined && key.raw !== undefined) {
      this.#sealSync(this.#nc, out, hdrEnd, key.raw);
      this.stats.sent++;
      this.inner.send(to, out);
    } else {
      this.#sealAsync(to, out, hdrEnd, key);
    }
  }

  #sealSync(c: NodeCryptoModule, out: Uint8Array, hdrEnd: number, raw: Uint8Array): void {
    const bodyEnd = out.length - TAG;
    if (this.#marker === MARKER_GMAC) {
      // GMAC: AES-256-GCM with the whole packet as authenticated data and nothing to encrypt.
      const cipher = c.createCipheriv("aes-256-gcm", raw, out.subarray(1, PREFIX), { authTagLength: TAG });
      cipher.setAAD(out.subarray(0, bodyEnd));
      cipher.final();
      out.set(cipher.getAuthTag(), bodyEnd);
    } else if (this.#encrypt) {
      const cipher = c.createCipheriv("aes-256-gcm", raw, out.subarray(1, PREFIX), { authTagLength: TAG });
      cipher.setAAD(out.subarray(0, hdrEnd));
      const ct = cipher.update(out.subarray(hdrEnd, bodyEnd));
      const fin = cipher.final();
      out.set(ct, hdrEnd);
      if (fin.length > 0) out.set(fin, hdrEnd + ct.length);
      out.set(cipher.getAuthTag(), bodyEnd);
    } else {
      const h = c.createHmac("sha256", raw);
      h.update(out.subarray(0, bodyEnd));
      out.set(new Uint8Array(h.digest()).subarray(0, TAG), bodyEnd);
    }
  }

  async #sealAsync(to: string, out: Uint8Array, hdrEnd: number, key: DirKey): Promise<void> {
    try {
      const bodyEnd = out.length - TAG;
      if (this.#marker === MARKER_GMAC) {
        const k = await key.aes();
        const tag = new Uint8Array(
          await subtle().encrypt(
            {
              name: "AES-GCM",
              iv: out.subarray(1, PREFIX) as BufferSource,
              additionalData: out.subarray(0, bodyEnd) as BufferSource,
              tagLength: 128,
            },
            k,
            new Uint8Array(0),
          ),
        );
        out.set(tag, bodyEnd);
      } else if (this.#encrypt) {
        const k = await key.aes();
        const sealed = new Uint8Array(
          await subtle().encrypt(
            {
              name: "AES-GCM",
              iv: out.subarray(1, PREFIX) as BufferSource,
              additionalData: out.subarray(0, hdrEnd) as BufferSource,
              tagLength: 128,
            },
            k,
            out.subarray(hdrEnd, bodyEnd) as BufferSource,
          ),
        );
        out.set(sealed, hdrEnd);
      } else {
        const k = await key.hmac();
        const mac = new Uint8Array(await subtle().sign("HMAC", k, out.subarray(0, bodyEnd) as BufferSource));
        out.set(mac.subarray(0, TAG), bodyEnd);
      }
      if (this.#closed) return;
      this.stats.sent++;
      this.inner.send(to, out);
    } catch {
      this.stats.refused++;
    }
  }

  #receive(from: string, packet: Uint8Array): void {
    if (this.#closed) return;
    const p = packet;
    if (p.length < PREFIX + TAG) {
      this.stats.rejected++;
      return;
    }
    if (p[0] !== this.#marker) {
      this.stats.rejected++;
      return;
    }
    const ids = tmIds(p, PREFIX);
    if (
      ids === undefined || ids.end > p.length - TAG ||
      (this.#nodeId !== undefined && ids.dst !== this.#nodeId)
    ) {
      this.stats.rejected++;
      return;
    }
    const key = this.#key(ids.src, ids.dst);
    if (key === undefined) {
      this.stats.rejected++;
      return;
    }
    const c = this.#nc;
    if (!(key instanceof Promise) && c !== undefined && key.raw !== undefined) {
      // Synchronous path: HMAC verifies in place (the handler gets a view, valid during this call,
      // as the backend's own contract says); decryption writes, so it works on a copy.
      const copy = this.#encrypt ? p.slice() : p;
      const body = this.#openSync(c, copy, ids.end, key.raw);
      if (body === undefined) {
        this.stats.rejected++;
        return;
      }
      this.#deliver(from, copy, body);
      return;
    }
    const copy = p.slice();
    void (async () => {
      const k = key instanceof Promise ? await key : key;
      if (k === undefined) {
        this.stats.rejected++;
        return;
      }
      const body = await this.#openAsync(copy, ids.end, k);
      if (body === undefined) {
        this.stats.rejected++;
        return;
      }
      this.#deliver(from, copy, body);
    })();
  }

  #deliver(from: string, p: Uint8Array, body: Uint8Array): void {
    if (this.#closed) return;
    // Freshness only after authentication: the counter is then the sender's own.
    const counter = readU64(p, 5);
    const nowUs = this.#now() * 1000;
    if (counter < nowUs - this.#maxAgeUs || counter > nowUs + this.#maxAgeUs) {
      this.stats.stale++;
      return;
    }
    this.stats.accepted++;
    this.#handler?.(from, body);
  }

  /** Returns the TM packet (a view of `p`) or undefined when authentication fails. */
  #openSync(c: NodeCryptoModule, p: Uint8Array, hdrEnd: number, raw: Uint8Array): Uint8Array | undefined {
    const bodyEnd = p.length - TAG;
    if (this.#marker === MARKER_GMAC) {
      try {
        const d = c.createDecipheriv("aes-256-gcm", raw, p.subarray(1, PREFIX), { authTagLength: TAG });
        d.setAAD(p.subarray(0, bodyEnd));
        d.setAuthTag(p.subarray(bodyEnd));
        d.final();
      } catch {
        return undefined;
      }
    } else if (this.#encrypt) {
      try {
        const d = c.createDecipheriv("aes-256-gcm", raw, p.subarray(1, PREFIX), { authTagLength: TAG });
        d.setAAD(p.subarray(0, hdrEnd));
        d.setAuthTag(p.subarray(bodyEnd));
        const pt = d.update(p.subarray(hdrEnd, bodyEnd));
        d.final();
        p.set(pt, hdrEnd);
      } catch {
        return undefined;
      }
    } else {
      const h = c.createHmac("sha256", raw);
      h.update(p.subarray(0, bodyEnd));
      const mac = new Uint8Array(h.digest());
      if (!equalTag(mac.subarray(0, TAG), p.subarray(bodyEnd))) return undefined;
    }
    return p.subarray(PREFIX, bodyEnd);
  }

  async #openAsync(p: Uint8Array, hdrEnd: number, key: DirKey): Promise<Uint8Array | undefined> {
    const bodyEnd = p.length - TAG;
    try {
      if (this.#marker === MARKER_GMAC) {
        const k = await key.aes();
        await subtle().decrypt(
          {
            name: "AES-GCM",
            iv: p.subarray(1, PREFIX) as BufferSource,
            additionalData: p.subarray(0, bodyEnd) as BufferSource,
            tagLength: 128,
          },
          k,
          p.subarray(bodyEnd) as BufferSource,
        );
      } else if (this.#encrypt) {
        const k = await key.aes();
        const pt = new Uint8Array(
          await subtle().decrypt(
            {
              name: "AES-GCM",
              iv: p.subarray(1, PREFIX) as BufferSource,
              additionalData: p.subarray(0, hdrEnd) as BufferSource,
              tagLength: 128,
            },
            k,
            p.subarray(hdrEnd) as BufferSource,
          ),
        );
        p.set(pt, hdrEnd);
      } else {
        const k = await key.hmac();
        const mac = new Uint8Array(await subtle().sign("HMAC", k, p.subarray(0, bodyEnd) as BufferSource));
        if (!equalTag(mac.subarray(0, TAG), p.subarray(bodyEnd))) return undefined;
      }
    } catch {
      return undefined;
    }
    return p.subarray(PREFIX, bodyEnd);
  }

  /** The direction key of src→dst: a DirKey, a promise of one while it is derived, or undefined when not allowed. */
  #key(src: string, dst: string): DirKey | Promise<DirKey | undefined> | undefined {
    const name = src + "\u0000" + dst;
    const cached = this.#keys.get(name);
    if (cached !== undefined) return cached;
    let pair: Uint8Array | Promise<Uint8Array> | undefined;
    if (this.#credential !== undefined) {
      const me = this.#credential.nodeId;
      const other = src === me ? dst : dst === me ? src : undefined;
      if (other === undefined || other === me || !Object.hasOwn(this.#credential.peers, other)) {
        return undefined;
      }
      pair = this.#credential.peers[other];
    } else {
      const cluster = this.#cluster as Uint8Array;
      if (this.#nc !== undefined) pair = hmacSync(this.#nc, cluster, pairLabel(src, dst));
      else pair = hmacAsync(undefined, cluster, pairLabel(src, dst));
    }
    if (this.#keys.size >= MAX_DERIVED_KEYS) {
      // Bounded: forget the oldest derivation (a flood of made-up IDs cannot grow memory).
      const first = this.#keys.keys().next();
      if (!first.done) this.#keys.delete(first.value);
    }
    const dir = dirLabel(src, dst);
    if (pair instanceof Uint8Array && this.#nc !== undefined) {
      const k = new DirKey(hmacSync(this.#nc, pair, dir));
      this.#keys.set(name, k);
      return k;
    }
    const pending = (async () => {
      try {
        const k = new DirKey(await hmacAsync(this.#nc, await pair, dir));
        this.#keys.set(name, k);
        return k;
      } catch {
        this.#keys.delete(name);
        return undefined;
      }
    })();
    this.#keys.set(name, pending);
    return pending;
  }
}

/** A direction key: raw bytes (for node:crypto) and lazily imported Web Crypto keys. */
class DirKey {
  #hmac?: Promise<CryptoKey>;
  #aes?: Promise<CryptoKey>;
  constructor(readonly raw: Uint8Array) {}
  hmac(): Promise<CryptoKey> {
    this.#hmac ??= subtle().importKey(
      "raw",
      this.raw as BufferSource,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    return this.#hmac;
  }
  aes(): Promise<CryptoKey> {
    this.#aes ??= subtle().importKey("raw", this.raw as BufferSource, { name: "AES-GCM" }, false, [
      "encrypt",
      "decrypt",
    ]);
    return this.#aes;
  }
}
