/**
 * One member as the command line runs it (the benchmark members run the same): {@link createNode}
 * with the CLI's defaults, a hook to attach a GroupDataManager before the GCM starts, and an
 * immediate close.
 * @module
 */

import { createNode, type GcmNode } from "../gcm/create_node.ts";
import type { GroupCommunicationManager } from "../gcm/manager.ts";
import type { ViewMode } from "../gcm/types.ts";
import type { TransportManager } from "../transport/manager.ts";
import type { PacketTransport } from "../transport/packet_transport.ts";

/** Options of {@link startMember}. */
export interface MemberOptions {
  id: string;
  transports: PacketTransport[];
  peers: Record<string, string[]>;
  mode?: ViewMode;
  eatingMs?: number;
  /** Hungry timeout, ms. @default {1000} (the GCM's default, as `raincore node --help` says) */
  hungryMs?: number;
  starvingMs?: number;
  /** Retransmission floor (`--rto-ms`). @default {20} */
  rtoMinMs?: number;
  /** Retransmission ceiling (`--rto-max-ms`). @default {1000} */
  rtoMaxMs?: number;
  retries?: number;
  /** Expected group size (the quorum policy's majority is more than half of it). @default {undefined} */
  expectedSize?: number;
  /** Process incarnation; must grow across restarts. @default {time-based, see createNode} */
  incarnation?: number;
  /** Called with the managers before the GCM starts (attach a GroupDataManager here). */
  beforeStart?: (tm: TransportManager, gcm: GroupCommunicationManager) => void;
}

/** A running member. */
export interface Member {
  tm: TransportManager;
  gcm: GroupCommunicationManager;
  /** The node as {@link createNode} returned it. */
  node: GcmNode;
  /** Stops at once, without a graceful leave (stdin `leave` does that), and closes the transports. */
  close(): Promise<void>;
}

/** Starts a member and asks its peers to add it. */
export function startMember(o: MemberOptions): Member {
  const beforeStart = o.beforeStart;
  const node = createNode({
    id: o.id,
    transports: o.transports,
    peers: o.peers,
    mode: o.mode,
    eatingMs: o.eatingMs,
    // The CLI documents 1000 ms; createNode's own default derives it from the TM's failure time.
    hungryMs: o.hungryMs ?? 1000,
    starvingMs: o.starvingMs,
    rtoMinMs: o.rtoMinMs,
    rtoMaxMs: o.rtoMaxMs ?? 1000,
    retries: o.retries,
    expectedSize: o.expectedSize,
    incarnation: o.incarnation,
    beforeStart: beforeStart === undefined ? undefined : (n) => beforeStart(n.transport, n.gcm),
  });
  const { gcm, transport: tm } = node;
  return {
    tm,
    gcm,
    node,
    async close() {
      gcm.close();
      await tm.close();
    },
  };
}
