/**
 * Members that find each other and tabs that sleep (issue 15), in Chromium: a hub member (this Node
 * process, a WebSocket server), two server members (UDP and a WebSocket client of the hub, also in
 * this process) and three Chromium pages — every member given only the hub's URL — form one ring and
 * multicast in one order. Then one page's timers are throttled as Chrome throttles a hidden tab's
 * (one wake-up a second): no view changes while the token goes round many times. Then another page is
 * paused in the debugger (CDP `Debugger.pause`): the others commit a view without it, and after
 * `Debugger.resume` it comes back. Runs only in a loopback-only network namespace:
 *   node scripts/loopback-only.mjs npx vitest run tests/browser/join_chromium.test.ts
 *
 * Headless Chromium shows every page as visible and never throttles its timers, so the throttled page
 * emulates that policy itself: an init script reports the document hidden (a `visibilitychange`
 * event) and delays every timer to the next whole second, as Chrome does for a hidden tab.
 */
import type { Server } from "node:http";
import type { Browser, CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNode, createUdpTransport, createWebSocketTransport, type GcmNode } from "../../mod.ts";
import { webRtcSkipReason } from "../helpers/loopback_netns.ts";
import { until } from "../helpers/until.ts";
import { chromiumSkipReason, launchChromium } from "./chromium.ts";
import { startWebNode, type WebNode } from "./web_node.ts";
import { serveTestPage } from "./page_server.ts";

const skip = webRtcSkipReason() ?? await chromiumSkipReason();

interface Snapshot {
  views: string[][];
  delivered: string[];
}

/** Chrome's timer policy for a hidden tab, switched on by `__throttle(true)` (see the module comment). */
const THROTTLE_SCRIPT = `(() => {
  const realSetTimeout = setTimeout;
  const realSetInterval = setInterval;
  let on = false;
  const nextSecond = (delay) => {
    const now = performance.now();
    return Math.ceil((now + Math.max(0, delay)) / 1000) * 1000 - now;
  };
  globalThis.setTimeout = (fn, delay = 0, ...args) => realSetTimeout(fn, on ? nextSecond(delay) : delay, ...args);
  globalThis.setInterval = (fn, delay = 0, ...args) => realSetInterval(fn, on ? Math.max(1000, delay) : delay, ...args);
  Object.defineProperty(document, "visibilityState", { get: () => (on ? "hidden" : "visible") });
  Object.defineProperty(document, "hidden", { get: () => on });
  globalThis.__throttle = (v) => {
    on = v;
    document.dispatchEvent(new Event("visibilitychange"));
  };
})();`;

if (skip !== undefined) {
  // Refuse loudly rather than skip: these stacks may only run where no packet can leave the host.
  it(`Chromium join`, () => {
    throw new Error(`cannot run here: ${skip}`);
  });
} else {
  describe("a hub, 2 servers and 3 Chromium pages that know only the hub's URL", () => {
    let hub: WebNode;
    const servers: GcmNode[] = [];
    let http: Server;
    let browser: Browser;
    const pages: Page[] = [];
    const ids = ["page-1", "page-2", "page-3"];
    const all = ["hub", "srv-1", "srv-2", ...ids].sort().join(",");

    beforeAll(async () => {
      let httpPort: number;
      ({ http, port: httpPort } = await serveTestPage());

      // The hub: a member that accepts WebSockets (so it relays for the others) and knows nobody.
      hub = await startWebNode({ nodeId: "hub", listenPort: 0, webrtc: true, peers: [] });
      const hubUrl = hub.ws.addresses[0];
      // Two server members: UDP for each other, a WebSocket client of the hub for the pages; given
      // only the hub's URL.
      for (const id of ["srv-1", "srv-2"]) {
        const udp = await createUdpTransport({ host: "127.0.0.1", port: 0 });
        const ws = await createWebSocketTransport({ id, servers: [hubUrl] });
        servers.push(createNode({ id, transports: [udp, ws], join: [hubUrl] }));
      }

      browser = await launchChromium();
      const context = await browser.newContext();
      await context.grantPermissions(["microphone", "camera"], { origin: `http://127.0.0.1:${httpPort}` });
      for (const id of ids) {
        const page = await context.newPage();
        page.on("pageerror", (e) => console.error(`[${id}] ${e.message}`));
        if (id === "page-2") await page.addInitScript(THROTTLE_SCRIPT);
        await page.goto(`http://127.0.0.1:${httpPort}/`);
        await page.waitForFunction(() => "raincoreTest" in globalThis, undefined, { timeout: 10_000 });
        await page.evaluate(
          (cfg) =>
            (globalThis as unknown as { raincoreTest: { start(c: unknown): Promise<string[]> } }).raincoreTest
              .start(cfg),
          { nodeId: id, server: hubUrl, webrtc: true, peers: [], joinVia: [hubUrl], lifecycle: true },
        );
        pages.push(page);
      }
    }, 60_000);

    afterAll(async () => {
      await browser?.close();
      await Promise.all(servers.map((s) => s.close(500)));
      await hub?.close();
      await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
    });

    const snapshot = (page: Page): Promise<Snapshot> =>
      page.evaluate(() =>
        (globalThis as unknown as { raincoreTest: { snapshot(): Snapshot } }).raincoreTest.snapshot()
      );
    const sorted = (members: readonly string[] | undefined) => (members ?? []).slice().sort().join(",");
    const lastView = (views: string[][]) => sorted(views.at(-1));
    const nodeViews = () => [sorted(hub.gcm.view.members), ...servers.map((s) => sorted(s.gcm.view.members))];

    it("form one ring of six and multicast in one order", async () => {
      await until("one view of all six at every member", 30_000, async () => {
        const snaps = await Promise.all(pages.map(snapshot));
        return nodeViews().every((v) => v === all) && snaps.every((s) => lastView(s.views) === all);
      });
      const text = new TextEncoder();
      hub.gcm.multicast(text.encode("hub"));
      for (const s of servers) s.gcm.multicast(text.encode(s.id));
      await Promise.all(pages.map((p, k) =>
        p.evaluate(
          (texts) =>
            (globalThis as unknown as { raincoreTest: { multicast(t: string[]): void } }).raincoreTest
              .multicast(texts),
          [`page-${k + 1}`],
        )
      ));
      const snaps = await until("6 deliveries at every page and at the hub", 30_000, async () => {
        const s = await Promise.all(pages.map(snapshot));
        return hub.delivered.length >= 6 && s.every((x) => x.delivered.length >= 6) ? s : undefined;
      });
      expect(hub.delivered.length).toBe(6);
      for (const s of snaps) expect(s.delivered).toEqual(hub.delivered);
    }, 60_000);

    it("a page whose timers are throttled causes no view change", async () => {
      const before = [
        hub.gcm.metrics().view.installed,
        ...servers.map((s) => s.gcm.metrics().view.installed),
      ];
      const pageViews = (await Promise.all(pages.map(snapshot))).map((s) => s.views.length);
      await pages[1].evaluate(() =>
        (globalThis as unknown as { __throttle(on: boolean): void }).__throttle(true)
      );
      // The ring goes round many times while page-2 runs its timers once a second.
      const start = hub.gcm.metrics().token.received;
      await until(
        "40 token rounds at the hub with page-2 throttled",
        60_000,
        () => hub.gcm.metrics().token.received - start >= 40,
      );
      expect([hub.gcm.metrics().view.installed, ...servers.map((s) => s.gcm.metrics().view.installed)])
        .toEqual(before);
      expect((await Promise.all(pages.map(snapshot))).map((s) => s.views.length)).toEqual(pageViews);
      expect(nodeViews().every((v) => v === all)).toBe(true);
      await pages[1].evaluate(() =>
        (globalThis as unknown as { __throttle(on: boolean): void }).__throttle(false)
      );
    }, 90_000);

    it("a page paused in the debugger is removed, and comes back after it resumes", async () => {
      const cdp: CDPSession = await pages[2].context().newCDPSession(pages[2]);
      await cdp.send("Debugger.enable");
      await cdp.send("Debugger.pause");
      const five = all.split(",").filter((m) => m !== "page-3").join(",");
      const t0 = Date.now();
      await until("a view without page-3 at the other members", 30_000, async () => {
        const s = await Promise.all(pages.slice(0, 2).map(snapshot));
        return nodeViews().every((v) => v === five) && s.every((x) => lastView(x.views) === five);
      });
      console.log(`join_chromium: paused page removed after ${Date.now() - t0} ms`);
      await cdp.send("Debugger.resume");
      const t1 = Date.now();
      await until("page-3 back in a view of six", 30_000, async () => {
        const snaps = await Promise.all(pages.map(snapshot));
        return nodeViews().every((v) => v === all) && snaps.every((x) => lastView(x.views) === all);
      });
      // (A pause of a few seconds ends like a false suspicion: the page's own 911s and hand-shakes bring
      // it back; after a longer one its timers come seconds late and it starts over as a new
      // incarnation — tests/gcm/sleep.test.ts.)
      console.log(`join_chromium: resumed page back after ${Date.now() - t1} ms`);
      await cdp.detach();
    }, 90_000);
  });
}
