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
 * The packet format is in `envelope.ts`, keys and credentials in `keys.ts`, key files in
 * `key_file.ts`, the crypto back ends in `node_crypto.ts`. The TM header stays in clear
 * (authenticated data); with `encrypt: true` the body (frames, acks)
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

import { TYPE_DISCOVER } from "../codec.ts";
import type { PacketHandler, PacketTransport } from "../packet_transport.ts";
import {
  equalTag,
  MARKER_GCM,
  MARKER_GMAC,
  MARKER_HMAC,
  PREFIX,
  readU64,
  SECURE_OVERHEAD,
  TAG,
  tmIds,
  writeU64,
} from "./envelope.ts";
import { checkClusterKey, checkId, DirKey, dirLabel, type NodeCredential, pairLabel } from "./keys.ts";
import { InvalidKeyError } from "../errors.ts";
import {
  hmacAsync,
  hmacSync,
  loadedNodeCrypto,
  loadNodeCrypto,
  type NodeCryptoModule,
  subtle,
} from "./node_crypto.ts";

export { loadNodeCrypto } from "./node_crypto.ts";
export type { NodeCredential } from "./keys.ts";

/** Most direction keys cached (a flood of made-up IDs cannot grow memory beyond it). */
const MAX_DERIVED_KEYS = 4096;

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
  /** Decryption works on a copy; authentication alone hands on a view of the inner backend's packet. */
  readonly handsOverPackets: boolean;
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
    return this.#useNode ? loadedNodeCrypto() : undefined;
  }
  #handler: PacketHandler | undefined;
  #closed = false;

  readonly inner: PacketTransport;

  constructor(inner: PacketTransport, o: SecureTransportOptions) {
    this.inner = inner;
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
    this.handsOverPackets = this.#encrypt || inner.handsOverPackets === true;
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
    // A DISCOVER ("who are you?", to an address whose node is not known) is addressed to "*".
    const discover = ids?.dst === "*" && p[PREFIX + 1] === TYPE_DISCOVER;
    if (
      ids === undefined || ids.end > p.length - TAG ||
      (this.#nodeId !== undefined && ids.dst !== this.#nodeId && !discover)
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
