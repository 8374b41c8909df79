/**
 * A consumer's program (copied into a fresh project by tests/package/pack.test.ts, which installs
 * the packed raincore there): three members on UDP loopback, free ports, one view of all three, a
 * multicast delivered everywhere, a replicated write, a graceful close; then a WebSocket server (the
 * `ws` dependency) and a WebRTC transport, which must fail with a typed error naming werift (an
 * optional peer dependency the project did not install). Type-checked with `strict`
 * under `nodenext` and `bundler` resolution, then run by Node (compiled by tsc) and by Bun.
 * Prints one JSON line, `{"ok":true,…}` or `{"ok":false,"error":…}`.
 * @module
 */
import {
  createNode,
  createUdpTransport,
  createWebRtcTransport,
  createWebSocketTransport,
  type DeliverEvent,
  type GcmNode,
  GroupDataManager,
  MissingDependencyError,
  type ViewEvent,
} from "raincore";
import { cyclicMasks } from "raincore/min";
import type { PacketTransport } from "raincore/transport";
import type { ChangeEvent } from "raincore/gdm";

const DEADLINE_MS = 30_000;
const timer = setTimeout(() => fail(new Error(`no result within ${DEADLINE_MS} ms`)), DEADLINE_MS);

function fail(error: unknown): never {
  console.log(JSON.stringify({ ok: false, error: error instanceof Error ? error.stack : String(error) }));
  process.exit(1);
}

/** Resolves with the first event of `node` that `pred` accepts. */
function first<T>(subscribe: (fn: (e: T) => void) => void, pred: (e: T) => boolean): Promise<T> {
  return new Promise((resolve) => subscribe((e) => pred(e) && resolve(e)));
}

try {
  const ids = ["a", "b", "c"];
  const transports: PacketTransport[] = await Promise.all(
    ids.map(() => createUdpTransport({ host: "127.0.0.1", port: 0 })),
  );
  const peers = Object.fromEntries(ids.map((id, i) => [id, [...transports[i].addresses]]));
  const data: GroupDataManager[] = [];
  const nodes: GcmNode[] = ids.map((id, i) =>
    createNode({
      id,
      transports: [transports[i]],
      peers,
      beforeStart: (n) => data.push(new GroupDataManager({ gcm: n.gcm, layer: n.transport })),
    })
  );
  await Promise.all(
    nodes.map((n) => first<ViewEvent>((f) => n.gcm.on("view", f), (v) => v.members.length === 3)),
  );
  const text = "hello from a";
  const delivered = nodes.map((n) =>
    first<DeliverEvent>((f) => n.gcm.on("deliver", f), (d) => new TextDecoder().decode(d.data) === text)
  );
  const changed = data.map((d) => first<ChangeEvent>((f) => d.on("change", f), (c) => c.key === "k"));
  nodes[0].gcm.multicast(new TextEncoder().encode(text));
  await Promise.all(delivered);
  await data[1].set("k", { n: 1 });
  const values = (await Promise.all(changed)).map((c) => JSON.stringify(c.new));
  await Promise.all(data.map((d) => d.close()));
  await Promise.all(nodes.map((n) => n.close()));
  const hub = await createWebSocketTransport({ id: "hub", listen: { host: "127.0.0.1", port: 0 } });
  const webrtc = await createWebRtcTransport({ signaling: hub }).then(
    (t) => t.close().then(() => "werift loaded"),
    (e: unknown) => e instanceof MissingDependencyError ? `missing ${e.packageName}` : String(e),
  );
  await hub.close();
  clearTimeout(timer);
  console.log(JSON.stringify({ ok: true, members: 3, values, masks: cyclicMasks(3, 1).length, webrtc }));
} catch (error) {
  fail(error);
}
