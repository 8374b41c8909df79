/**
 * A raincore ring member as a Cloudflare Durable Object. Members — servers, browser tabs, other
 * edge nodes — dial its URL over WebSocket; the Worker hands each upgrade to the one object of the
 * ring (`idFromName`), which accepts the socket with the Workers WebSocket API (`WebSocketPair`,
 * `state.acceptWebSocket`: the hibernation API, whose events arrive as `webSocketMessage` /
 * `webSocketClose`) and gives it to raincore's WebSocket backend. The object runs the whole stack —
 * Transport Manager, GCM, GDM — relays between its clients, and reaches them back over their own
 * connections: it never dials out. Members need only its URL (`createNode({ join: [url] })`).
 *
 * Eviction and hibernation: while it is a ring member its timers keep the object in memory (the
 * token comes by every round). When the platform evicts it anyway (a deploy, a crash, a move), its
 * clients' connections end, the members remove it from the view like a crashed member, and their
 * WebSocket transports redial; the first upgrade starts a fresh instance, which rejoins as a new
 * incarnation and gets the data back from the others (GDM state transfer). If an instance is woken
 * from hibernation with connections still open, it closes them (1012) so that the clients dial
 * again and introduce themselves to the new instance.
 * @module
 */
import {
  createNode,
  createWebSocketTransport,
  type GcmNode,
  GroupDataManager,
  type WebSocketEventLike,
  type WebSocketLike,
  type WebSocketTransport,
} from "../../mod.ts";

/** The part of the Workers WebSocket the member uses (server side, hibernation API). */
export interface CfWebSocket {
  readonly readyState: number;
  send(data: ArrayBuffer | Uint8Array | string): void;
  close(code?: number, reason?: string): void;
}

/** The part of `DurableObjectState` the member uses. */
export interface CfDurableObjectState {
  acceptWebSocket(ws: CfWebSocket): void;
  getWebSockets(): CfWebSocket[];
}

/** The Worker environment: `MEMBER_ID` names the member. */
export interface RingEnv {
  /** Node ID of the member. @default {"edge"} */
  MEMBER_ID?: string;
}

/**
 * A hibernation-API socket as the WebSocket backend sees one: the object's handlers feed its events
 * in ({@link HibernatableSocket.dispatch}).
 */
class HibernatableSocket implements WebSocketLike {
  binaryType = "arraybuffer";
  readonly #ws: CfWebSocket;
  readonly #listeners = new Map<string, Array<(event: WebSocketEventLike) => void>>();

  constructor(ws: CfWebSocket) {
    this.#ws = ws;
  }

  get readyState(): number {
    return this.#ws.readyState;
  }

  get bufferedAmount(): number {
    return 0; // not reported by the Workers runtime; it buffers on its own
  }

  send(data: Uint8Array): void {
    this.#ws.send(data);
  }

  close(code?: number, reason?: string): void {
    this.#ws.close(code, reason);
  }

  addEventListener(type: string, listener: (event: WebSocketEventLike) => void): void {
    const list = this.#listeners.get(type) ?? [];
    list.push(listener);
    this.#listeners.set(type, list);
  }

  /** Delivers an event of the underlying socket. */
  dispatch(type: string, event: WebSocketEventLike): void {
    for (const fn of this.#listeners.get(type) ?? []) fn(event);
  }
}

/** A running member inside the object. */
interface Member {
  node: GcmNode;
  gdm: GroupDataManager;
  ws: WebSocketTransport;
  url: string;
}

/** The Durable Object: one ring member (see the module documentation). */
export class RingMember {
  readonly #state: CfDurableObjectState;
  readonly #id: string;
  readonly #sockets = new WeakMap<CfWebSocket, HibernatableSocket>();
  #member: Promise<Member> | undefined;

  /** A new instance: the first, or one after eviction or hibernation. */
  constructor(state: CfDurableObjectState, env: RingEnv) {
    this.#state = state;
    this.#id = env.MEMBER_ID ?? "edge";
    // Connections that outlived the previous instance: their clients introduced themselves to it, not
    // to us. Closing them makes them dial again (they redial by themselves) and say who they are.
    for (const ws of state.getWebSockets()) ws.close(1012, "restarted");
  }

  /** WebSocket upgrades join the ring; any other request gets the member's view as JSON. */
  async fetch(request: Request): Promise<Response> {
    const member = await (this.#member ??= this.#start(request.url));
    if (request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      const pair = new (globalThis as unknown as { WebSocketPair: new () => Record<string, CfWebSocket> })
        .WebSocketPair();
      const [client, server] = Object.values(pair);
      this.#state.acceptWebSocket(server);
      const socket = new HibernatableSocket(server);
      this.#sockets.set(server, socket);
      member.ws.accept(socket);
      return new Response(null, { status: 101, webSocket: client } as ResponseInit);
    }
    const v = member.node.gcm.view;
    const items = Object.fromEntries(member.gdm.keys().map((k) => [k, member.gdm.get(k)]));
    return Response.json({
      id: this.#id,
      url: member.url,
      view: { index: v.index, members: v.members },
      items,
    });
  }

  /** Hibernation API: a message on an accepted socket. */
  webSocketMessage(ws: CfWebSocket, message: ArrayBuffer | string): void {
    this.#sockets.get(ws)?.dispatch("message", { data: message });
  }

  /** Hibernation API: an accepted socket closed. */
  webSocketClose(ws: CfWebSocket, code: number): void {
    this.#sockets.get(ws)?.dispatch("close", { code });
  }

  /** Hibernation API: an accepted socket failed. */
  webSocketError(ws: CfWebSocket): void {
    this.#sockets.get(ws)?.dispatch("error", {});
  }

  async #start(requestUrl: string): Promise<Member> {
    // The URL the members dial: this request's, as a WebSocket URL.
    const u = new URL(requestUrl);
    const url = `${u.protocol === "https:" ? "wss:" : "ws:"}//${u.host}${u.pathname}`;
    const ws = await createWebSocketTransport({ id: this.#id, advertise: [url] });
    const node = createNode({ id: this.#id, transports: [ws] });
    const gdm = new GroupDataManager({ gcm: node.gcm, layer: node.transport });
    return { node, gdm, ws, url };
  }
}
