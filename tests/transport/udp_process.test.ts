/**
 * Two OS processes, each a Transport Manager over real UDP loopback: they exchange messages, and a
 * receiver SIGKILLed in the middle of a large message makes the sender's send() reject with
 * DeliveryFailedError. Events are JSON lines awaited with deadlines; children die in afterEach.
 */
import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { type JsonChild, type JsonLine, killAll, startTs } from "../../tools/json_child.ts";

const PEER = "tests/transport/fixtures/udp_peer.ts";
const START_MS = 20_000; // esbuild bundling + Node start, on 2 shared cores
let children: JsonChild[] = [];

afterEach(async () => {
  await killAll(children);
  children = [];
});

async function peer(id: string, args: string[] = []): Promise<{ child: JsonChild; address: string }> {
  const child = startTs(id, PEER, ["--id", id, ...args]);
  children.push(child);
  const ready = await child.waitFor((l) => l.event === "ready", START_MS);
  return { child, address: String(ready.address) };
}

async function connectedPair(args: string[] = []): Promise<{ a: JsonChild; b: JsonChild }> {
  const [a, b] = await Promise.all([peer("a", args), peer("b", args)]);
  a.child.write(JSON.stringify({ cmd: "peer", id: "b", addresses: [b.address] }));
  b.child.write(JSON.stringify({ cmd: "peer", id: "a", addresses: [a.address] }));
  return { a: a.child, b: b.child };
}

const is = (event: string, tag?: string) => (l: JsonLine): boolean =>
  l.event === event && (tag === undefined || l.tag === tag);

describe("Transport Manager between two OS processes over UDP loopback", () => {
  it("exchanges small and large messages both ways, intact", async () => {
    const { a, b } = await connectedPair();
    a.write(JSON.stringify({ cmd: "send", to: "b", channel: 1, bytes: 100, seed: 1, tag: "small" }));
    b.write(
      JSON.stringify({ cmd: "send", to: "a", channel: 2, bytes: 3 * 1024 * 1024, seed: 2, tag: "large" }),
    );
    const [sentSmall, sentLarge] = await Promise.all([
      a.waitFor(is("sent", "small"), 10_000),
      b.waitFor(is("sent", "large"), 30_000),
    ]);
    const atB = await b.waitFor(is("received"), 10_000);
    const atA = await a.waitFor(is("received"), 10_000);
    expect(atB).toMatchObject({ from: "a", channel: 1, bytes: 100, sha256: sentSmall.sha256 });
    expect(atA).toMatchObject({ from: "b", channel: 2, bytes: 3 * 1024 * 1024, sha256: sentLarge.sha256 });
    // The fixture's digest is of what it sent; check it is not the digest of nothing.
    expect(atA.sha256).not.toBe(createHash("sha256").update(new Uint8Array(0)).digest("hex"));
  }, 60_000);

  it("rejects with DeliveryFailedError when the receiver is SIGKILLed mid-transfer", async () => {
    // A short resend budget keeps failure detection near 1 s instead of ~4 s.
    const { a, b } = await connectedPair(["--rto-max", "200", "--retries", "3"]);
    const total = 48 * 1024 * 1024;
    b.write(JSON.stringify({ cmd: "progress", everyMs: 5 }));
    a.write(JSON.stringify({ cmd: "send", to: "b", channel: 1, bytes: total, seed: 3, tag: "big" }));
    // Mid-transfer: the receiver's socket has taken in more than 1 MiB of the message.
    const progress = await b.waitFor(
      (l) => l.event === "progress" && Number(l.bytesReceived) > 1024 * 1024,
      30_000,
    );
    await killAll([b]);
    const outcome = await a.waitFor(
      (l) => (l.event === "sent" || l.event === "failed") && l.tag === "big",
      30_000,
    );
    expect(Number(progress.bytesReceived)).toBeLessThan(total);
    expect(b.lines.some(is("received"))).toBe(false);
    expect(outcome).toMatchObject({ event: "failed", error: "DeliveryFailedError" });
  }, 90_000);
});
