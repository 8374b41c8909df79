/**
 * A Node ring member for tests/deno/websocket_ring_test.ts, started by that test as
 * `node --import tsx tests/deno/ring_node.ts NODE_ID`. Listens as a WebSocket server, prints
 * `{"event":"listening","address":…}`, then obeys JSON commands on stdin:
 * `{"cmd":"start","peers":[…],"join":[…]}`, `{"cmd":"multicast","texts":[…]}` and `{"cmd":"exit"}`.
 * Once started it prints `{"event":"state","views":…,"delivered":…}` on every view and delivery.
 */
import { createInterface } from "node:readline";
import { openWebNode, type WebNode, type WebPeer } from "../browser/web_node.ts";

const nodeId = process.argv[2];
const open = await openWebNode({ nodeId, listenPort: 0, webrtc: false });
let node: WebNode | undefined;
const print = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
print({ event: "listening", address: open.ws.addresses[0] });

const encoder = new TextEncoder();
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line) as { cmd: string; peers?: WebPeer[]; join?: string[]; texts?: string[] };
  if (cmd.cmd === "start") {
    const n = open.start(cmd.peers ?? [], cmd.join);
    const state = () => print({ event: "state", views: n.views, delivered: n.delivered });
    n.gcm.on("view", state);
    n.gcm.on("deliver", state);
    state();
    node = n;
  } else if (cmd.cmd === "multicast") {
    for (const t of cmd.texts ?? []) node!.gcm.multicast(encoder.encode(t));
  } else if (cmd.cmd === "exit") break;
}
await (node ?? open).close();
process.exit(0);
