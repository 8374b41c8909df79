/**
 * The local demo, all in one process: a web server (the page, the browser bundle, the WebSocket hub
 * for signaling and relay) and three ring members on UDP loopback that hold the board when no tab is
 * open; the first of them is the hub (a member that accepts WebSockets relays for the others).
 * Browser tabs join the same ring over WebRTC, with the hub as relay fallback — every member, tabs
 * and servers, is given only the hub's URL.
 * No STUN server is used and nothing leaves the host it binds (127.0.0.1 by default).
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
import type { WebSocketLike } from "../../mod.ts";
import { ensureBundle } from "./bundle.ts";
import { startWebServer } from "./http.ts";
import { DEMO_TIMING, type ServerMember, startServerMembers } from "./members.ts";

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
}

/** A running demo. */
export interface Demo {
  /** The page, `http://host:port/`. */
  url: string;
  /** The hub, `ws://host:port/`. */
  hub: string;
  /** The server members. */
  members: ServerMember[];
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
  // The hub member needs the bound URL, so it starts after the web server; until then upgrades are
  // refused (nobody has the URL yet but this process).
  const hubRef: { accept?: (socket: WebSocketLike) => void } = {};
  const web = await startWebServer({
    host: options.host ?? "127.0.0.1",
    port: options.port ?? 8080,
    publicDir: join(root, "cli", "demo", "public"),
    bundle,
    config: (hub) => ({ hub, members: ids, timing: DEMO_TIMING, iceServers: options.iceServers ?? [] }),
    accept: (s) => (hubRef.accept ? hubRef.accept(s) : s.close(1013, "starting")),
  });
  log(`starting members ${ids.join(", ")} on UDP loopback; ${ids[0]} is the hub at ${web.hub} …`);
  const members = await startServerMembers(web.hub, ids, (accept) => (hubRef.accept = accept));
  let closing: Promise<void> | undefined;
  return {
    url: web.url,
    hub: web.hub,
    members,
    membersUp: (timeoutMs = 15_000) => allInOneView(members, timeoutMs),
    close() {
      closing ??= (async () => {
        await Promise.all(members.map((m) => m.close()));
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
