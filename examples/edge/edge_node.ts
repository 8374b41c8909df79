/**
 * An edge node: a ring member that lives behind an HTTP handler (`Deno.serve`, or any runtime
 * that hands out WebSocket upgrades) and talks to the other members only over the WebSocket
 * connections they open to it ({@link WebSocketTransport.accept}) — no UDP, no listening socket
 * of its own. Members reach it at its public `ws://` / `wss://` URL; it reaches them back over
 * the same connections (their relay addresses, learned from their first packet).
 * @module
 */
import {
  createNode,
  createWebSocketTransport,
  type GcmNode,
  GroupDataManager,
  type WebSocketLike,
  type WebSocketTransport,
} from "../../mod.ts";

/** Options of {@link createEdgeNode}. */
export interface EdgeNodeOptions {
  /** Node ID. @default {"edge"} */
  id?: string;
  /** The URL members dial, e.g. `wss://edge.example.com/` (what this node announces). */
  url: string;
  /** Members to ask for admission (their addresses). @default {{}}: members join the edge */
  peers?: Record<string, readonly string[]>;
  /** Turns an upgrade request into a socket and the response to return (`Deno.upgradeWebSocket`). */
  upgrade: (request: Request) => { socket: WebSocketLike; response: Response };
}

/** A running edge node. */
export interface EdgeNode {
  /** The ring member (GCM + Transport Manager). */
  node: GcmNode;
  /** Replicated data, shared with the ring. */
  gdm: GroupDataManager;
  /** The accept-only WebSocket transport. */
  ws: WebSocketTransport;
  /** The HTTP handler: WebSocket upgrades join the ring; `GET /` answers the view as JSON. */
  fetch(request: Request): Response;
  /** Leaves the ring and closes every connection. */
  close(): Promise<void>;
}

/** Creates an edge node. */
export async function createEdgeNode(o: EdgeNodeOptions): Promise<EdgeNode> {
  const id = o.id ?? "edge";
  const ws = await createWebSocketTransport({ id, advertise: [o.url] });
  const node = createNode({ id, transports: [ws], peers: { ...(o.peers ?? {}) } });
  const gdm = new GroupDataManager({ gcm: node.gcm, layer: node.transport });
  return {
    node,
    gdm,
    ws,
    fetch(request) {
      if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
        const { socket, response } = o.upgrade(request);
        ws.accept(socket);
        return response;
      }
      const v = node.gcm.view;
      const body = JSON.stringify({
        id,
        url: o.url,
        view: { index: v.index, members: v.members },
        items: gdm.size,
      });
      return new Response(body, { headers: { "content-type": "application/json" } });
    },
    async close() {
      await gdm.close();
      await node.close(1000);
    },
  };
}
