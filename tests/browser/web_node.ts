/**
 * One raincore node over the web transports, the same code in a Chromium page, in Node and in Deno:
 * a WebSocket transport (a server, or a client attached to one), optionally a WebRTC transport
 * signaled through it, a Transport Manager over both (WebRTC address first, then the WebSocket or
 * relay address), and a GCM that records its views and deliveries.
 * @module
 */
import { GroupCommunicationManager } from "../../gcm/manager.ts";
import { TransportManager } from "../../transport/manager.ts";
import type { PacketTransport } from "../../transport/packet_transport.ts";
import { createWebRtcTransport, type WebRtcTransport } from "../../transport/webrtc/mod.ts";
import { createWebSocketTransport, type WebSocketTransport } from "../../transport/websocket/mod.ts";

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
  /** Stops everything. */
  close(): Promise<void>;
}

/** The addresses a node announces for the ring: WebRTC first, then its WebSocket or relay address. */
export function webAddresses(ws: WebSocketTransport, rtc: WebRtcTransport | undefined): string[] {
  return [...(rtc?.addresses ?? []), ...ws.addresses];
}

/** A node whose transports are up but whose GCM has not started (its addresses are known). */
export interface OpenWebNode {
  /** The Transport Manager. */
  tm: TransportManager;
  /** The WebSocket transport. */
  ws: WebSocketTransport;
  /** The WebRTC transport, if any. */
  rtc: WebRtcTransport | undefined;
  /** Learns the other nodes' addresses and starts the GCM. */
  start(peers: WebPeer[], join?: string[]): WebNode;
  /** Stops the transports. */
  close(): Promise<void>;
}

/** Opens the transports of a node (the GCM starts with {@link OpenWebNode.start}). */
export async function openWebNode(cfg: Omit<WebNodeConfig, "peers" | "join">): Promise<OpenWebNode> {
  const ws = await createWebSocketTransport(
    cfg.listenPort !== undefined
      ? { id: cfg.nodeId, listen: { port: cfg.listenPort } }
      : { id: cfg.nodeId, servers: cfg.server === undefined ? [] : [cfg.server] },
  );
  const rtc = cfg.webrtc ? await createWebRtcTransport({ signaling: ws, loopbackOnly: true }) : undefined;
  const transports: PacketTransport[] = rtc === undefined ? [ws] : [rtc, ws];
  const tm = new TransportManager({ nodeId: cfg.nodeId, transports, rtoMaxMs: 500 });
  return {
    tm,
    ws,
    rtc,
    close: () => tm.close(),
    start(peers, join) {
      for (const p of peers) if (p.id !== cfg.nodeId) tm.setAddresses(p.id, p.addresses);
      const gcm = new GroupCommunicationManager({
        layer: tm,
        peers: join ?? peers.map((p) => p.id),
        hungryMs: 3000,
      });
      const views: string[][] = [];
      const delivered: string[] = [];
      const text = new TextDecoder();
      gcm.on("view", (v) => views.push(v.members.slice()));
      gcm.on("deliver", (d) => delivered.push(`${d.from}:${text.decode(d.data)}`));
      gcm.start();
      return {
        tm,
        gcm,
        ws,
        rtc,
        views,
        delivered,
        close: async () => {
          gcm.close();
          await tm.close(); // closes ws and rtc too
        },
      };
    },
  };
}

/** Starts a node. */
export async function startWebNode(cfg: WebNodeConfig): Promise<WebNode> {
  const node = await openWebNode(cfg);
  return node.start(cfg.peers, cfg.join);
}
