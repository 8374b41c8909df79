/**
 * The signaling messages of the WebRTC backend, carried on the signaling lane of the WebSocket
 * backend (`WebSocketTransport.sendSignal`). Candidates travel inside the SDP (no trickle: the
 * backend waits for ICE gathering to complete), so three messages suffice:
 *
 * ```
 * [version=1][type u8][session u32 BE][sdp length u32 BE][sdp, UTF-8]
 * type 1 OFFER, 2 ANSWER (sdp present); 3 BYE (sdp length 0: the session is over)
 * ```
 * `session` names one connection attempt, chosen by the offerer; the answer and a BYE repeat it.
 * {@link decodeSignal} throws {@link DecodeError} and nothing else for malformed bytes.
 * @module
 */

import { DecodeError } from "../../../base/errors.ts";

/** Version byte of every signaling message. */
export const SIGNAL_VERSION = 1;
/** Largest SDP accepted, in bytes. */
export const MAX_SDP_BYTES = 64 * 1024;

/** A signaling message. */
export type Signal =
  | { type: "offer" | "answer"; session: number; sdp: string }
  | { type: "bye"; session: number };

const TYPES = ["offer", "answer", "bye"] as const;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes a signaling message.
 * @throws {RangeError} for a session outside 0..2^32−1 or an SDP over {@link MAX_SDP_BYTES}.
 */
export function encodeSignal(s: Signal): Uint8Array {
  if (!Number.isInteger(s.session) || s.session < 0 || s.session > 0xffff_ffff) {
    throw new RangeError("session must be a u32");
  }
  const sdp = s.type === "bye" ? new Uint8Array(0) : encoder.encode(s.sdp);
  if (sdp.length > MAX_SDP_BYTES) throw new RangeError(`SDP of ${sdp.length} bytes is too large`);
  const out = new Uint8Array(10 + sdp.length);
  const view = new DataView(out.buffer);
  out[0] = SIGNAL_VERSION;
  out[1] = TYPES.indexOf(s.type) + 1;
  view.setUint32(2, s.session);
  view.setUint32(6, sdp.length);
  out.set(sdp, 10);
  return out;
}

/**
 * Decodes a signaling message.
 * @throws {DecodeError} for anything else.
 */
export function decodeSignal(bytes: Uint8Array): Signal {
  if (bytes.length < 10) throw new DecodeError(`signal of ${bytes.length} bytes is too short`);
  if (bytes[0] !== SIGNAL_VERSION) throw new DecodeError(`unknown signal version ${bytes[0]}`);
  const type = TYPES[bytes[1] - 1];
  if (type === undefined) throw new DecodeError(`unknown signal type ${bytes[1]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const session = view.getUint32(2);
  const length = view.getUint32(6);
  if (length !== bytes.length - 10) throw new DecodeError("SDP length does not match the message");
  if (type === "bye") {
    if (length !== 0) throw new DecodeError("BYE carries no SDP");
    return { type, session };
  }
  if (length === 0 || length > MAX_SDP_BYTES) throw new DecodeError(`bad SDP length ${length}`);
  let sdp: string;
  try {
    sdp = decoder.decode(bytes.subarray(10));
  } catch {
    throw new DecodeError("SDP is not UTF-8");
  }
  return { type, session, sdp };
}
