/**
 * One member as the command line runs it (the benchmark members run the same): {@link createNode}
 * with the timing the flags set, a hook to attach a GroupDataManager before the GCM starts, and an
 * immediate close.
 * @module
 */

import { createNode, type GcmNode } from "../gcm/create_node.ts";
import type { GroupCommunicationManager } from "../gcm/manager.ts";
import type { TimingOptions } from "../gcm/timing.ts";
import type { ViewMode } from "../gcm/types.ts";
import type { TransportManager } from "../transport/manager.ts";
import type { PacketTransport } from "../transport/packet_transport.ts";

/** Options of {@link startMember}. */
export interface MemberOptions {
  id: string;
  transports: PacketTransport[];
  peers: Record<string, string[]>;
  /** Addresses to join through without knowing the IDs (`createNode({ join })`). @default {[]} */
  join?: readonly string[];
  mode?: ViewMode;
  /** Timing of both layers (the `--*-ms` flags, `runtime/timing_flags.ts`). @default {{}} */
  timing?: TimingOptions;
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
    join: o.join,
    mode: o.mode,
    timing: o.timing,
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
