/**
 * `raincore demo`: the shared-board demo (cli/demo) — a web server with the WebSocket hub and
 * three ring members on UDP loopback; open the printed URL in several tabs, each tab joins the
 * ring. Ctrl-C (SIGINT/SIGTERM) makes the members leave gracefully and exits 0.
 * @module
 */
import { startDemo } from "./demo/server.ts";
import { CommandFailedError, parseFlags, stringFlag, UsageError } from "../runtime/args.ts";
import { interrupted } from "../runtime/process.ts";
import type { Command } from "./commands.ts";
import { warnIfExposed } from "./exposure_warning.ts";
import { readKeyFile } from "./key_file_flag.ts";

const usage = `raincore demo — a collaborative board: server members + browser tabs in one ring

usage: raincore demo [--host 127.0.0.1] [--port 8080] [--stun stun:HOST:PORT] [--key-file F]

  --host H       address to bind the web server and hub (default 127.0.0.1)
  --port P       port of the web server and hub; 0 picks a free one (default 8080)
  --stun U       STUN server for the tabs' WebRTC (repeatable; default none: no STUN traffic)
  --key-file F   a cluster key (raincore key new): members authenticate every packet, the hub
                 every relay ID, and each tab gets a credential for one of 32 tab IDs
  --help         this text

Serves the page and dist/raincore.browser.js (built if missing or stale), the WebSocket hub
(signaling + relay) and three members (alpha, bravo, charlie) on UDP loopback. Open the URL in
several tabs; close one to watch the fail-over. Ctrl-C stops it. Bound to another address than
loopback without --key-file, it warns: anyone who reaches the port could then act as a member.`;

/** The `demo` subcommand. */
export const demoCommand: Command = {
  summary: "collaborative board demo: web page + 3 members on UDP; tabs join the ring",
  usage,
  async run(argv) {
    const flags = parseFlags(argv, {
      host: {},
      port: {},
      stun: { repeat: true },
      "key-file": {},
      help: { value: false },
    });
    const host = stringFlag(flags, "host", "127.0.0.1")!;
    const port = Number(stringFlag(flags, "port", "8080"));
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new UsageError(`--port must be an integer in 0..65535, got "${stringFlag(flags, "port")}"`);
    }
    const log = (line: string) => console.error(`demo: ${line}`);
    const keyFile = flags.get("key-file")?.[0];
    const key = keyFile === undefined ? undefined : await readKeyFile(keyFile);
    if (key !== undefined && !(key instanceof Uint8Array)) {
      throw new UsageError("--key-file: the demo needs the cluster key (it issues the tabs' credentials)");
    }
    const stop = interrupted();
    const stun = flags.get("stun") ?? [];
    const demo = await startDemo({ host, port, log, key, iceServers: stun.map((urls) => ({ urls })) }).catch(
      (error: { code?: string }) => {
        if (error.code === "EADDRINUSE") {
          throw new CommandFailedError(
            `--port ${port}: the port is in use on ${host}; pick another port, or --port 0 for any free one`,
          );
        }
        if (error.code === "EADDRNOTAVAIL") {
          throw new CommandFailedError(`--host ${host}: not an address of this machine`);
        }
        throw error;
      },
    );
    const bound = `http://${host.includes(":") ? `[${host}]` : host}:${new URL(demo.url).port}/`;
    warnIfExposed("raincore demo", host, bound, key !== undefined);
    const ids = demo.members.map((m) => m.id).join(", ");
    try {
      const index = await demo.membersUp();
      log(`members ${ids} are up: one ring, view #${index}`);
    } catch (error) {
      log(`${(error as Error).message}; the page works, tabs join whoever is up`);
    }
    console.log(`raincore demo: open ${demo.url} in a few tabs (Ctrl-C stops)`);
    const signal = await stop;
    log(`${signal}: members leave the ring …`);
    await demo.close();
    log("stopped");
    return 0;
  },
};
