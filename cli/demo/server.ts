/**
 * The local demo, all in one process: a web server (the page, the browser bundle, the WebSocket hub
 * for signaling and relay) and three ring members on UDP loopback that hold the board when no tab is
 * open; the first of them owns the hub (a member that accepts WebSockets relays for the others).
 * Browser tabs join the same ring over WebRTC, with the hub as relay fallback — every member, tabs
 * and servers, is given only the hub's URL (a tab of a keyed demo, whose credential needs the IDs,
 * the hub member's ID too).
 * No STUN server is used and nothing leaves the host it binds (127.0.0.1 by default).
 *
 * With a cluster key (`key`), the server members authenticate their packets, the hub takes only
 * relay IDs proven with a key, and each tab is handed a credential for one tab ID
 * (`tab_credentials.ts`): nobody can take a member's or another tab's place. Without one, the hub
 * gives a relay ID to its first live holder (see `transport/backends/websocket/inbound.ts` for the
 * hub's limits, which `hub` sets).
 *
 * ```ts
 * const demo = await startDemo({ port: 8080 });
 * console.log(demo.url);
 * await demo.close();
 * ```
 * @module
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  createWebSocketTransport,
  loadNodeCrypto,
  type WebSocketCoreOptions,
  type WebSocketLike,
  type WebSocketTransport,
  type WebSocketTransportStats,
} from "../../mod.ts";
import { ensureBundle } from "./bundle.ts";
import { startWebServer } from "./http.ts";
import { DEMO_TIMING, type ServerMember, startServerMembers } from "./members.ts";
import { TabCredentials } from "./tab_credentials.ts";

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** Host to bind. @default {"127.0.0.1"} */
  host?: string;
  /** Port of the web server and hub; 0 picks a free one. @default {8080} */
  port?: number;
  /** IDs of the server members. @default {["alpha", "bravo", "charlie"]} */
  members?: readonly string[];
  /** ICE servers (STUN/TURN) for the tabs' WebRTC. @default {[]}: no packet goes to any STUN server */
  iceServers?: ReadonlyArray<{ urls: string }>;
  /** Progress lines (stderr in the CLI). @default {nothing} */
  log?: (line: string) => void;
  /**
   * Cluster key: members authenticate every packet, the hub every relay ID, and tabs get
   * credentials for `tabSlots` tab IDs. @default {none}
   */
  key?: Uint8Array;
  /** With `key`: how many tabs can be open at once (tab IDs `tab-01` …). @default {32} */
  tabSlots?: number;
  /**
   * The hub's limits (defaults of the WebSocket backend: 1,024 connections, 8 MiB waiting per
   * client, 64 MiB in total, 10 s to identify, 2 s for a relay ID's holder to answer).
   */
  hub?: Pick<
    WebSocketCoreOptions,
    "maxConnections" | "maxBufferedBytes" | "maxTotalBufferedBytes" | "identifyTimeoutMs" | "claimCheckMs"
  >;
  /** Time an HTTP request has to send its headers, ms. @default {10_000} */
  headersTimeoutMs?: number;
  /** TCP connections open at once (page loads and WebSockets). @default {2048} */
  maxSockets?: number;
}

/** A running demo. */
export interface Demo {
  /** The page, `http://host:port/`. */
  url: string;
  /** The hub, `ws://host:port/`. */
  hub: string;
  /** The server members. */
  members: ServerMember[];
  /** The hub's counters (live): relayed and dropped packets, connections accepted and refused. */
  hubStats: WebSocketTransportStats;
  /**
   * Resolves with the view index once every server member is in one view with all the others
   * (then a tab that opens the page finds the ring up); rejects after `timeoutMs`.
   */
  membersUp(timeoutMs?: number): Promise<number>;
  /** Server members leave the ring, then the servers close. */
  close(): Promise<void>;
}

/** The repository root: the nearest folder up from this module that holds `cli/demo/public`. */
export function repoRoot(from = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    if (existsSync(join(dir, "cli", "demo", "public", "index.html"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error("cannot find cli/demo/public above " + fileURLToPath(from));
    dir = up;
  }
}

/** Starts the demo. */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const log = options.log ?? (() => {});
  const ids = options.members ?? ["alpha", "bravo", "charlie"];
  const root = repoRoot();
  const bundle = await ensureBundle(root, log);
  // Sockets that arrive before the hub transport exists wait for it (it needs the bound URL).
  const hubRef: { transport?: WebSocketTransport } = {};
  const early: WebSocketLike[] = [];
  const key = options.key;
  if (key !== undefined) await loadNodeCrypto();
  const tabs = key === undefined ? undefined : new TabCredentials(
    key,
    ids,
    options.tabSlots ?? 32,
    (id) => hubRef.transport !== undefined && !hubRef.transport.isUnreachable(`relay+${web.hub}#${id}`),
  );
  const web = await startWebServer({
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 8080,
    publicDir: join(root, "cli", "demo", "public"),
    bundle,
    config: (hub) => ({
      hub,
      members: ids,
      timing: DEMO_TIMING,
      iceServers: options.iceServers ?? [],
      keyed: key !== undefined,
      hubMember: ids[0],
    }),
    credential: tabs === undefined ? undefined : () => tabs.issue(),
    accept: (s) => (hubRef.transport ? hubRef.transport.accept(s) : early.push(s)),
    headersTimeoutMs: options.headersTimeoutMs ?? 10_000,
    maxSockets: options.maxSockets ?? 2048,
  });
  const hubTransport = await createWebSocketTransport({
    ...options.hub,
    id: ids[0], // the hub is the first member's endpoint: its relay ID is that member's ID
    advertise: [web.hub],
    key,
  });
  hubRef.transport = hubTransport;
  for (const s of early.splice(0)) hubTransport.accept(s);
  log(`hub (signaling + relay) at ${web.hub}, owned by member ${ids[0]}`);
  log(`starting members ${ids.join(", ")} on UDP loopback …`);
  const members = await startServerMembers(web.hub, hubTransport, ids, key);
  let closing: Promise<void> | undefined;
  return {
    url: web.url,
    hub: web.hub,
    members,
    hubStats: hubTransport.stats,
    membersUp: (timeoutMs = 15_000) => allInOneView(members, timeoutMs),
    close() {
      closing ??= (async () => {
        await Promise.all(members.map((m) => m.close())); // the first closes the hub transport too
        await web.close();
      })();
      return closing;
    },
  };
}

/** Resolves when every member's current view holds exactly all of `members`. */
function allInOneView(members: readonly ServerMember[], timeoutMs: number): Promise<number> {
  const want = members.map((m) => m.id).sort().join(",");
  const done = () => members.every((m) => [...m.gcm.view.members].sort().join(",") === want);
  return new Promise((resolve, reject) => {
    const offs: Array<() => void> = [];
    const stop = () => {
      clearTimeout(timer);
      for (const off of offs) off();
    };
    const check = () => {
      if (!done()) return;
      stop();
      resolve(members[0].gcm.view.index);
    };
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`the members ${want} were not in one view within ${timeoutMs} ms`));
    }, timeoutMs);
    for (const m of members) offs.push(m.gcm.on("view", check));
    check();
  });
}
