/**
 * Wires one member for the command line: a Transport Manager over the given backends and a Group
 * Communication Manager on top.
 * @module
 */

import { GroupCommunicationManager } from "../gcm/manager.ts";
import type { ViewMode } from "../gcm/types.ts";
import { TransportManager } from "../transport/manager.ts";
import type { PacketTransport } from "../transport/packet_transport.ts";

/** Options of {@link startMember}. */
export interface MemberOptions {
  id: string;
  transports: PacketTransport[];
  peers: Record<string, string[]>;
  mode?: ViewMode;
  eatingMs?: number;
  hungryMs?: number;
  starvingMs?: number;
  rtoMinMs?: number;
  rtoMaxMs?: number;
  retries?: number;
  /** Called with the managers before the GCM starts (attach a GroupDataManager here). */
  beforeStart?: (tm: TransportManager, gcm: GroupCommunicationManager) => void;
}

/** A running member. */
export interface Member {
  tm: TransportManager;
  gcm: GroupCommunicationManager;
  close(): Promise<void>;
}

/** Starts a member and asks its peers to add it. */
export function startMember(o: MemberOptions): Member {
  const tm = new TransportManager({
    nodeId: o.id,
    transports: o.transports,
    rtoMinMs: o.rtoMinMs,
    rtoMaxMs: o.rtoMaxMs,
    retries: o.retries,
  });
  for (const [peer, addresses] of Object.entries(o.peers)) tm.setAddresses(peer, addresses);
  const gcm = new GroupCommunicationManager({
    layer: tm,
    incarnation: tm.incarnation % 0x1_0000_0000,
    mode: o.mode,
    peers: Object.keys(o.peers),
    eatingMs: o.eatingMs,
    hungryMs: o.hungryMs,
    starvingMs: o.starvingMs,
  });
  o.beforeStart?.(tm, gcm);
  gcm.start();
  return {
    tm,
    gcm,
    async close() {
      gcm.close();
      await tm.close();
    },
  };
}
