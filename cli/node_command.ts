/**
 * `raincore node`: one cluster member as an OS process over UDP. Events go to stdout as JSON lines
 * (`ready`, `view`, `deliver`, `leave`); commands come from stdin (`send TEXT`, `send-safe TEXT`,
 * `leave`, `quit`). Tests and benchmarks drive real clusters through it.
 * @module
 */

import type { ViewMode } from "../gcm/types.ts";
import { createUdpTransport, parseUdpAddress } from "../transport/udp.ts";
import type { Command } from "./commands.ts";
import { numberFlag, parseFlags, requiredFlag, stringFlag, UsageError } from "./args.ts";
import { emitLine } from "./json_out.ts";
import { forEachStdinLine } from "./lines.ts";
import { startMember } from "./member.ts";

const usage = `raincore node — run one cluster member over UDP

usage: raincore node --id ID --listen udp://HOST:PORT [--peer ID=udp://HOST:PORT …] [flags]

  --id ID                 this node's ID (IDs are compared as strings: the lowest leads merges)
  --listen udp://H:P      where this node receives (port 0 = any free port)
  --peer ID=udp://H:P     a member to contact at start (repeatable)
  --mode M                three-phase (default) | two-phase | every-token
  --eating-ms N           idle token hold time (default 20)
  --hungry-ms N           wait for the token before suspecting it lost (default 1000)
  --starving-ms N         911 resend period while the token is missing (default 300)
  --rto-ms N              Transport Manager retransmission floor (default 20)
  --rto-max-ms N          retransmission ceiling, back-off included (default 1000)
  --retries N             resends per address before a node counts as failed (default 4)

stdout: one JSON object per line with "t" (ms since the epoch) and "event":
  ready {id, address}   view {index, members}   deliver {from, seq, level, data}   leave {graceful}
stdin: send TEXT | send-safe TEXT | leave | quit`;

const MODES: readonly ViewMode[] = ["three-phase", "two-phase", "every-token"];

/** The `node` subcommand. */
export const nodeCommand: Command = {
  summary: "run one cluster member over UDP (JSON lines out, commands in)",
  usage,
  async run(argv) {
    const flags = parseFlags(argv, {
      id: {},
      listen: {},
      peer: { repeat: true },
      mode: {},
      "eating-ms": {},
      "hungry-ms": {},
      "starving-ms": {},
      "rto-ms": {},
      "rto-max-ms": {},
      retries: {},
    });
    const id = requiredFlag(flags, "id");
    const listen = udpFlag("--listen", requiredFlag(flags, "listen"));
    const mode = stringFlag(flags, "mode", "three-phase") as ViewMode;
    if (!MODES.includes(mode)) throw new UsageError(`--mode must be one of ${MODES.join(", ")}`);
    const peers: Record<string, string[]> = {};
    for (const spec of flags.get("peer") ?? []) {
      const eq = spec.indexOf("=");
      if (eq <= 0) throw new UsageError(`--peer wants ID=udp://HOST:PORT, got "${spec}"`);
      udpFlag("--peer", spec.slice(eq + 1));
      (peers[spec.slice(0, eq)] ??= []).push(spec.slice(eq + 1));
    }

    const udp = await createUdpTransport({ host: listen.host, port: listen.port });
    const member = startMember({
      id,
      transports: [udp],
      peers,
      mode,
      eatingMs: numberFlag(flags, "eating-ms"),
      hungryMs: numberFlag(flags, "hungry-ms"),
      starvingMs: numberFlag(flags, "starving-ms"),
      rtoMinMs: numberFlag(flags, "rto-ms"),
      rtoMaxMs: numberFlag(flags, "rto-max-ms"),
      retries: numberFlag(flags, "retries", undefined, 1),
    });
    const { gcm } = member;
    const decoder = new TextDecoder();
    gcm.on("view", (v) => emitLine("view", { index: v.index, members: v.members }));
    gcm.on("deliver", (d) =>
      emitLine("deliver", { from: d.from, seq: d.seq, level: d.level, data: decoder.decode(d.data) })
    );
    gcm.on("leave", (l) => emitLine("leave", { graceful: l.graceful }));
    emitLine("ready", { id, address: udp.addresses[0] });

    const encoder = new TextEncoder();
    let quitting = false;
    const quit = async (code: number) => {
      if (quitting) return;
      quitting = true;
      await member.close();
      emitLine("exit", { code });
      exit(code);
    };
    await forEachStdinLine(async (line) => {
      const [word, ...rest] = line.split(" ");
      const text = rest.join(" ");
      try {
        if (word === "send") gcm.multicast(encoder.encode(text));
        else if (word === "send-safe") gcm.multicast(encoder.encode(text), { level: "safe" });
        else if (word === "leave") await gcm.leave();
        else if (word === "quit") await quit(0);
        else if (word !== "") emitLine("error", { message: `unknown command "${word}"` });
      } catch (error) {
        emitLine("error", { message: (error as Error).message, name: (error as Error).name });
      }
    });
    // stdin closed: keep running until killed, like a daemon whose controller went away.
    return await new Promise<number>(() => {});
  },
};

function udpFlag(flag: string, address: string): ReturnType<typeof parseUdpAddress> {
  try {
    return parseUdpAddress(address);
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`);
  }
}

function exit(code: number): never {
  const deno = (globalThis as { Deno?: { exit(code: number): never } }).Deno;
  if (deno !== undefined) deno.exit(code);
  return (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(code);
}
