/**
 * The WebSocket backend beyond the compliance suite: fail-fast reachability (NO_ROUTE, a closed
 * server), redial with back-off after a server restart, `accept()` fed by a server the backend
 * did not start, and the wire formats (frames, signals, addresses) rejecting bad bytes with
 * DecodeError only.
 */
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { DecodeError } from "../../base/errors.ts";
import { DeliveryFailedError } from "../../transport/errors.ts";
import { TransportManager } from "../../transport/manager.ts";
import { signalingAddressOf, webRtcAddressOf } from "../../transport/backends/webrtc/address.ts";
import { decodeSignal, encodeSignal } from "../../transport/backends/webrtc/signal_codec.ts";
import {
  parseWebSocketAddress,
  tryParseWebSocketAddress,
} from "../../transport/backends/websocket/address.ts";
import {
  decodeFrame,
  encodeDataFrame,
  encodeRelayFrame,
  FRAME_RELAY,
  relayIdBytes,
} from "../../transport/backends/websocket/frame.ts";
import {
  createWebSocketTransport,
  type WebSocketLike,
  type WebSocketTransport,
} from "../../transport/backends/websocket/mod.ts";
import { until } from "../helpers/until.ts";
import { withDeadline } from "./compliance.ts";

const open: Array<{ close(): Promise<void> | void }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});
async function ws(opts: Parameters<typeof createWebSocketTransport>[0]): Promise<WebSocketTransport> {
  const t = await createWebSocketTransport(opts);
  open.push(t);
  return t;
}

describe("WebSocket backend: reachability and redial", () => {
  it("fails a relay address at once when the server has no such client (NO_ROUTE)", async () => {
    const hub = await ws({ listen: { port: 0 } });
    const a = await ws({ id: "a", servers: [hub.addresses[0]] });
    const tm = new TransportManager({ nodeId: "a", transports: [a] });
    open.push(tm);
    const ghost = `relay+${hub.addresses[0]}#ghost`;
    tm.setAddresses("ghost", [ghost]);
    const err = await withDeadline(
      tm.send("ghost", 1, new Uint8Array(1)).catch((e: unknown) => e),
      10_000,
      "failure",
    );
    expect(err).toBeInstanceOf(DeliveryFailedError);
    // Without NO_ROUTE the send would fail only after the whole resend budget (200 + 400 + 800 +
    // 1000 + 1000 ms by default); with it, the address counts as unreachable at the first RTO, so
    // the failure names that and at most that one resend was attempted.
    expect((err as DeliveryFailedError).message).toContain("every address unreachable");
    expect(tm.stats.retransmissions).toBeLessThanOrEqual(1);
    expect(a.isUnreachable(ghost)).toBe(true);
  });

  it("tells the other clients when a client detaches (GONE), so its relay address fails at once", async () => {
    const hub = await ws({ listen: { port: 0 } });
    const a = await ws({ id: "a", servers: [hub.addresses[0]] });
    const b = await createWebSocketTransport({ id: "b", servers: [hub.addresses[0]] });
    const relayB = `relay+${hub.addresses[0]}#b`;
    const atA = new Promise<string>((resolve) => a.onGone(resolve));
    const atHub = new Promise<string>((resolve) => hub.onGone(resolve));
    expect(a.isUnreachable(relayB)).toBe(false);
    await b.close();
    expect(await withDeadline(atA, 5_000, "GONE at a")).toBe(relayB);
    expect(await withDeadline(atHub, 5_000, "GONE at the server")).toBe(relayB);
    expect(a.isUnreachable(relayB)).toBe(true);
    expect(hub.isUnreachable(relayB)).toBe(true);
  });

  it("counts a closed server as unreachable and redials it when it is back", async () => {
    const hub = await ws({ listen: { port: 0 } });
    const port = Number(new URL(hub.addresses[0]).port);
    const client = await ws({
      id: "c",
      servers: [hub.addresses[0]],
      reconnect: { initialMs: 20, maxMs: 100 },
    });
    const b = await ws({ id: "b", servers: [hub.addresses[0]], reconnect: { initialMs: 20, maxMs: 100 } });
    const relayB = `relay+${hub.addresses[0]}#b`;
    expect(client.isUnreachable(relayB)).toBe(false);
    await hub.close();
    await until("the client sees the server gone", 5_000, () => client.isUnreachable(hub.addresses[0]));
    expect(client.isUnreachable(relayB)).toBe(true);
    const again = await ws({ listen: { port } });
    expect(again.addresses[0]).toBe(hub.addresses[0]);
    await until(
      "both clients redialled",
      5_000,
      () => !client.isUnreachable(hub.addresses[0]) && !b.isUnreachable(hub.addresses[0]),
    );
    const got = new Promise<string>((resolve) => b.onPacket((from) => resolve(from)));
    // b's HELLO may trail its open by a moment: resend until it arrives.
    const timer = setInterval(() => client.send(relayB, new Uint8Array([1])), 20);
    try {
      expect(await withDeadline(got, 5_000, "relayed packet after the restart")).toBe(
        `relay+${hub.addresses[0]}#c`,
      );
    } finally {
      clearInterval(timer);
    }
    expect(client.stats.connectionsOpened).toBeGreaterThanOrEqual(2);
  });

  it("accept() serves sockets from a server it did not start (an edge runtime's upgrade)", async () => {
    const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((r) => server.once("listening", () => r()));
    const port = (server.address() as { port: number }).port;
    const edge = await ws({ id: "edge", advertise: [`ws://127.0.0.1:${port}/`] });
    server.on("connection", (socket) => edge.accept(socket as unknown as WebSocketLike));
    open.push({ close: () => new Promise<void>((r) => server.close(() => r())) });
    const client = await ws({ id: "client" });
    const echo = new Promise<Uint8Array>((resolve) => client.onPacket((_, p) => resolve(p.slice())));
    edge.onPacket((from, p) => edge.send(from, p.slice().reverse()));
    expect(edge.addresses).toEqual([`ws://127.0.0.1:${port}/`]);
    client.send(edge.addresses[0], new Uint8Array([1, 2, 3]));
    expect(await withDeadline(echo, 5_000, "echo through accept()")).toEqual(new Uint8Array([3, 2, 1]));
  });
});

/** Random mutations of valid messages plus random bytes: decoders throw DecodeError or return. */
function fuzz(valid: Uint8Array[], decode: (b: Uint8Array) => unknown): number {
  let x = 12345;
  const rnd = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  let rejected = 0;
  for (let i = 0; i < 20_000; i++) {
    let b: Uint8Array;
    if (i % 3 === 0) {
      b = new Uint8Array(Math.floor(rnd() * 40)).map(() => Math.floor(rnd() * 256));
    } else {
      const base = valid[i % valid.length];
      b = base.slice(0, Math.floor(rnd() * (base.length + 1)));
      for (let k = 0; k < 3 && b.length > 0; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
    }
    try {
      decode(b);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      rejected++;
    }
  }
  return rejected;
}

describe("web wire formats", () => {
  it("frames round-trip and bad bytes throw DecodeError only", () => {
    const data = encodeDataFrame(0, new Uint8Array([9, 8]));
    expect(decodeFrame(data)).toMatchObject({ type: 2, lane: 0, payload: new Uint8Array([9, 8]) });
    const relay = encodeRelayFrame(FRAME_RELAY, 1, relayIdBytes("tab-ü"), new Uint8Array([7]));
    expect(decodeFrame(relay)).toMatchObject({ type: 3, lane: 1, id: "tab-ü", payload: new Uint8Array([7]) });
    expect(() => decodeFrame(new Uint8Array([2, 2, 0]))).toThrow(DecodeError);
    expect(fuzz([data, relay], decodeFrame)).toBeGreaterThan(1_000);
  });

  it("signals round-trip and bad bytes throw DecodeError only", () => {
    const offer = encodeSignal({ type: "offer", session: 0xdeadbeef, sdp: "v=0\r\n" });
    expect(decodeSignal(offer)).toEqual({ type: "offer", session: 0xdeadbeef, sdp: "v=0\r\n" });
    const bye = encodeSignal({ type: "bye", session: 5 });
    expect(decodeSignal(bye)).toEqual({ type: "bye", session: 5 });
    expect(() => encodeSignal({ type: "bye", session: -1 })).toThrow(RangeError);
    expect(fuzz([offer, bye], decodeSignal)).toBeGreaterThan(1_000);
  });

  it("parses and maps addresses", () => {
    expect(parseWebSocketAddress("ws://127.0.0.1:8080")).toEqual({
      server: "ws://127.0.0.1:8080/",
      relayId: undefined,
    });
    expect(parseWebSocketAddress("relay+wss://edge.example/rc#tab%207")).toEqual({
      server: "wss://edge.example/rc",
      relayId: "tab 7",
    });
    for (const bad of ["http://x/", "relay+ws://h:1/", "relay+ws://h:1/#", "udp://1.2.3.4:5", "ws://h/#x"]) {
      expect(tryParseWebSocketAddress(bad)).toBeUndefined();
    }
    expect(signalingAddressOf("webrtc+ws://127.0.0.1:8080/#n1")).toBe("relay+ws://127.0.0.1:8080/#n1");
    expect(webRtcAddressOf("relay+ws://127.0.0.1:8080/#n1")).toBe("webrtc+ws://127.0.0.1:8080/#n1");
    expect(signalingAddressOf("webrtc+ws://127.0.0.1:8080/")).toBeUndefined();
  });
});
