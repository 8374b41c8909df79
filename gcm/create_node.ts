/**
 * `createNode()`: one call that wires a Transport Manager and a Group Communication Manager over
 * the given packet backends and starts the node (`beforeStart` attaches layers such as a
 * GroupDataManager first). Use the classes directly for anything finer.
 * @module
 */
import { type Clock, SystemClock } from "../base/clock.ts";
import { TransportManager } from "../transport/manager.ts";
import type { PacketTransport } from "../transport/packet_transport.ts";
import { type NodeCredential, secureTransport } from "../transport/secure/secure.ts";
import type { ViewEvent } from "./events.ts";
import { AddressJoin } from "./address_join.ts";
import { GroupCommunicationManager } from "./manager.ts";
import type { GcmMetrics } from "./metrics.ts";
import type { WaitOptions } from "./options.ts";
import { resolveTiming, type TimingOptions } from "./timing.ts";
import type { TransportStats } from "../transport/manager.ts";
import type { IncarnationConflict } from "../transport/peer_rounds.ts";
import { type Logger, resolveLogger } from "../base/log.ts";
import type { ViewMode } from "./types.ts";

/** Options of {@link createNode}. */
export interface CreateNodeOptions {
  /** This node's ID (unique in the group; "lowest ID" is plain string comparison). */
  id: string;
  /** Packet backends (e.g. a UDP transport, or `SimNetwork.createTransport()`). */
  transports: readonly PacketTransport[];
  /** Initial peers: node ID → addresses. The node asks them to let it join. @default {{}} */
  peers?: Record<string, readonly string[]>;
  /**
   * Addresses to join through when the members' IDs are not known — a hub's URL
   * (`"ws://hub.example/"`), any member's `udp://` address: the node behind each is asked for its ID,
   * then for admission, and every other member's addresses come with the join. With a node credential
   * (`key`) the IDs must be known (`peers`); a cluster key works. @default {[]}
   */
  join?: readonly string[];
  /** View mode (3.7.1). @default {"three-phase"} */
  mode?: ViewMode;
  /**
   * Timing of both layers, one name per setting (`eatingMs`, `hungryMs`, `rtoInitialMs`, `retries`, …;
   * see `TimingOptions`): the defaults derive from one another and the rules between the layers are
   * checked (`TimingError`). @default {{}}
   */
  timing?: TimingOptions;
  /** Eligible membership (3.7.3), see `GcmOptions.eligible`. @default {undefined (anyone)} */
  eligible?: readonly string[];
  /** Expected group size for the quorum policy, see `GcmOptions.expectedSize`. @default {undefined} */
  expectedSize?: number;
  /** Quorum policy: no delivery while the view has `expectedSize / 2` members or fewer. @default {false} */
  quorum?: boolean;
  /** Time source (a VirtualClock in simulations). @default {a SystemClock} */
  clock?: Clock;
  /** Process incarnation; must grow across restarts. @default {time-based, from the Transport Manager} */
  incarnation?: number;
  /** Transport Manager channel of the GCM. @default {16} */
  channel?: number;
  /**
   * Cluster key or node credential: every backend is wrapped in `secureTransport()` (see
   * docs/security.md). Await `loadNodeCrypto()` first on Node/Deno for synchronous crypto.
   * @default {none: packets are neither authenticated nor encrypted}
   */
  key?: Uint8Array | NodeCredential;
  /** With `key`: encrypt packet bodies (AES-256-GCM), not only authenticate them. @default {false} */
  encrypt?: boolean;
  /**
   * Called synchronously with the wired node after both managers exist and before the GCM starts,
   * so no packet has been handled and no view committed yet: attach a GroupDataManager
   * (`new GroupDataManager({ gcm: node.gcm, layer: node.transport })`) or listeners that must see
   * the first view here. Calling `node.close()` in it leaves the node unstarted (and closing). If it
   * throws, both managers are closed (no graceful leave) and `createNode` rethrows its error.
   * @default {none: the GCM starts at once}
   */
  beforeStart?: (node: GcmNode) => void;
  /**
   * Called when the Transport Manager sees two live processes with one node ID (see
   * `TransportManager.onConflict`). One ID, one member: by default, the process the peers refused —
   * in practice the one started later — logs the conflict as an error and closes itself, so the
   * group is never silently split; the other logs a warning and goes on.
   * @default {close the refused process, as described}
   */
  onIdConflict?: (conflict: IncarnationConflict, node: GcmNode) => void;
  /**
   * Where both managers say what they do; see `GcmOptions.logger`.
   * @default {console output for the namespaces in RAINCORE_DEBUG (e.g. `RAINCORE_DEBUG=gcm,tm`)}
   */
  logger?: Logger;
}

/** A node's counters: the GCM's (see {@link GcmMetrics}) and the Transport Manager's. */
export interface NodeMetrics extends GcmMetrics {
  /** Packets, retransmissions, deliveries of the Transport Manager. */
  transport: TransportStats;
}

/**
 * The type of `Symbol.asyncDispose` where the consumer's TypeScript knows it (`esnext.disposable`,
 * `@types/node`), else `never`: so `await using node = createNode(…)` type-checks where it can run,
 * and a project whose `lib` lacks it still type-checks the rest.
 */
export type AsyncDisposeSymbol = SymbolConstructor extends { readonly asyncDispose: infer K extends symbol }
  ? K
  : never;

/** A running node: its GCM, the Transport Manager below it, and a way to stop both. */
export type GcmNode = GcmNodeMembers & { [K in AsyncDisposeSymbol]: () => Promise<void> };

/** The members of a {@link GcmNode} (every runtime; `Symbol.asyncDispose` aside). */
export interface GcmNodeMembers {
  /** The node ID. */
  readonly id: string;
  /** The Group Communication Manager (views, multicast, withToken, leave). */
  readonly gcm: GroupCommunicationManager;
  /** The Transport Manager (statistics, addresses). */
  readonly transport: TransportManager;
  /** Leaves the group gracefully (bounded by `timeoutMs`), then closes the GCM and the transports. */
  close(timeoutMs?: number): Promise<void>;
  /** Resolves once the node has joined (see `GroupCommunicationManager.ready`). */
  ready(options?: WaitOptions): Promise<ViewEvent>;
  /** A snapshot of the node's counters. */
  metrics(): NodeMetrics;
}

/**
 * Creates and starts a node: a {@link TransportManager} over `transports` and a
 * {@link GroupCommunicationManager} on top that joins `peers`. The GCM takes the Transport Manager's
 * incarnation as it is (a full 53-bit number, never cut to 32 bits).
 * @throws {RangeError} for invalid options (from either manager).
 * @throws {TimingError} when `timing` breaks a rule between the layers.
 * @throws whatever `beforeStart` throws, after closing both managers.
 */
export function createNode(options: CreateNodeOptions): GcmNode {
  const clock = options.clock ?? new SystemClock();
  const timing = resolveTiming(options.timing);
  const transport = new TransportManager({
    nodeId: options.id,
    transports: options.key === undefined
      ? options.transports
      : options.transports.map((t) =>
        secureTransport(t, { key: options.key!, nodeId: options.id, encrypt: options.encrypt })
      ),
    clock,
    incarnation: options.incarnation,
    ...timing.transport,
  });
  const peers = options.peers ?? {};
  for (const [id, addresses] of Object.entries(peers)) {
    if (id !== options.id) transport.setAddresses(id, addresses);
  }
  const gcm = new GroupCommunicationManager({
    layer: transport,
    clock,
    incarnation: transport.incarnation,
    channel: options.channel,
    mode: options.mode,
    peers: Object.keys(peers),
    expectPeers: Object.keys(peers).some((p) => p !== options.id) || (options.join?.length ?? 0) > 0,
    timing: timing.gcm,
    eligible: options.eligible,
    expectedSize: options.expectedSize,
    quorum: options.quorum,
    logger: options.logger,
  });
  let joiner: AddressJoin | undefined;
  gcm.on("close", () => joiner?.close());
  let closing: Promise<void> | undefined;
  const node: GcmNode = {
    id: options.id,
    gcm,
    transport,
    close(timeoutMs = 2000) {
      closing ??= (async () => {
        // Bound the graceful leave with the node's own clock (a VirtualClock in simulations).
        await new Promise<void>((resolve) => {
          const timer = clock.setTimer(timeoutMs, resolve);
          gcm.leave().then(() => {
            clock.clearTimer(timer);
            resolve();
          });
        });
        gcm.close();
        await transport.close();
      })();
      return closing;
    },
    ready: (o) => gcm.ready(o),
    metrics: () => ({ ...gcm.metrics(), transport: { ...transport.stats } }),
    [Symbol.asyncDispose]() {
      return this.close();
    },
  };
  const log = resolveLogger(options.logger);
  transport.onConflict((c) => {
    if (options.onIdConflict !== undefined) {
      options.onIdConflict(c, node);
      return;
    }
    const refused = c.self && c.refused;
    log({
      level: refused ? "error" : "warn",
      namespace: "tm",
      message: refused
        ? `another live process runs as node "${c.nodeId}" and the peers talk to it: this one stops`
        : `two live processes claim node "${c.nodeId}" (incarnations ${c.incarnations.join(", ")})`,
      fields: { ...c },
    });
    if (refused) void node.close(0);
  });
  if (options.beforeStart !== undefined) {
    try {
      options.beforeStart(node);
    } catch (error) {
      gcm.close();
      // The hook's error is the one the caller gets; a failure to close as well is logged, not lost.
      transport.close().catch((closeError) =>
        log({
          level: "error",
          namespace: "tm",
          message: "closing the transport after beforeStart threw failed too",
          fields: { error: closeError },
        })
      );
      throw error;
    }
  }
  if (closing === undefined) {
    gcm.start();
    if ((options.join?.length ?? 0) > 0) {
      joiner = new AddressJoin({
        clock,
        discover: (address, outcome) => transport.discover(address, outcome),
        addresses: options.join!,
        retryMs: timing.gcm.joinRetryMs,
        found: (id) => {
          if (id !== options.id && !gcm.core.left) gcm.addPeer(id);
        },
        alone: () => gcm.view.members.length <= 1,
      });
    }
  }
  return node;
}
