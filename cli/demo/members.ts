/**
 * The demo's server-side members: three ring members in this process, talking to each other over
 * UDP on loopback and attached to the WebSocket hub as relay clients so that browser tabs reach
 * them. Each runs a GroupDataManager, so the board survives as long as one member is up.
 * @module
 */
import {
  createUdpTransport,
  createWebSocketTransport,
  GroupCommunicationManager,
  GroupDataManager,
  resolveTiming,
  type TimingOptions,
  TransportManager,
} from "../../mod.ts";
import { hubAddresses, resolvingLayer } from "./addresses.ts";

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

/** Starts the members `ids`, each over UDP (loopback) and as a relay client of `hub`. */
export async function startServerMembers(hub: string, ids: readonly string[]): Promise<ServerMember[]> {
  const udps = await Promise.all(ids.map(() => createUdpTransport({ host: "127.0.0.1", port: 0 })));
  const udpOf = new Map(ids.map((id, i) => [id, [...udps[i].addresses]]));
  const members: ServerMember[] = [];
  for (const [i, id] of ids.entries()) {
    const ws = await createWebSocketTransport({ id, servers: [hub] });
    const timing = resolveTiming(DEMO_TIMING);
    const tm = new TransportManager({ nodeId: id, transports: [udps[i], ws], ...timing.transport });
    const layer = resolvingLayer(tm, (peer) => udpOf.get(peer) ?? hubAddresses(hub, peer, false));
    const gcm = new GroupCommunicationManager({
      layer,
      incarnation: tm.incarnation,
      peers: ids.filter((p) => p !== id),
      timing: timing.gcm,
    });
    const gdm = new GroupDataManager({ gcm, layer });
    gcm.start();
    let closing: Promise<void> | undefined;
    members.push({
      id,
      gcm,
      gdm,
      close(timeoutMs = 1500) {
        closing ??= (async () => {
          await Promise.race([gcm.leave(), new Promise<void>((r) => setTimeout(r, timeoutMs))]);
          await gdm.close();
          gcm.close();
          await tm.close();
        })();
        return closing;
      },
    });
  }
  return members;
}
