/**
 * Which `RTCPeerConnection` the WebRTC backend uses, and the few places where werift and the
 * browsers' native implementation differ. Browsers: the global `RTCPeerConnection`. Node and Deno:
 * `werift` (an optional peer dependency of the npm package), loaded only when a WebRTC transport is
 * created, so browser bundles and UDP/WebSocket-only installs never need it; without it
 * {@link loadRtc} rejects with {@link MissingDependencyError}.
 *
 * No packet may leave the host unless asked: werift gathers a server-reflexive candidate from
 * `stun.l.google.com:19302` even with `iceServers: []` (its ICE agent falls back to that server and
 * no option turns it off), so {@link prepareLocalDescription} clears the agent's STUN server before
 * every gathering, and refuses to go on if it cannot.
 * @module
 */

import { MissingDependencyError } from "../../../base/errors.ts";

/** A session description as both implementations take it. */
export interface SessionDescriptionLike {
  /** `"offer"` or `"answer"`. */
  type: string;
  /** The SDP text. */
  sdp: string;
}

/** The subset of `RTCDataChannel` the backend uses (native and werift). */
export interface DataChannelLike {
  /** `"connecting"`, `"open"`, `"closing"` or `"closed"`. */
  readonly readyState: string;
  /** Bytes queued by `send()`. */
  readonly bufferedAmount: number;
  /** Threshold of the `bufferedamountlow` event. */
  bufferedAmountLowThreshold: number;
  /** Sends one message. */
  send(data: Uint8Array): void;
  /** Closes the channel. */
  close(): void;
}

/** The subset of `RTCPeerConnection` the backend uses. */
export interface PeerConnectionLike {
  /** ICE gathering state. */
  readonly iceGatheringState: string;
  /** Overall connection state. */
  readonly connectionState: string;
  /** The local description once set. */
  readonly localDescription: SessionDescriptionLike | null;
  /** Creates an offer. */
  createOffer(): Promise<SessionDescriptionLike>;
  /** Creates an answer. */
  createAnswer(): Promise<SessionDescriptionLike>;
  /** Sets the local description (starts gathering). */
  setLocalDescription(d: SessionDescriptionLike): Promise<void>;
  /** Sets the remote description. */
  setRemoteDescription(d: SessionDescriptionLike): Promise<void>;
  /** Closes the connection. */
  close(): void | Promise<void>;
}

/** Configuration handed to the `RTCPeerConnection` constructor. */
export type PeerConnectionConfig = Record<string, unknown>;

/** A constructor of peer connections, like the global `RTCPeerConnection`. */
export type PeerConnectionConstructorLike = new (config: PeerConnectionConfig) => PeerConnectionLike;

/** The implementation in use and how to drive its differences. */
export interface RtcImplementation {
  /** `"native"` (browsers) or `"werift"`. */
  readonly name: "native" | "werift";
  /** The constructor. */
  readonly RTCPeerConnection: PeerConnectionConstructorLike;
}

/** Options that decide the peer connection configuration. */
export interface RtcConfigOptions {
  /** ICE servers (STUN/TURN), as in `RTCConfiguration.iceServers`. */
  iceServers: readonly Record<string, unknown>[];
  /** Gather only a host candidate on 127.0.0.1 (tests, one machine). */
  loopbackOnly: boolean;
}

/** The specifier in one place; a literal so that Deno and the bundlers see it. */
async function loadWerift(): Promise<PeerConnectionConstructorLike> {
  try {
    const mod = await import("werift");
    return mod.RTCPeerConnection as unknown as PeerConnectionConstructorLike;
  } catch (err) {
    throw new MissingDependencyError("werift", "the WebRTC backend on Node and Deno", { cause: err });
  }
}

/**
 * Picks the implementation: the injected constructor (native semantics assumed unless `name`
 * says werift), the browser's global `RTCPeerConnection`, else werift.
 */
export async function loadRtc(
  injected?: PeerConnectionConstructorLike,
  name?: "native" | "werift",
): Promise<RtcImplementation> {
  if (injected !== undefined) return { name: name ?? "native", RTCPeerConnection: injected };
  const g = globalThis as { RTCPeerConnection?: PeerConnectionConstructorLike; Deno?: unknown };
  if (typeof g.RTCPeerConnection === "function" && g.Deno === undefined) {
    return { name: "native", RTCPeerConnection: g.RTCPeerConnection };
  }
  return { name: "werift", RTCPeerConnection: await loadWerift() };
}

/** The `RTCPeerConnection` configuration for an implementation. */
export function peerConfig(impl: RtcImplementation, opts: RtcConfigOptions): PeerConnectionConfig {
  const config: PeerConnectionConfig = { iceServers: [...opts.iceServers] };
  if (impl.name === "werift" && opts.loopbackOnly) {
    // werift skips loopback interfaces; these four together advertise a working 127.0.0.1 host
    // candidate (iceInterfaceAddresses alone advertises a broken one).
    config.iceUseIpv4 = false;
    config.iceUseIpv6 = false;
    config.iceAdditionalHostAddresses = ["127.0.0.1"];
    config.iceInterfaceAddresses = { udp4: "127.0.0.1" };
  }
  return config;
}

interface WeriftIceAgent {
  stunServer?: unknown;
}

/**
 * Sets the local description. With werift and no STUN server configured, first clears the ICE
 * agents' fallback STUN server (see the module documentation).
 * @throws {Error} when werift's internals changed and the fallback cannot be cleared.
 */
export async function prepareLocalDescription(
  impl: RtcImplementation,
  pc: PeerConnectionLike,
  description: SessionDescriptionLike,
  hasStun: boolean,
): Promise<void> {
  if (impl.name === "werift" && !hasStun) {
    const transports = (pc as unknown as { iceTransports?: Array<{ connection?: WeriftIceAgent }> })
      .iceTransports;
    if (!Array.isArray(transports) || transports.length === 0) {
      throw new Error("werift: no ICE transport to clear the default STUN server on; refusing to gather");
    }
    for (const t of transports) {
      if (t.connection === undefined || !("stunServer" in t.connection)) {
        throw new Error(
          "werift: cannot clear the default STUN server (internals changed); refusing to gather",
        );
      }
      t.connection.stunServer = undefined;
    }
  }
  await pc.setLocalDescription(description);
}

/** Subscribes to a data channel's events in either implementation. */
export function onChannel(
  impl: RtcImplementation,
  channel: DataChannelLike,
  on: {
    open: () => void;
    close: () => void;
    message: (bytes: Uint8Array) => void;
    bufferedLow: () => void;
  },
): void {
  const c = channel as unknown as {
    onopen: (() => void) | null;
    onclose: (() => void) | null;
    onerror: (() => void) | null;
    onmessage: ((ev: { data: unknown }) => void) | null;
    onbufferedamountlow: (() => void) | null;
    binaryType: string;
    bufferedAmountLow?: { subscribe(fn: () => void): unknown };
  };
  c.binaryType = "arraybuffer";
  c.onopen = on.open;
  c.onclose = on.close;
  c.onerror = on.close;
  c.onmessage = (ev) => {
    const d = ev.data;
    if (d instanceof ArrayBuffer) on.message(new Uint8Array(d));
    else if (ArrayBuffer.isView(d)) on.message(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  };
  if (impl.name === "werift" && c.bufferedAmountLow !== undefined) {
    c.bufferedAmountLow.subscribe(on.bufferedLow);
  } else c.onbufferedamountlow = on.bufferedLow;
}

/** Subscribes to connection-state and gathering-state changes in either implementation. */
export function onPeerState(pc: PeerConnectionLike, fn: () => void): void {
  const p = pc as unknown as {
    onconnectionstatechange: (() => void) | null;
    onicegatheringstatechange: (() => void) | null;
  };
  p.onconnectionstatechange = fn;
  p.onicegatheringstatechange = fn;
}

/** Copies a packet into what the implementation's `send` takes (werift wants a Node Buffer). */
export function channelPayload(impl: RtcImplementation, packet: Uint8Array): Uint8Array {
  if (impl.name === "werift") {
    const B = (globalThis as { Buffer?: { from(a: Uint8Array): Uint8Array } }).Buffer;
    if (B !== undefined) return B.from(packet);
  }
  return packet.slice();
}
