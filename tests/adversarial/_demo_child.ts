/**
 * The demo as an OS process for the hub attack test (`startTs("demo", this file, [options JSON])`):
 * the demo server (page, hub, three members on UDP) plus one more ring member, "tab-x", that speaks
 * only through the hub's relay — as a browser tab does — so that the ring's health shows whether
 * the hub still relays. Prints JSON lines: `ready {url, hub}`, then `view {members}` for every view
 * tab-x installs, and `stats {…}` (the hub's counters) for every `stats` line on stdin. The options
 * JSON is passed to `startDemo` (hub limits, headers timeout).
 * @module
 */
import { DEMO_TIMING } from "../../cli/demo/members.ts";
import { type DemoOptions, startDemo } from "../../cli/demo/server.ts";
import { createNode, createWebSocketTransport } from "../../mod.ts";
import { forEachStdinLine } from "../../runtime/lines.ts";

const line = (event: string, fields: Record<string, unknown>) =>
  console.log(JSON.stringify({ t: Date.now(), event, ...fields }));

const options = JSON.parse(process.argv[2] ?? "{}") as DemoOptions;
const demo = await startDemo({ ...options, port: 0 });
const ws = await createWebSocketTransport({ id: "tab-x", servers: [demo.hub] });
// Like a tab: it knows the hub's URL only, and reaches the members through the hub's relay.
createNode({
  id: "tab-x",
  transports: [ws],
  join: [demo.hub],
  timing: DEMO_TIMING,
  beforeStart: (n) => n.gcm.on("view", (v) => line("view", { members: [...v.members].sort() })),
});
line("ready", { url: demo.url, hub: demo.hub });
await forEachStdinLine((l) => {
  if (l === "stats") line("stats", { ...demo.hubStats });
});
