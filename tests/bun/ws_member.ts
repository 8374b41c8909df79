/**
 * A ring member over WebSocket for the runtime tests (run with Bun, or Node): with `--listen` it is a
 * WebSocket server member (it relays for its clients); with `--join URL` a client that knows only that
 * URL. Prints JSON lines: `ready {id, url}` and `view {members}`; ends on SIGTERM.
 *
 *   bun tests/bun/ws_member.ts --id hub --listen
 *   bun tests/bun/ws_member.ts --id b1 --join ws://127.0.0.1:PORT/
 * @module
 */
import { parseFlags, stringFlag, UsageError } from "../../runtime/args.ts";
import { createNode, createWebSocketTransport } from "../../mod.ts";

const flags = parseFlags(process.argv.slice(2), { id: {}, listen: { value: false }, join: {} });
const id = stringFlag(flags, "id");
const join = stringFlag(flags, "join");
if (id === undefined || (flags.has("listen") === (join !== undefined))) {
  throw new UsageError("--id and one of --listen, --join URL");
}
const out = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const ws = join === undefined
  ? await createWebSocketTransport({ id, listen: { port: 0 } })
  : await createWebSocketTransport({ id, servers: [join] });
const node = createNode({ id, transports: [ws], join: join === undefined ? [] : [join] });
node.gcm.on("view", (v) => out({ event: "view", members: v.members }));
out({
  event: "ready",
  id,
  url: ws.addresses[0],
  runtime: (globalThis as { Bun?: { version: string } }).Bun?.version,
});
process.on("SIGTERM", () => void node.close(500).then(() => process.exit(0)));
