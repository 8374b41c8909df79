/**
 * Frame masking of the Node WebSocket client: a zero masking key where no intermediary can read the
 * frames (wss:, a loopback host), a random one everywhere else — seen on the wire through a TCP relay
 * that reads the client's first frame header.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { platformWebSocket, unmaskedFramesAllowed } from "../../transport/backends/websocket/connect.ts";

const closers: Array<() => void> = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

/** The 4-byte masking key of the first frame a client sends through a relay to `target`. */
async function firstMaskKey(target: number): Promise<{ masked: boolean; key: number[] }> {
  let resolveKey: (k: { masked: boolean; key: number[] }) => void = () => {};
  const seen = new Promise<{ masked: boolean; key: number[] }>((r) => (resolveKey = r));
  const relay: Server = createServer((client: Socket) => {
    const upstream = createConnection(target, "127.0.0.1");
    let buffered = Buffer.alloc(0);
    let done = false;
    client.on("data", (chunk: Buffer) => {
      upstream.write(chunk);
      if (done) return;
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf("\r\n\r\n");
      if (end < 0) return;
      const frame = buffered.subarray(end + 4);
      if (frame.length < 2) return;
      const len7 = frame[1] & 0x7f;
      const at = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0);
      if (frame.length < at + 4) return;
      done = true;
      resolveKey({ masked: (frame[1] & 0x80) !== 0, key: [...frame.subarray(at, at + 4)] });
    });
    upstream.on("data", (chunk: Buffer) => client.write(chunk));
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r));
  closers.push(() => relay.close());
  const port = (relay.address() as { port: number }).port;
  const WebSocket = (await platformWebSocket())!;
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  closers.push(() => ws.close());
  ws.binaryType = "arraybuffer";
  await new Promise<void>((r) => ws.addEventListener("open", () => r()));
  ws.send(new Uint8Array(64).fill(7));
  return await seen;
}

describe("WebSocket client frame masking", () => {
  it("sends zero masking keys only where no intermediary can read the frames", () => {
    for (
      const url of [
        "ws://127.0.0.1:8080/",
        "ws://127.5.0.1/",
        "ws://localhost:1/",
        "ws://[::1]:9/",
        "wss://example.org/",
      ]
    ) {
      expect(unmaskedFramesAllowed(url), url).toBe(true);
    }
    for (const url of ["ws://example.org/", "ws://10.0.0.1:8080/", "ws://192.168.1.2/", "not a url"]) {
      expect(unmaskedFramesAllowed(url), url).toBe(false);
    }
  });

  it("a frame to a loopback server is still a masked frame, with a zero key (what ws skips on both ends)", async () => {
    const server = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise<void>((r) => server.once("listening", () => r()));
    closers.push(() => server.close());
    const received = new Promise<Buffer>((r) =>
      server.on("connection", (s) => s.once("message", (m) => r(m as Buffer)))
    );
    const { masked, key } = await firstMaskKey((server.address() as { port: number }).port);
    expect(masked).toBe(true);
    expect(key).toEqual([0, 0, 0, 0]);
    expect([...(await received)]).toEqual(new Array(64).fill(7));
  });
});
