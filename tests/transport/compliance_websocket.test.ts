/** Runs the transport compliance suite against the WebSocket backend: servers, and clients relayed by a server. */
import { createWebSocketTransport, type WebSocketTransport } from "../../transport/backends/websocket/mod.ts";
import { describeTransportCompliance } from "./compliance.ts";

/** A ws:// address where nothing listens: a server started and stopped at once. */
async function deadWsAddress(): Promise<string> {
  const t = await createWebSocketTransport({ listen: { port: 0 } });
  const address = t.addresses[0];
  await t.close();
  return address;
}

describeTransportCompliance({
  name: "websocket (servers)",
  create: () => createWebSocketTransport({ listen: { port: 0 } }),
  deadAddress: deadWsAddress,
});

// Clients that only dial out, reachable only through a relay server (as browser tabs are).
let hub: WebSocketTransport | undefined;
let n = 0;
describeTransportCompliance({
  name: "websocket (relayed clients)",
  create: async () => {
    hub ??= await createWebSocketTransport({ listen: { port: 0 } });
    return createWebSocketTransport({ id: `client-${++n}`, servers: [hub.addresses[0]] });
  },
  deadAddress: async () => {
    hub ??= await createWebSocketTransport({ listen: { port: 0 } });
    return `relay+${hub.addresses[0]}#nobody-${++n}`;
  },
  cleanup: async () => {
    await hub?.close();
    hub = undefined;
  },
});
