/**
 * Three Chromium pages and this Node process form one token ring over WebRTC and WebSocket: the
 * pages talk to each other and to Node over WebRTC data channels (native RTCPeerConnection against
 * werift), with the WebSocket server in this process as signaling channel and relay fallback. All
 * four deliver the same multicasts in one order, and when a page closes the other three commit a
 * view without it. Runs only in a loopback-only network namespace:
 *   node scripts/loopback-only.mjs npx vitest run tests/browser/ring_chromium.test.ts
 */
import type { Server } from "node:http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webRtcSkipReason } from "../helpers/loopback_netns.ts";
import { until } from "../helpers/until.ts";
import { chromiumSkipReason, launchChromium } from "./chromium.ts";
import { startWebNode, type WebNode, type WebPeer } from "./web_node.ts";
import { serveTestPage } from "./page_server.ts";

const skip = webRtcSkipReason() ?? await chromiumSkipReason();

interface Snapshot {
  views: string[][];
  delivered: string[];
  rtc:
    | { packetsSent: number; packetsReceived: number; channelsOpened: number; implementation: string }
    | undefined;
}

if (skip !== undefined) {
  // Refuse loudly rather than skip: these stacks may only run where no packet can leave the host.
  it(`Chromium ring`, () => {
    throw new Error(`cannot run here: ${skip}`);
  });
} else {
  describe("3 Chromium pages + 1 Node process: one ring over WebRTC and WebSocket", () => {
    let node0: WebNode;
    let http: Server;
    let browser: Browser;
    const pages: Page[] = [];
    const ids = ["page-1", "page-2", "page-3"];
    let peers: WebPeer[];

    beforeAll(async () => {
      let httpPort: number;
      ({ http, port: httpPort } = await serveTestPage());

      // Node: the WebSocket server (signaling + relay) and a ring member with a werift endpoint.
      node0 = await startWebNode({ nodeId: "node-0", listenPort: 0, webrtc: true, peers: [] });
      const server = node0.ws.addresses[0];
      const relay = (id: string) => `relay+${server}#${id}`;
      const direct = (id: string) => `webrtc+${server}#${id}`;
      peers = [
        { id: "node-0", addresses: [direct("node-0"), server] },
        ...ids.map((id) => ({ id, addresses: [direct(id), relay(id)] })),
      ];
      for (const p of peers) if (p.id !== "node-0") node0.tm.setAddresses(p.id, p.addresses);

      browser = await launchChromium();
      const context = await browser.newContext();
      // Chromium connects two pages over loopback only with media permission granted.
      await context.grantPermissions(["microphone", "camera"], { origin: `http://127.0.0.1:${httpPort}` });
      for (const id of ids) {
        const page = await context.newPage();
        page.on("pageerror", (e) => console.error(`[${id}] ${e.message}`));
        await page.goto(`http://127.0.0.1:${httpPort}/`);
        await page.waitForFunction(() => "raincoreTest" in globalThis, undefined, { timeout: 10_000 });
        await page.evaluate(
          (cfg) =>
            (globalThis as unknown as { raincoreTest: { start(c: unknown): Promise<string[]> } }).raincoreTest
              .start(cfg),
          { nodeId: id, server, webrtc: true, peers, join: ["node-0"] },
        );
        pages.push(page);
      }
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await node0?.close();
      await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
    });

    const snapshot = (page: Page): Promise<Snapshot> =>
      page.evaluate(() =>
        (globalThis as unknown as { raincoreTest: { snapshot(): Snapshot } }).raincoreTest.snapshot()
      );
    const lastView = (views: string[][]) => (views.at(-1) ?? []).slice().sort().join(",");

    it("forms one ring of four, multicasts in one order, and drops a closed page", async () => {
      const all = ["node-0", ...ids].sort().join(",");
      await until("a view of all four at every node", 30_000, async () => {
        const snaps = await Promise.all(pages.map(snapshot));
        return lastView(node0.views) === all && snaps.every((s) => lastView(s.views) === all);
      });

      // Every node multicasts 5 messages; all deliver the same 20 in the same order.
      const text = new TextEncoder();
      for (let i = 0; i < 5; i++) node0.gcm.multicast(text.encode(`n0-${i}`));
      await Promise.all(pages.map((p, k) =>
        p.evaluate(
          (texts) =>
            (globalThis as unknown as { raincoreTest: { multicast(t: string[]): void } }).raincoreTest
              .multicast(texts),
          [0, 1, 2, 3, 4].map((i) => `p${k + 1}-${i}`),
        )
      ));
      const snaps = await until("20 deliveries at every node", 30_000, async () => {
        const s = await Promise.all(pages.map(snapshot));
        return node0.delivered.length >= 20 && s.every((x) => x.delivered.length >= 20) ? s : undefined;
      });
      expect(node0.delivered.length).toBe(20);
      for (const s of snaps) expect(s.delivered).toEqual(node0.delivered);
      // Per-sender FIFO.
      for (const prefix of ["n0", "p1", "p2", "p3"]) {
        const mine = node0.delivered.filter((d) => d.split(":")[1].startsWith(prefix)).map((d) =>
          d.split(":")[1]
        );
        expect(mine).toEqual([0, 1, 2, 3, 4].map((i) => `${prefix}-${i}`));
      }
      // The pages used native WebRTC channels, to each other and to Node (werift).
      for (const s of snaps) {
        expect(s.rtc?.implementation).toBe("native");
        expect(s.rtc!.channelsOpened).toBeGreaterThanOrEqual(1);
        expect(s.rtc!.packetsReceived).toBeGreaterThan(0);
      }
      // At least one channel joins two pages (not only pages to Node).
      const pageEnds = snaps.reduce((n, s) => n + s.rtc!.channelsOpened, 0);
      expect(pageEnds).toBeGreaterThan(node0.rtc!.stats.channelsOpened);
      expect(node0.rtc!.implementation).toBe("werift");
      expect(node0.rtc!.stats.channelsOpened).toBeGreaterThanOrEqual(1);

      // Close page-3: the other three commit a view without it. (How fast — the server's GONE report
      // makes it ~0.25 s instead of the Transport Manager's > 5 s of resends — is a speed goal, shown
      // by the demo's fail-over timeline, not asserted against the wall clock of a loaded CI machine.)
      await pages[2].close();
      const three = ["node-0", "page-1", "page-2"].join(",");
      await until("a view without page-3 at the other nodes", 30_000, async () => {
        const s = await Promise.all(pages.slice(0, 2).map(snapshot));
        return lastView(node0.views) === three && s.every((x) => lastView(x.views) === three);
      });
    }, 120_000);
  });
}
