/**
 * The demo's server-side members: three ring members in this process. The first accepts the demo's
 * WebSocket connections — it is the hub every tab dials, and as a member that accepts WebSockets it
 * relays for the others; the other two are WebSocket clients of it. All three also have UDP on
 * loopback, and every member — these three and every tab — is given only the hub's URL: the members'
 * IDs and addresses come with the join. Each runs a GroupDataManager, so the board survives as long as
 * one member is up.
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
  type WebSocketLike,
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
 * Starts the members `ids`; the first one is the hub at `hub` (`ws://host:port/`). `hubUp` gets the
 * function that takes the web server's upgraded WebSockets as soon as the hub member exists, before
 * the other members dial it.
 */
export async function startServerMembers(
  hub: string,
  ids: readonly string[],
  hubUp: (accept: (socket: WebSocketLike) => void) => void,
): Promise<ServerMember[]> {
  const [first, ...rest] = ids;
  const hubWs = await createWebSocketTransport({ id: first, advertise: [hub] });
  const members = [await startMember(first, hubWs, [])];
  hubUp((socket) => hubWs.accept(socket));
  for (const id of rest) {
    members.push(await startMember(id, await createWebSocketTransport({ id, servers: [hub] }), [hub]));
  }
  return members;
}

async function startMember(
  id: string,
  ws: Awaited<ReturnType<typeof createWebSocketTransport>>,
  join: string[],
): Promise<ServerMember> {
  const udp = await createUdpTransport({ host: "127.0.0.1", port: 0 });
  let gdm!: GroupDataManager;
  const node: GcmNode = createNode({
    id,
    transports: [udp, ws],
    join,
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
