/**
 * A Node ring member that joins through an edge node's URL alone: it attaches to the edge over
 * WebSocket (the edge reaches it back over that connection, and relays for it) and joins the group
 * through that address — no node IDs or other members' addresses are given; they come with the
 * join. Prints JSON lines: `{"event":"view",…}` and `{"event":"data","key","value","writer"}`;
 * writes `hello/<id>` once it shares a view with another member.
 *
 *   node --import tsx examples/edge/node_member.ts --id n1 --edge ws://127.0.0.1:8787/
 * @module
 */
import { parseFlags, stringFlag, UsageError } from "../../runtime/args.ts";
import { createNode, createWebSocketTransport, GroupDataManager } from "../../mod.ts";

const flags = parseFlags(process.argv.slice(2), { id: {}, edge: {} });
const id = stringFlag(flags, "id");
const edgeUrl = stringFlag(flags, "edge");
if (id === undefined || edgeUrl === undefined) throw new UsageError("--id and --edge are required");
const out = (o: Record<string, unknown>) => console.log(JSON.stringify(o));

const ws = await createWebSocketTransport({ id, servers: [edgeUrl] });
const node = createNode({ id, transports: [ws], join: [edgeUrl] });
const gdm = new GroupDataManager({ gcm: node.gcm, layer: node.transport });
let wrote = false;
node.gcm.on("view", (v) => {
  out({ event: "view", index: v.index, members: v.members });
  if (!wrote && v.members.length > 1) {
    wrote = true;
    void gdm.set(`hello/${id}`, { from: id, runtime: "node" });
  }
});
gdm.on("change", (e) => out({ event: "data", key: e.key, value: e.new, writer: e.writer }));
const stop = async () => {
  await gdm.close();
  await node.close(500);
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
out({ event: "ready", id });
