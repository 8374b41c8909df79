/**
 * The README's "Waiting, cancelling, watching" example, runnable: two members on UDP loopback wait
 * for their group, time out a wait, take the token under a deadline and read their counters.
 *   node --import tsx examples/api.ts      deno run -A examples/api.ts
 * @module
 */
import { createNode, createUdpTransport, type LogEntry } from "../mod.ts";

const log: LogEntry[] = [];
const peers = { a: ["udp://127.0.0.1:7111"], b: ["udp://127.0.0.1:7112"] };
const [a, b] = await Promise.all(["a", "b"].map(async (id, i) =>
  createNode({
    id,
    transports: [await createUdpTransport({ port: 7111 + i })],
    peers,
    logger: (e) => log.push(e), // or RAINCORE_DEBUG=gcm,tm for console output
  })
));

const view = await a.gcm.ready({ signal: AbortSignal.timeout(10_000) }); // in a view with another member
console.log(`ready: view ${view.id} with ${view.members.join(" ")}`);

// Every wait takes an AbortSignal: while b is in its critical section, a gives up after 100 ms.
await b.gcm.withToken(async () => {
  const wait = a.gcm.withToken(() => console.log("never printed"), { signal: AbortSignal.timeout(100) });
  await wait.catch((error) => console.log("a gave up waiting for the token:", error.name));
});

// Counters: token rounds, hold time, messages, views, and the Transport Manager's.
const { token, view: views, transport } = a.metrics();
console.log(
  "rounds/s",
  token.roundsPerSecond | 0,
  "views",
  views.installed,
  "packets",
  transport.packetsSent,
);
console.log(`log entries: ${log.length}`);
await Promise.all([a.close(), b.close()]); // or `await using a = createNode(…)` (Symbol.asyncDispose)
