/**
 * The README's 20-line example, runnable: three members on UDP loopback in one process.
 *   node --import tsx examples/readme.ts      deno run -A examples/readme.ts
 * @module
 */
import { createNode, createUdpTransport, GroupDataManager } from "../mod.ts";

const ports = { a: 7101, b: 7102, c: 7103 };
const peers = Object.fromEntries(Object.entries(ports).map(([id, p]) => [id, [`udp://127.0.0.1:${p}`]]));
const nodes = await Promise.all(
  Object.entries(ports).map(async ([id, port]) =>
    createNode({ id, transports: [await createUdpTransport({ port })], peers })
  ),
);
const [a, b, c] = nodes;
c.gcm.on("view", (v) => console.log(`view #${v.index}: ${v.members.join(" ")}`));
c.gcm.on("deliver", (m) => console.log(`${m.from}#${m.seq} ${m.level}: ${new TextDecoder().decode(m.data)}`));
await Promise.all(
  nodes.map((n) => new Promise((r) => n.gcm.on("view", (v) => v.members.length === 3 && r(v)))),
);

a.gcm.multicast(new TextEncoder().encode("hello")); // total order, delivered everywhere
b.gcm.multicast(new TextEncoder().encode("world"), { level: "safe" }); // only once every member holds it
await b.gcm.withToken(() => console.log("only b runs this now")); // mutual exclusion on the token
const data = new GroupDataManager({ gcm: a.gcm, layer: a.transport }); // replicated items
await data.set("greeting", "hello, cluster");
console.log("a's replica:", data.get("greeting"));

await data.close();
await Promise.all(nodes.map((n) => n.close())); // graceful leave, one token round
