/**
 * The wire format of the WebSocket backend: one binary WebSocket message per frame.
 *
 * ```
 * CHALLENGE [version=1][type=7][idLen u8][server relay id][nonce, 16 bytes]  server → client, first frame
 * HELLO     [version][type=1][idLen u8][relay id, UTF-8][proof, 0 or 32 bytes]  client → server, the answer
 * DATA      [version][type=2][lane u8][payload…]                    to the endpoint at the other end
 * RELAY     [version][type=3][lane][idLen][destination id][payload…] client → server: forward it
 * RELAYED   [version][type=4][lane][idLen][source id][payload…]      server → client: forwarded
 * NO_ROUTE  [version][type=5][idLen][destination id]                 server → client: no such client
 * GONE      [version][type=6][idLen][client id]                      server → clients: it detached
 * PING      [version][type=8][u32 token]                             server → client: still there?
 * PONG      [version][type=9][u32 token]                             client → server: yes
 * ```
 * A HELLO's proof (see `relay_auth.ts`) shows that the client holds a key for its relay ID; a server
 * with a key requires it. PING/PONG let a server ask whether the holder of a relay ID is still alive
 * when another connection claims the ID.
 * `lane` 0 carries Transport Manager packets, lane 1 WebRTC signaling (see
 * {@link WebSocketTransport.sendSignal}). {@link decodeFrame} throws {@link DecodeError} and nothing
 * else for bytes that are not a frame of this version.
 * @module
 */

import { DecodeError } from "../../../base/errors.ts";

/** Version byte of every frame. */
export const FRAME_VERSION = 1;
/** Frame types. */
export const FRAME_HELLO = 1;
/** @see FRAME_HELLO */
export const FRAME_DATA = 2;
/** @see FRAME_HELLO */
export const FRAME_RELAY = 3;
/** @see FRAME_HELLO */
export const FRAME_RELAYED = 4;
/** @see FRAME_HELLO */
export const FRAME_NO_ROUTE = 5;
/** @see FRAME_HELLO */
export const FRAME_GONE = 6;
/** @see FRAME_HELLO */
export const FRAME_CHALLENGE = 7;
/** @see FRAME_HELLO */
export const FRAME_PING = 8;
/** @see FRAME_HELLO */
export const FRAME_PONG = 9;
/** Bytes of a CHALLENGE's nonce. */
export const CHALLENGE_NONCE_BYTES = 16;
/** Bytes of a HELLO's proof. */
export const HELLO_PROOF_BYTES = 32;
/** Lane of Transport Manager packets. */
export const LANE_PACKET = 0;
/** Lane of WebRTC signaling messages. */
export const LANE_SIGNAL = 1;
/** Most header bytes a frame adds to its payload (RELAY/RELAYED with a 255-byte ID). */
export const MAX_FRAME_OVERHEAD = 4 + 255;

/** A decoded frame; `payload` is a view into the received bytes. */
export type Frame =
  | { type: typeof FRAME_HELLO; id: string; proof: Uint8Array | undefined }
  | { type: typeof FRAME_CHALLENGE; id: string; nonce: Uint8Array }
  | { type: typeof FRAME_PING | typeof FRAME_PONG; token: number }
  | { type: typeof FRAME_DATA; lane: number; payload: Uint8Array }
  | { type: typeof FRAME_RELAY | typeof FRAME_RELAYED; lane: number; id: string; payload: Uint8Array }
  | { type: typeof FRAME_NO_ROUTE | typeof FRAME_GONE; id: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** `[version][type][idLen][id][tail]`: the shape of HELLO, CHALLENGE, NO_ROUTE and GONE. */
function idFrame(type: number, id: string, tail?: Uint8Array): Uint8Array {
  const idBytes = encoder.encode(id);
  const out = new Uint8Array(3 + idBytes.length + (tail?.length ?? 0));
  out[0] = FRAME_VERSION;
  out[1] = type;
  out[2] = idBytes.length;
  out.set(idBytes, 3);
  if (tail !== undefined) out.set(tail, 3 + idBytes.length);
  return out;
}

/** Encodes a HELLO frame, with the proof of `relay_auth.ts` when the client holds a key. */
export function encodeHelloFrame(id: string, proof?: Uint8Array): Uint8Array {
  return idFrame(FRAME_HELLO, id, proof);
}

/** Encodes a CHALLENGE frame: the server's relay ID and a fresh 16-byte nonce. */
export function encodeChallengeFrame(serverId: string, nonce: Uint8Array): Uint8Array {
  return idFrame(FRAME_CHALLENGE, serverId, nonce);
}

/** Encodes a NO_ROUTE frame. */
export function encodeNoRouteFrame(id: string): Uint8Array {
  return idFrame(FRAME_NO_ROUTE, id);
}

/** Encodes a GONE frame. */
export function encodeGoneFrame(id: string): Uint8Array {
  return idFrame(FRAME_GONE, id);
}

/** Encodes a PING (`type` FRAME_PING) or PONG (FRAME_PONG) frame carrying `token` (u32). */
export function encodePingFrame(type: typeof FRAME_PING | typeof FRAME_PONG, token: number): Uint8Array {
  const out = new Uint8Array(6);
  out[0] = FRAME_VERSION;
  out[1] = type;
  new DataView(out.buffer).setUint32(2, token);
  return out;
}

/** Encodes a DATA frame (copies `payload`). */
export function encodeDataFrame(lane: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(3 + payload.length);
  out[0] = FRAME_VERSION;
  out[1] = FRAME_DATA;
  out[2] = lane;
  out.set(payload, 3);
  return out;
}

/** Encodes a RELAY or RELAYED frame; `idBytes` is the UTF-8 relay ID (copies `payload`). */
export function encodeRelayFrame(
  type: typeof FRAME_RELAY | typeof FRAME_RELAYED,
  lane: number,
  idBytes: Uint8Array,
  payload: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(4 + idBytes.length + payload.length);
  out[0] = FRAME_VERSION;
  out[1] = type;
  out[2] = lane;
  out[3] = idBytes.length;
  out.set(idBytes, 4);
  out.set(payload, 4 + idBytes.length);
  return out;
}

/** UTF-8 bytes of a relay ID. */
export function relayIdBytes(id: string): Uint8Array {
  return encoder.encode(id);
}

/**
 * Decodes one frame.
 * @throws {DecodeError} for anything that is not a well-formed frame of {@link FRAME_VERSION}.
 */
export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.length < 3) throw new DecodeError(`frame of ${bytes.length} bytes is too short`);
  if (bytes[0] !== FRAME_VERSION) throw new DecodeError(`unknown frame version ${bytes[0]}`);
  const type = bytes[1];
  switch (type) {
    case FRAME_HELLO: {
      const id = readId(bytes, 2);
      const rest = bytes.length - 3 - bytes[2];
      if (rest !== 0 && rest !== HELLO_PROOF_BYTES) throw new DecodeError("HELLO proof of the wrong size");
      return { type, id, proof: rest === 0 ? undefined : bytes.subarray(3 + bytes[2]) };
    }
    case FRAME_CHALLENGE: {
      const id = readId(bytes, 2);
      if (bytes.length - 3 - bytes[2] !== CHALLENGE_NONCE_BYTES) {
        throw new DecodeError("CHALLENGE nonce of the wrong size");
      }
      return { type, id, nonce: bytes.subarray(3 + bytes[2]) };
    }
    case FRAME_NO_ROUTE:
    case FRAME_GONE: {
      const id = readId(bytes, 2);
      if (3 + bytes[2] !== bytes.length) throw new DecodeError("trailing bytes after the relay ID");
      return { type, id };
    }
    case FRAME_PING:
    case FRAME_PONG:
      if (bytes.length !== 6) throw new DecodeError("PING/PONG frame of the wrong size");
      return { type, token: new DataView(bytes.buffer, bytes.byteOffset).getUint32(2) };
    case FRAME_DATA:
      return { type, lane: lane(bytes[2]), payload: bytes.subarray(3) };
    case FRAME_RELAY:
    case FRAME_RELAYED: {
      if (bytes.length < 4) throw new DecodeError("relay frame too short");
      const l = lane(bytes[2]);
      const id = readId(bytes, 3);
      return { type, lane: l, id, payload: bytes.subarray(4 + bytes[3]) };
    }
    default:
      throw new DecodeError(`unknown frame type ${type}`);
  }
}

function lane(value: number): number {
  if (value !== LANE_PACKET && value !== LANE_SIGNAL) throw new DecodeError(`unknown lane ${value}`);
  return value;
}

function readId(bytes: Uint8Array, at: number): string {
  const len = bytes[at];
  if (len === 0 || at + 1 + len > bytes.length) throw new DecodeError("bad relay ID length");
  try {
    return decoder.decode(bytes.subarray(at + 1, at + 1 + len));
  } catch {
    throw new DecodeError("relay ID is not UTF-8");
  }
}
