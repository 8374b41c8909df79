/**
 * The demo's server-side members: three ring members in this process. The first owns the hub — the
 * WebSocket endpoint every tab dials — and, as a member that accepts WebSockets, relays for the
 * others; the other two are WebSocket clients of it. All three also have UDP on loopback, and every
 * member — these three and every tab — is given only the hub's URL: the members' IDs and addresses
 * come with the join. Each runs a GroupDataManager, so the board survives as long as one member is up.
 * With a cluster key every packet is authenticated and each member proves its relay ID to the hub.
 * @module
 */
import {
  createNode,
  createUdpTransport,
  createWebSocketTransport,
  type GcmNode,
  GroupCommunicationManager,
  GroupDataManager,
  type TimingOptions,
  type WebSocketTransport,
} from "../../mod.ts";

/** Ring timing shared by the server members and the page (see public/app.js): `TimingOptions`. */
export const DEMO_TIMING: TimingOptions = { eatingMs: 60 };

/** One running server member. */
export interface ServerMember {
  /** Node ID. */
  id: string;
  /** Its GCM. */
  gcm: GroupCommunicationManager;
  /** Its GDM (the board). */
  gdm: GroupDataManager;
  /** Leaves the ring (bounded by `timeoutMs`) and closes everything. */
  close(timeoutMs?: number): Promise<void>;
}

/**
 * Starts the members `ids`: the first over `hubTransport` (the hub at `hub`, `ws://host:port/`),
 * the others as its clients, every one with UDP on loopback too; `key` secures everything.
 */
export async function startServerMembers(
  hub: string,
  hubTransport: WebSocketTransport,
  ids: readonly string[],
  key?: Uint8Array,
): Promise<ServerMember[]> {
  const [first, ...rest] = ids;
  const members = [await startMember(first, hubTransport, [], key)];
  for (const id of rest) {
    const ws = await createWebSocketTransport({ id, servers: [hub], key });
    members.push(await startMember(id, ws, [hub], key));
  }
  return members;
}

async function startMember(
  id: string,
  ws: WebSocketTransport,
  join: string[],
  key: Uint8Array | undefined,
): Promise<ServerMember> {
  const udp = await createUdpTransport({ host: "127.0.0.1", port: 0 });
  let gdm!: GroupDataManager;
  const node: GcmNode = createNode({
    id,
    transports: [udp, ws],
    join,
    key,
    timing: DEMO_TIMING,
    beforeStart: (n) => {
      gdm = new GroupDataManager({ gcm: n.gcm, layer: n.transport });
    },
  });
  let closing: Promise<void> | undefined;
  return {
    id,
    gcm: node.gcm,
    gdm,
    close(timeoutMs = 1500) {
      closing ??= (async () => {
        await Promise.race([node.gcm.leave(), new Promise<void>((r) => setTimeout(r, timeoutMs))]);
        await gdm.close();
        await node.close(0);
      })();
      return closing;
    },
  };
}
