/**
 * The demo page with a cluster key, in Chromium: two tabs fetch their credentials, prove their
 * relay IDs to the hub, secure every packet (Web Crypto) and join the server members' ring; a note
 * made in one tab reaches the other and the server members.
 * Runs only in a loopback-only network namespace:
 *   node scripts/loopback-only.mjs npx vitest run tests/browser/demo_keyed.test.ts
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import { type Demo, startDemo } from "../../cli/demo/server.ts";
import { webRtcSkipReason } from "../helpers/loopback_netns.ts";
import { until } from "../helpers/until.ts";
import { chromiumSkipReason, launchChromium } from "./chromium.ts";

const skip = webRtcSkipReason() ?? await chromiumSkipReason();

interface DemoApi {
  id: string;
  ready: boolean;
  view(): { index: number; members: string[] };
  notes(): unknown[];
}
const api = <T>(page: Page, fn: (d: DemoApi) => T): Promise<T> =>
  page.evaluate(`(${fn.toString()})(globalThis.demo)`) as Promise<T>;

if (skip !== undefined) {
  it("keyed demo in Chromium", () => {
    throw new Error(`cannot run here: ${skip}`);
  });
} else {
  describe("keyed demo: tabs with credentials", () => {
    let demo: Demo | undefined;
    let browser: Browser | undefined;
    afterAll(async () => {
      await browser?.close();
      await demo?.close();
    });

    it("two tabs join the ring with the IDs the server gave them, and share the board", async () => {
      demo = await startDemo({ port: 0, key: new Uint8Array(32).fill(42) });
      browser = await launchChromium();
      const context = await browser.newContext();
      const pages: Page[] = [];
      for (let i = 0; i < 2; i++) {
        const page = await context.newPage();
        page.on("pageerror", (e) => console.error(`[page] ${e.message}`));
        await page.goto(demo.url);
        await page.waitForFunction(() => (globalThis as { demo?: DemoApi }).demo?.ready === true, undefined, {
          timeout: 30_000,
        });
        pages.push(page);
      }
      const ids = await Promise.all(pages.map((p) => api(p, (d) => d.id)));
      expect(ids.sort()).toEqual(["tab-01", "tab-02"]);
      const five = ["alpha", "bravo", "charlie", ...ids].sort().join(",");
      await until("one view of 3 servers + 2 tabs", 20_000, async () => {
        const views = await Promise.all(pages.map((p) => api(p, (d) => d.view().members.join(","))));
        return views.every((v) => v === five);
      });
      await pages[0].click("#add");
      await until("the note everywhere", 10_000, async () => {
        const counts = await Promise.all(pages.map((p) => api(p, (d) => d.notes().length)));
        return counts.every((n) => n === 1) && demo!.members[0].gdm.list("note/").length === 1;
      });
    }, 90_000);
  });
}
