/**
 * The WebRTC backend: one peer connection with one data channel per peer, opened on demand when a
 * packet is first sent to the peer's `webrtc+ws://…#id` address, signaled through a
 * {@link WebSocketTransport} (offer and answer with complete candidate lists, `signal_codec.ts`).
 *
 * Channel semantics. The Transport Manager owns reliability, so the channel is unordered with
 * `maxRetransmits: 0`, and it is the only channel of its association, created `negotiated` (no
 * in-band DCEP open message). No reliable data ever shares the SCTP association: werift (0.24–0.25)
 * drops a fragment of a reliable message when FORWARD-TSN skips lost unreliable ones before it,
 * and that reliable stream then hangs for good while the connection still reports "connected".
 *
 * Flow control. werift's send rate collapses (≈10k → 0.5k msgs/s) once `bufferedAmount` reaches
 * 1 MB, so packets above `maxBufferedBytes` (64 KiB) wait in a small hold queue that drains on
 * `bufferedamountlow`, and are dropped beyond it (the Transport Manager resends).
 *
 * Fail fast. While a peer's first connection attempt runs, packets wait for the channel; after an
 * attempt failed or a channel closed, {@link WebRtcTransport.isUnreachable} says so (and starts a
 * new attempt after a back-off), so the Transport Manager moves to the peer's next address — the
 * relay — and comes back once the channel is open again.
 * @module
 */

import type { PacketHandler, PacketTransport } from "../../packet_transport.ts";
import { tryParseWebSocketAddress } from "../websocket/address.ts";
import type { WebSocketTransport } from "../websocket/transport.ts";
import { signalingAddressOf, WEBRTC_SCHEMES, webRtcAddress, webRtcAddressOf } from "./address.ts";
import {
  channelPayload,
  type DataChannelLike,
  onChannel,
  onPeerState,
  peerConfig,
  type PeerConnectionLike,
  prepareLocalDescription,
  type RtcImplementation,
} from "./rtc.ts";
import { decodeSignal, encodeSignal, type Signal } from "./signal_codec.ts";

/**
 * Default largest packet. Chromium's answer to a werift offer omits `max-message-size`, so both
 * sides fall back to 65,536 B; 16 KiB stays well inside it and inside every browser's limit.
 */
export const WEBRTC_DEFAULT_MTU = 16_384;

/** Options of the {@link WebRtcTransport} core. */
export interface WebRtcCoreOptions {
  /** Largest packet payload in bytes (64..65,536). @default {WEBRTC_DEFAULT_MTU} (16,384) */
  mtu?: number;
  /** STUN/TURN servers (`RTCConfiguration.iceServers`). None: no packet goes to any STUN server. @default {[]} */
  iceServers?: readonly Record<string, unknown>[];
  /** Gather only a 127.0.0.1 host candidate (one machine, tests). @default {false} */
  loopbackOnly?: boolean;
  /** Give up a connection attempt that has no open channel after this many ms. @default {10_000} */
  connectTimeoutMs?: number;
  /** Resend an unanswered offer this often, in ms. @default {1_000} */
  offerResendMs?: number;
  /** Wait at most this long for ICE gathering before signaling what was gathered, in ms. @default {3_000} */
  gatherTimeoutMs?: number;
  /** Channel `bufferedAmount` above which packets are held, in bytes. @default {65_536} */
  maxBufferedBytes?: number;
  /**
   * Bytes held per peer while the channel is above `maxBufferedBytes` (more are dropped). Enough
   * for the Transport Manager's window, so that a burst waits here instead of being resent.
   * @default {8_388_608}
   */
  holdBytes?: number;
  /** Back-off before a new attempt after a failed one, in ms (doubles up to 10 s). @default {250} */
  retryMs?: number;
}

/** Counters of a {@link WebRtcTransport}. */
export interface WebRtcTransportStats {
  /** Packets handed to a data channel. */
  packetsSent: number;
  /** Packets received. */
  packetsReceived: number;
  /** Packets dropped (no channel, hold queue full, closed). */
  packetsDropped: number;
  /** Data channels that opened. */
  channelsOpened: number;
  /** Connection attempts that failed or channels that closed. */
  channelsFailed: number;
  /** Signaling messages that failed to decode. */
  decodeErrors: number;
}

interface Attempt {
  readonly session: number;
  readonly role: "offerer" | "answerer";
  readonly pc: PeerConnectionLike;
  readonly channel: DataChannelLike;
  open: boolean;
  answered: boolean;
  localSdp: string | undefined;
  timers: ReturnType<typeof setTimeout>[];
  hold: Uint8Array[];
  holdBytes: number;
}

interface Peer {
  readonly address: string;
  readonly signalTo: string;
  readonly remoteId: string;
  attempt: Attempt | undefined;
  opened: boolean;
  failures: number;
  retryAt: number;
  queue: Uint8Array[];
  waiters: Array<(open: boolean) => void>;
}

const FIRST_ATTEMPT_QUEUE = 256;

/** A {@link PacketTransport} over WebRTC data channels; see the module documentation. */
export class WebRtcTransport implements PacketTransport {
  /** Always `"webrtc"`. */
  readonly kind = "webrtc";
  /** Every data channel message arrives in a buffer of its own (werift and browsers): see {@link PacketTransport.handsOverPackets}. */
  readonly handsOverPackets = true;
  /** Address schemes this backend sends to. */
  readonly schemes: readonly string[] = WEBRTC_SCHEMES;
  /** Largest packet payload. */
  readonly mtu: number;
  /** Counters since creation. */
  readonly stats: WebRtcTransportStats = {
    packetsSent: 0,
    packetsReceived: 0,
    packetsDropped: 0,
    channelsOpened: 0,
    channelsFailed: 0,
    decodeErrors: 0,
  };
  /** The implementation in use (`"native"` or `"werift"`). */
  readonly implementation: RtcImplementation["name"];
  readonly #impl: RtcImplementation;
  readonly #signaling: WebSocketTransport;
  readonly #config: Record<string, unknown>;
  readonly #hasStun: boolean;
  readonly #opts: Required<Omit<WebRtcCoreOptions, "mtu" | "iceServers" | "loopbackOnly">>;
  readonly #peers = new Map<string, Peer>();
  #handler: PacketHandler | undefined;
  #closed = false;
  #addressHandler: (() => void) | undefined;
  readonly #unwatchAddresses: () => void;

  /**
   * Uses `signaling` for offers and answers (it keeps its own packet handler; this transport only
   * takes its signaling lane). The caller keeps ownership of `signaling`.
   * @throws {RangeError} for an invalid option.
   */
  constructor(signaling: WebSocketTransport, impl: RtcImplementation, options: WebRtcCoreOptions = {}) {
    this.#signaling = signaling;
    this.#impl = impl;
    this.implementation = impl.name;
    this.mtu = options.mtu ?? WEBRTC_DEFAULT_MTU;
    if (!Number.isInteger(this.mtu) || this.mtu < 64 || this.mtu > 65_536) {
      throw new RangeError("'mtu' must be an integer 64..65536");
    }
    const iceServers = options.iceServers ?? [];
    this.#hasStun = iceServers.length > 0;
    this.#config = peerConfig(impl, { iceServers, loopbackOnly: options.loopbackOnly ?? false });
    this.#opts = {
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      offerResendMs: options.offerResendMs ?? 1_000,
      gatherTimeoutMs: options.gatherTimeoutMs ?? 3_000,
      maxBufferedBytes: options.maxBufferedBytes ?? 65_536,
      holdBytes: options.holdBytes ?? 8 * 1024 * 1024,
      retryMs: options.retryMs ?? 250,
    };
    signaling.onSignal((from, bytes) => this.#onSignal(from, bytes));
    // This endpoint's addresses follow the servers its signaling transport is attached to.
    this.#unwatchAddresses = signaling._watchAddresses(() => this.#addressHandler?.());
    // The peer's tab or process detached from the signaling server: its channel is most likely
    // dead too, though werift may not notice for many seconds. Count it failed now.
    signaling.onGone((relay) => {
      const address = webRtcAddressOf(relay);
      const peer = address === undefined ? undefined : this.#peers.get(address);
      if (peer?.attempt !== undefined) this.#end(peer, peer.attempt, true);
    });
  }

  /** Addresses at which peers reach this endpoint: one per server its signaling transport uses. */
  get addresses(): readonly string[] {
    const list: string[] = [];
    for (const a of this.#signaling.addresses) {
      const parsed = tryParseWebSocketAddress(a);
      if (parsed === undefined) continue;
      list.push(webRtcAddress(parsed.server, parsed.relayId ?? this.#signaling.id));
    }
    return list;
  }

  /** Whether {@link WebRtcTransport.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Registers the handler for incoming packets (a later call replaces it). */
  onPacket(fn: PacketHandler): void {
    this.#handler = fn;
  }

  /** Registers the function called when {@link WebRtcTransport.addresses} changed (a later call replaces it). */
  onAddressChange(fn: () => void): void {
    this.#addressHandler = fn;
  }

  /**
   * Sends one packet, best effort (copied at once). Opens a connection to the peer on first use;
   * packets wait for that first channel, and are dropped while a later one is being re-established.
   * @throws {RangeError} when the packet is larger than {@link WebRtcTransport.mtu}.
   */
  send(to: string, packet: Uint8Array): void {
    if (packet.length > this.mtu) {
      throw new RangeError(`packet of ${packet.length} bytes exceeds the mtu (${this.mtu})`);
    }
    if (this.#closed) return;
    const peer = this.#peer(to);
    if (peer === undefined) {
      this.stats.packetsDropped++;
      return;
    }
    const a = peer.attempt;
    if (a !== undefined && a.open) {
      this.#write(a, packet);
      return;
    }
    if (!peer.opened && peer.failures === 0 && peer.queue.length < FIRST_ATTEMPT_QUEUE) {
      peer.queue.push(packet.slice());
    } else {
      this.stats.packetsDropped++;
    }
    this.#ensureAttempt(peer);
  }

  /**
   * Whether packets to `to` cannot go out now: its channel is not open, and it is not the first
   * attempt (or signaling to the peer is known to fail). Asking starts an attempt when one is due.
   */
  isUnreachable(to: string): boolean {
    if (this.#closed) return true;
    const peer = this.#peer(to);
    if (peer === undefined) return true;
    if (peer.attempt?.open === true) return false;
    this.#ensureAttempt(peer);
    if (this.#signaling.isUnreachable(peer.signalTo)) return true;
    return peer.opened || peer.failures > 0;
  }

  /**
   * Opens the data channel to `to` ahead of the first packet (it opens in 0.15–0.6 s on loopback).
   * Resolves `true` once open, `false` when the attempt failed (a later send tries again).
   */
  connect(to: string): Promise<boolean> {
    const peer = this.#closed ? undefined : this.#peer(to);
    if (peer === undefined) return Promise.resolve(false);
    if (peer.attempt?.open === true) return Promise.resolve(true);
    const result = new Promise<boolean>((resolve) => peer.waiters.push(resolve));
    peer.retryAt = 0;
    this.#ensureAttempt(peer);
    return result;
  }

  /**
   * Closes the connection to `to` and tells the peer (BYE). Both sides count it as a failed
   * connection: the address is unreachable until a new attempt after the back-off succeeds.
   */
  disconnect(to: string): void {
    const peer = this.#peers.get(to);
    const a = peer?.attempt;
    if (peer === undefined || a === undefined) return;
    this.#signal(peer, { type: "bye", session: a.session });
    this.#end(peer, a, true);
  }

  /** Whether a data channel to `to` is open now. */
  isOpen(to: string): boolean {
    return this.#peers.get(to)?.attempt?.open === true;
  }

  /** Closes every peer connection (telling peers with BYE); does not close the signaling transport. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#handler = undefined;
      this.#addressHandler = undefined;
      this.#unwatchAddresses();
      for (const peer of this.#peers.values()) {
        const a = peer.attempt;
        if (a === undefined) continue;
        this.#signal(peer, { type: "bye", session: a.session });
        this.#end(peer, a, false);
      }
    }
    return Promise.resolve();
  }

  #peer(address: string): Peer | undefined {
    let peer = this.#peers.get(address);
    if (peer === undefined) {
      const signalTo = signalingAddressOf(address);
      const remoteId = signalTo === undefined ? undefined : tryParseWebSocketAddress(signalTo)?.relayId;
      if (signalTo === undefined || remoteId === undefined) return undefined;
      peer = {
        address,
        signalTo,
        remoteId,
        attempt: undefined,
        opened: false,
        failures: 0,
        retryAt: 0,
        queue: [],
        waiters: [],
      };
      this.#peers.set(address, peer);
    }
    return peer;
  }

  #write(a: Attempt, packet: Uint8Array): void {
    if (a.hold.length > 0 || a.channel.bufferedAmount > this.#opts.maxBufferedBytes) {
      if (a.holdBytes + packet.length > this.#opts.holdBytes) {
        this.stats.packetsDropped++;
        return;
      }
      a.hold.push(packet.slice());
      a.holdBytes += packet.length;
      return;
    }
    try {
      a.channel.send(channelPayload(this.#impl, packet));
      this.stats.packetsSent++;
    } catch {
      this.stats.packetsDropped++;
    }
  }

  #drain(a: Attempt): void {
    while (a.hold.length > 0 && a.open && a.channel.bufferedAmount <= this.#opts.maxBufferedBytes) {
      const p = a.hold.shift()!;
      a.holdBytes -= p.length;
      try {
        a.channel.send(channelPayload(this.#impl, p));
        this.stats.packetsSent++;
      } catch {
        this.stats.packetsDropped++;
      }
    }
  }

  #ensureAttempt(peer: Peer): void {
    if (this.#closed || peer.attempt !== undefined || Date.now() < peer.retryAt) return;
    void this.#offer(peer);
  }

  #newAttempt(peer: Peer, session: number, role: Attempt["role"]): Attempt {
    const pc = new this.#impl.RTCPeerConnection(this.#config);
    const channel = (pc as unknown as {
      createDataChannel(label: string, init: Record<string, unknown>): DataChannelLike;
    }).createDataChannel("raincore", { ordered: false, maxRetransmits: 0, negotiated: true, id: 0 });
    const a: Attempt = {
      session,
      role,
      pc,
      channel,
      open: false,
      answered: false,
      localSdp: undefined,
      timers: [],
      hold: [],
      holdBytes: 0,
    };
    peer.attempt = a;
    channel.bufferedAmountLowThreshold = Math.floor(this.#opts.maxBufferedBytes / 2);
    onChannel(this.#impl, channel, {
      open: () => this.#opened(peer, a),
      close: () => this.#end(peer, a, true),
      message: (bytes) => {
        if (peer.attempt !== a || this.#closed) return;
        this.stats.packetsReceived++;
        this.#handler?.(peer.address, bytes);
      },
      bufferedLow: () => this.#drain(a),
    });
    onPeerState(pc, () => {
      const s = pc.connectionState;
      if (s === "failed" || s === "closed") this.#end(peer, a, true);
    });
    a.timers.push(setTimeout(() => {
      if (!a.open) this.#end(peer, a, true);
    }, this.#opts.connectTimeoutMs));
    return a;
  }

  #opened(peer: Peer, a: Attempt): void {
    if (peer.attempt !== a || a.open || this.#closed) return;
    a.open = true;
    peer.opened = true;
    peer.failures = 0;
    this.stats.channelsOpened++;
    for (const t of a.timers) clearTimeout(t);
    a.timers = [];
    const queue = peer.queue;
    peer.queue = [];
    for (const p of queue) this.#write(a, p);
    settle(peer, true);
  }

  /** Ends an attempt; `failed` counts it and schedules the back-off. */
  #end(peer: Peer, a: Attempt, failed: boolean): void {
    if (peer.attempt !== a) return;
    peer.attempt = undefined;
    for (const t of a.timers) clearTimeout(t);
    a.timers = [];
    a.hold = [];
    if (failed && !this.#closed) {
      this.stats.channelsFailed++;
      peer.failures++;
      peer.queue = [];
      peer.retryAt = Date.now() + Math.min(10_000, this.#opts.retryMs * 2 ** Math.min(10, peer.failures - 1));
    }
    settle(peer, false);
    try {
      a.channel.close();
    } catch { /* closed */ }
    try {
      void Promise.resolve(a.pc.close()).catch(() => undefined);
    } catch { /* closed */ }
  }

  #signal(peer: Peer, s: Signal): void {
    this.#signaling.sendSignal(peer.signalTo, encodeSignal(s));
  }

  async #gathered(a: Attempt): Promise<string | undefined> {
    const deadline = Date.now() + this.#opts.gatherTimeoutMs;
    while (a.pc.iceGatheringState !== "complete" && Date.now() < deadline && !this.#closed) {
      await new Promise((r) => setTimeout(r, 10));
    }
    return a.pc.localDescription?.sdp;
  }

  async #offer(peer: Peer): Promise<void> {
    const session = (Math.random() * 0x1_0000_0000) >>> 0;
    const a = this.#newAttempt(peer, session, "offerer");
    try {
      const offer = await a.pc.createOffer();
      await prepareLocalDescription(this.#impl, a.pc, offer, this.#hasStun);
      const sdp = await this.#gathered(a);
      if (peer.attempt !== a || sdp === undefined) return;
      a.localSdp = sdp;
      const resend = (): void => {
        if (peer.attempt !== a || a.answered || this.#closed) return;
        this.#signal(peer, { type: "offer", session, sdp });
        a.timers.push(setTimeout(resend, this.#opts.offerResendMs));
      };
      resend();
    } catch {
      this.#end(peer, a, true);
    }
  }

  async #answer(peer: Peer, session: number, sdp: string): Promise<void> {
    const a = this.#newAttempt(peer, session, "answerer");
    try {
      await a.pc.setRemoteDescription({ type: "offer", sdp });
      const answer = await a.pc.createAnswer();
      await prepareLocalDescription(this.#impl, a.pc, answer, this.#hasStun);
      const local = await this.#gathered(a);
      if (peer.attempt !== a || local === undefined) return;
      a.localSdp = local;
      this.#signal(peer, { type: "answer", session, sdp: local });
    } catch {
      this.#end(peer, a, true);
    }
  }

  #onSignal(from: string, bytes: Uint8Array): void {
    if (this.#closed) return;
    let s: Signal;
    try {
      s = decodeSignal(bytes);
    } catch {
      this.stats.decodeErrors++; // decodeSignal throws DecodeError only
      return;
    }
    const address = webRtcAddressOf(from);
    const peer = address === undefined ? undefined : this.#peer(address);
    if (peer === undefined) return;
    const a = peer.attempt;
    if (s.type === "offer") {
      if (a !== undefined && a.session === s.session) {
        // A resent offer: our answer was lost.
        if (a.role === "answerer" && a.localSdp !== undefined) {
          this.#signal(peer, { type: "answer", session: a.session, sdp: a.localSdp });
        }
        return;
      }
      if (a !== undefined && a.role === "offerer" && !a.open && this.#signaling.id > peer.remoteId) {
        return; // both offered at once: the endpoint with the greater relay ID keeps its offer
      }
      if (a !== undefined) this.#end(peer, a, false); // a new session replaces the old one
      peer.retryAt = 0;
      void this.#answer(peer, s.session, s.sdp);
    } else if (s.type === "answer") {
      if (a === undefined || a.role !== "offerer" || a.session !== s.session || a.answered) return;
      a.answered = true;
      a.pc.setRemoteDescription({ type: "answer", sdp: s.sdp }).catch(() => this.#end(peer, a, true));
    } else if (a !== undefined && a.session === s.session) {
      this.#end(peer, a, true); // BYE
    }
  }
}

function settle(peer: Peer, open: boolean): void {
  const waiters = peer.waiters;
  peer.waiters = [];
  for (const w of waiters) w(open);
}
