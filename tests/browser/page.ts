/**
 * The Chromium test's page script (bundled by scripts/build-browser.mjs --entry): starts a
 * {@link WebNode} with the browser's native WebSocket and RTCPeerConnection and exposes it to the
 * test on `window.raincoreTest`.
 * @module
 */
import { startWebNode, type WebNode, type WebNodeConfig } from "./web_node.ts";

let node: WebNode | undefined;
const encoder = new TextEncoder();

/** What the test calls through `page.evaluate`. */
const api = {
  async start(cfg: WebNodeConfig): Promise<string[]> {
    node = await startWebNode(cfg);
    return [...(node.rtc?.addresses ?? []), ...node.ws.addresses];
  },
  multicast(texts: string[]): void {
    for (const t of texts) node!.gcm.multicast(encoder.encode(t));
  },
  snapshot() {
    const n = node!;
    return {
      views: n.views,
      delivered: n.delivered,
      leaves: n.leaves,
      incarnation: n.gcm.incarnation,
      rtc: n.rtc === undefined ? undefined : { ...n.rtc.stats, implementation: n.rtc.implementation },
      ws: { ...n.ws.stats },
    };
  },
};
(globalThis as { raincoreTest?: typeof api }).raincoreTest = api;
