/**
 * The demo as an OS process for the hub attack test (`startTs("demo", this file, [options JSON])`):
 * the demo server (page, hub, three members on UDP) plus one more ring member, "tab-x", that speaks
 * only through the hub's relay — as a browser tab does — so that the ring's health shows whether
 * the hub still relays. Prints JSON lines: `ready {url, hub}`, then `view {members}` for every view
 * tab-x installs, and `stats {…}` (the hub's counters) for every `stats` line on stdin. The options
 * JSON is passed to `startDemo` (hub limits, headers timeout).
 * @module
 */
import { hubAddresses, resolvingLayer } from "../../cli/demo/addresses.ts";
import { DEMO_TIMING } from "../../cli/demo/members.ts";
import { type DemoOptions, startDemo } from "../../cli/demo/server.ts";
import { createWebSocketTransport, GroupCommunicationManager, TransportManager } from "../../mod.ts";
import { forEachStdinLine } from "../../runtime/lines.ts";

const line = (event: string, fields: Record<string, unknown>) =>
  console.log(JSON.stringify({ t: Date.now(), event, ...fields }));

const options = JSON.parse(process.argv[2] ?? "{}") as DemoOptions;
const demo = await startDemo({ ...options, port: 0 });
const ws = await createWebSocketTransport({ id: "tab-x", servers: [demo.hub] });
const tm = new TransportManager({
  nodeId: "tab-x",
  transports: [ws],
  rtoInitialMs: DEMO_TIMING.rtoMs,
  rtoMaxMs: DEMO_TIMING.rtoMaxMs,
  retries: DEMO_TIMING.retries,
});
const gcm = new GroupCommunicationManager({
  layer: resolvingLayer(tm, (peer) => hubAddresses(demo.hub, peer, false)),
  incarnation: tm.incarnation,
  peers: demo.members.map((m) => m.id),
  eatingMs: DEMO_TIMING.eatingMs,
  hungryMs: DEMO_TIMING.hungryMs,
  starvingMs: DEMO_TIMING.starvingMs,
});
gcm.on("view", (v) => line("view", { members: [...v.members].sort() }));
gcm.start();
line("ready", { url: demo.url, hub: demo.hub });
await forEachStdinLine((l) => {
  if (l === "stats") line("stats", { ...demo.hubStats });
});
