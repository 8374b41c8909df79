/**
 * Launches Debian's Chromium (`/usr/bin/chromium`) through playwright-core for tests: headless, no
 * sandbox, no background networking, host names resolved to nothing (only localhost and 127.0.0.1
 * stay), loopback allowed for peer connections, and local IPs not hidden behind mDNS names. Never
 * downloads a browser.
 *
 * Playwright passes its own `--disable-features=…` list and Chromium honours only the last one, so
 * a first short launch reads Playwright's list from the browser's command line, and the real
 * launch replaces it by the merged list.
 * @module
 */
import { existsSync, readFileSync } from "node:fs";
import type { Browser } from "playwright-core";

/** The Chromium binary. */
export const CHROMIUM = "/usr/bin/chromium";
const OUR_DISABLED_FEATURES = ["WebRtcHideLocalIpsWithMdns"];
const ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
  "--allow-loopback-in-peer-connection",
];

/** Why Chromium tests cannot run here, or `undefined`. */
export async function chromiumSkipReason(): Promise<string | undefined> {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} missing (apt-get install -y chromium)`;
  try {
    await import("playwright-core");
  } catch {
    return "playwright-core missing (npm install --no-save playwright-core)";
  }
  return undefined;
}

/** Launches Chromium with the merged feature list. */
export async function launchChromium(): Promise<Browser> {
  process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = "1";
  const { chromium } = await import("playwright-core");
  const probe = await chromium.launchServer({ executablePath: CHROMIUM, headless: true, args: ARGS });
  let theirs: string | undefined;
  try {
    const pid = probe.process().pid;
    if (pid === undefined) throw new Error("no browser pid");
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    theirs = cmdline.find((a) => a.startsWith("--disable-features="));
  } finally {
    await probe.close();
  }
  const list = theirs === undefined ? [] : theirs.slice("--disable-features=".length).split(",");
  const merged = `--disable-features=${[...list, ...OUR_DISABLED_FEATURES].filter(Boolean).join(",")}`;
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    ignoreDefaultArgs: theirs === undefined ? [] : [theirs],
    args: [...ARGS, merged],
  });
}
