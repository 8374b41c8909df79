/**
 * One raincore node over the web transports, the same code in a Chromium page, in Node and in Deno:
 * a WebSocket transport (a server, or a client attached to one), optionally a WebRTC transport
 * signaled through it, and the GCM's `createNode()` over both (WebRTC address first, then the
 * WebSocket or relay address), recording views and deliveries.
 * @module
 */
// The public browser entry (what dist/raincore.browser.js holds), also on Node and Deno.
import {
  createNode,
  createWebRtcTransport,
  createWebSocketTransport,
  type GroupCommunicationManager,
  type PacketTransport,
  type TransportManager,
  watchPageLifecycle,
  type WebRtcTransport,
  type WebSocketTransport,
} from "../../mod.ts";

/** A node of the ring and how to reach it. */
export interface WebPeer {
  /** Node ID (also its relay ID). */
  id: string;
  /** Its addresses, preferred first. */
  addresses: string[];
}

/** How to start a {@link WebNode}. */
export interface WebNodeConfig {
  /** Node ID, also the relay ID. */
  nodeId: string;
  /** Listen on this port (0 = any) as the ring's WebSocket server, instead of attaching to `server`. */
  listenPort?: number;
  /** The WebSocket server to attach to (clients). */
  server?: string;
  /** Open WebRTC channels (signaled through the WebSocket server). */
  webrtc: boolean;
  /** Other nodes. */
  peers: WebPeer[];
  /** GCM peers to ask for membership (default: every peer). */
  join?: string[];
  /** Addresses to join through without knowing any ID (`createNode({ join })`). @default {[]} */
  joinVia?: string[];
  /** Follow the page's lifecycle (`watchPageLifecycle`: hidden, frozen, shown). @default {false} */
  lifecycle?: boolean;
}

/** A running node and what it saw. */
export interface WebNode {
  /** The Transport Manager. */
  tm: TransportManager;
  /** The GCM. */
  gcm: GroupCommunicationManager;
  /** The WebSocket transport. */
  ws: WebSocketTransport;
  /** The WebRTC transport, if any. */
  rtc: WebRtcTransport | undefined;
  /** Committed views (member lists). */
  views: string[][];
  /** Delivered multicasts as `from:text`. */
  delivered: string[];
  /** Leave events (`reason`), in order. */
  leaves: string[];
  /** Stops everything. */
  close(): Promise<void>;
}

/** The addresses a node announces for the ring: WebRTC first, then its WebSocket or relay address. */
export function webAddresses(ws: WebSocketTransport, rtc: WebRtcTransport | undefined): string[] {
  return [...(rtc?.addresses ?? []), ...ws.addresses];
}

/** A node whose transports are up but whose GCM has not started (its addresses are known). */
export interface OpenWebNode {
  /** The WebSocket transport. */
  ws: WebSocketTransport;
  /** The WebRTC transport, if any. */
  rtc: WebRtcTransport | undefined;
  /**
   * Learns the other nodes' addresses and starts the node, asking `join` (default: all) to let it in,
   * and the nodes behind `joinVia`; with `lifecycle`, it follows the page's lifecycle.
   */
  start(peers: WebPeer[], join?: string[], joinVia?: string[], lifecycle?: boolean): WebNode;
  /** Stops the transports (before `start`). */
  close(): Promise<void>;
}

/** Opens the transports of a node (the GCM starts with {@link OpenWebNode.start}). */
export async function openWebNode(
  cfg: Omit<WebNodeConfig, "peers" | "join" | "joinVia" | "lifecycle">,
): Promise<OpenWebNode> {
  const ws = await createWebSocketTransport(
    cfg.listenPort !== undefined
      ? { id: cfg.nodeId, listen: { port: cfg.listenPort } }
      : { id: cfg.nodeId, servers: cfg.server === undefined ? [] : [cfg.server] },
  );
  const rtc = cfg.webrtc ? await createWebRtcTransport({ signaling: ws, loopbackOnly: true }) : undefined;
  const transports: PacketTransport[] = rtc === undefined ? [ws] : [rtc, ws];
  return {
    ws,
    rtc,
    close: async () => {
      await rtc?.close();
      await ws.close();
    },
    start(peers, join, joinVia, lifecycle) {
      const others = peers.filter((p) => p.id !== cfg.nodeId);
      const asked = new Set(join ?? others.map((p) => p.id));
      const node = createNode({
        id: cfg.nodeId,
        transports,
        peers: Object.fromEntries(others.filter((p) => asked.has(p.id)).map((p) => [p.id, p.addresses])),
        join: joinVia,
      });
      if (lifecycle === true) watchPageLifecycle(node.gcm);
      for (const p of others) if (!asked.has(p.id)) node.transport.setAddresses(p.id, p.addresses);
      const views: string[][] = [];
      const delivered: string[] = [];
      const leaves: string[] = [];
      const text = new TextDecoder();
      node.gcm.on("view", (v) => views.push(v.members.slice()));
      node.gcm.on("leave", (e) => leaves.push(e.reason));
      node.gcm.on("deliver", (d) => delivered.push(`${d.from}:${text.decode(d.data)}`));
      // createNode started the GCM, which committed the view {self} before we subscribed.
      views.push(node.gcm.view.members.slice());
      return {
        tm: node.transport,
        gcm: node.gcm,
        ws,
        rtc,
        views,
        delivered,
        leaves,
        close: () => node.close(500), // leaves the group, then closes the managers and transports
      };
    },
  };
}

/** Starts a node. */
export async function startWebNode(cfg: WebNodeConfig): Promise<WebNode> {
  const node = await openWebNode(cfg);
  return node.start(cfg.peers, cfg.join, cfg.joinVia, cfg.lifecycle);
}
