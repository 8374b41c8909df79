/**
 * The WebSocket server's rules and limits (real `ws` sockets on loopback): one live connection per
 * relay ID (the first holder keeps it; a dead one is replaced), relay IDs proven with a key, a cap
 * on connections, a deadline to identify, malformed frames, and slow readers closed instead of
 * buffered.
 */
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import {
  decodeFrame,
  encodeHelloFrame,
  encodeRelayFrame,
  FRAME_CHALLENGE,
  FRAME_RELAY,
  relayIdBytes,
} from "../../transport/backends/websocket/frame.ts";
import { CLOSE } from "../../transport/backends/websocket/inbound.ts";
import {
  createWebSocketTransport,
  type WebSocketTransport,
  type WebSocketTransportOptions,
} from "../../transport/backends/websocket/mod.ts";
import { InvalidKeyError } from "../../transport/errors.ts";
import { issueNodeCredential } from "../../transport/secure/keys.ts";
import { loadNodeCrypto } from "../../transport/secure/node_crypto.ts";
import { until } from "../helpers/until.ts";
import { withDeadline } from "./compliance.ts";

const open: Array<{ close(): Promise<void> | void }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});
async function ws(opts: WebSocketTransportOptions): Promise<WebSocketTransport> {
  const t = await createWebSocketTransport(opts);
  open.push(t);
  return t;
}
const CLUSTER_KEY = new Uint8Array(32).fill(5);

/** A bare `ws` client that plays by hand; `hello` answers the server's challenge with a HELLO. */
class RawClient {
  readonly socket: WebSocket;
  readonly frames: ReturnType<typeof decodeFrame>[] = [];
  closeCode: number | undefined;
  readonly closed: Promise<number>;
  constructor(url: string, answerPings = true) {
    this.socket = new WebSocket(url, { perMessageDeflate: false });
    this.socket.binaryType = "arraybuffer";
    this.socket.on("message", (data: ArrayBuffer) => {
      const f = decodeFrame(new Uint8Array(data));
      this.frames.push(f);
      if (f.type === 8 && answerPings) {
        this.socket.send(new Uint8Array([1, 9, ...new Uint8Array(data).slice(2)]));
      }
    });
    this.closed = new Promise((resolve) => this.socket.on("close", (code) => resolve(this.closeCode = code)));
    open.push({ close: () => void this.socket.terminate() });
  }
  async hello(id: string): Promise<void> {
    await until("CHALLENGE", 5_000, () => this.frames.some((f) => f.type === FRAME_CHALLENGE));
    this.socket.send(encodeHelloFrame(id));
  }
}

describe("WebSocket server: relay IDs", () => {
  it("without a key, the first live holder of a relay ID keeps it; a second claim is refused", async () => {
    const hub = await ws({ id: "hub", listen: { port: 0 } });
    const server = hub.addresses[0];
    const alpha = await ws({ id: "alpha", servers: [server] });
    const got: string[] = [];
    alpha.onPacket((from, p) => got.push(`${from} ${p[0]}`));
    const thief = new RawClient(server);
    await thief.hello("alpha");
    expect(await withDeadline(thief.closed, 5_000, "refusal")).toBe(CLOSE.inUse);
    expect(hub.stats.connectionsRefused).toBe(1);
    // The real alpha is still attached: a packet relayed to it arrives.
    const other = await ws({ id: "other", servers: [server] });
    await until("delivery to alpha", 5_000, () => {
      other.send(`relay+${server}#alpha`, new Uint8Array([7]));
      return got.length > 0;
    });
    expect(got[0]).toBe(`relay+${server}#other 7`);
  });

  it("a holder that no longer answers is replaced (a client reconnecting after its old socket hung)", async () => {
    const hub = await ws({ id: "hub", listen: { port: 0 }, claimCheckMs: 300 });
    const server = hub.addresses[0];
    const stale = new RawClient(server, false); // identifies, then never answers a PING
    await stale.hello("beta");
    await until("beta attached", 5_000, () => !hub.isUnreachable(`relay+${server}#beta`));
    const fresh = await ws({ id: "beta", servers: [server] });
    expect(await withDeadline(stale.closed, 5_000, "the stale holder cut off")).toBe(CLOSE.inUse);
    await until(
      "fresh beta attached",
      5_000,
      () => fresh.stats.connectionsOpened === 1 && hub.stats.connectionsRefused === 1,
    );
    expect(fresh.stats.helloRefused).toBe(0);
  });

  it("nobody may claim the server's own relay ID", async () => {
    const hub = await ws({ id: "hub", listen: { port: 0 } });
    const liar = new RawClient(hub.addresses[0]);
    await liar.hello("hub");
    expect(await withDeadline(liar.closed, 5_000, "refusal")).toBe(CLOSE.inUse);
  });

  it("with a key, a client must prove its relay ID: a credential is good for its own ID only", async () => {
    await loadNodeCrypto();
    const hub = await ws({ id: "hub", listen: { port: 0 }, key: CLUSTER_KEY });
    const server = hub.addresses[0];
    const tab1 = await issueNodeCredential(CLUSTER_KEY, "tab-1", ["hub", "alpha"]);
    const alpha = await ws({ id: "alpha", servers: [server], key: CLUSTER_KEY }); // a cluster-key holder
    const t1 = await ws({ id: "tab-1", servers: [server], key: tab1 });
    await until(
      "both attached",
      5_000,
      () => !hub.isUnreachable(`relay+${server}#alpha`) && !hub.isUnreachable(`relay+${server}#tab-1`),
    );
    expect(alpha.stats.helloRefused + t1.stats.helloRefused).toBe(0);
    // No proof: refused, whatever the ID.
    const bare = new RawClient(server);
    await bare.hello("tab-2");
    expect(await withDeadline(bare.closed, 5_000, "refusal")).toBe(CLOSE.notAuthenticated);
    // tab-1's credential cannot even be configured for another relay ID…
    await expect(createWebSocketTransport({ id: "alpha", servers: [server], key: tab1 })).rejects
      .toBeInstanceOf(
        InvalidKeyError,
      );
    // …and a wrong key's proof is refused (another cluster's key claiming alpha).
    const wrong = await ws({ id: "alpha", servers: [server], key: new Uint8Array(32).fill(6) });
    await until("wrong key refused", 5_000, () => wrong.stats.helloRefused > 0);
    expect(hub.isUnreachable(`relay+${server}#alpha`)).toBe(false); // the real alpha still holds it
  });
});

describe("WebSocket server: limits", () => {
  it("closes connections beyond maxConnections, ones that never identify, and ones sending garbage", async () => {
    const hub = await ws({ id: "hub", listen: { port: 0 }, maxConnections: 5, identifyTimeoutMs: 300 });
    const server = hub.addresses[0];
    const idle = Array.from({ length: 8 }, () => new RawClient(server));
    const codes = await Promise.all(idle.map((c) => withDeadline(c.closed, 5_000, "close")));
    expect(codes.filter((c) => c === CLOSE.tooMany).length).toBe(3);
    expect(codes.filter((c) => c === CLOSE.noHello).length).toBe(5);
    const garbage = new RawClient(server);
    await until("challenge", 5_000, () => garbage.frames.length > 0);
    garbage.socket.send(new Uint8Array([9, 9, 9, 9]));
    expect(await withDeadline(garbage.closed, 5_000, "close")).toBe(CLOSE.malformed);
    const text = new RawClient(server);
    await until("challenge", 5_000, () => text.frames.length > 0);
    text.socket.send("not binary");
    expect(await withDeadline(text.closed, 5_000, "close")).toBe(CLOSE.malformed);
    await until("all gone", 5_000, () => hub.stats.connectionsRefused === 10);
  });

  it("a client that stops reading is closed once maxBufferedBytes wait for it, not buffered", async () => {
    const hub = await ws({ id: "hub", listen: { port: 0 }, maxBufferedBytes: 2 << 20 });
    const server = hub.addresses[0];
    const stalled = new RawClient(server);
    await stalled.hello("sink");
    await until("sink attached", 5_000, () => !hub.isUnreachable(`relay+${server}#sink`));
    (stalled.socket as unknown as { _socket: { pause(): void } })._socket.pause(); // stops reading
    const flooder = new RawClient(server);
    await flooder.hello("source");
    const frame = encodeRelayFrame(FRAME_RELAY, 0, relayIdBytes("sink"), new Uint8Array(60_000));
    for (let i = 0; i < 400 && hub.isUnreachable(`relay+${server}#sink`) === false; i++) {
      flooder.socket.send(frame);
      await new Promise((r) => setTimeout(r, 2)); // the flooder's own pace
    }
    await until("sink closed", 10_000, () => hub.isUnreachable(`relay+${server}#sink`));
    expect(hub.stats.connectionsRefused).toBeGreaterThanOrEqual(1);
    expect(hub.stats.packetsRelayed).toBeLessThan(400);
  });
});
