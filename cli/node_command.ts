/**
 * `raincore node`: one cluster member as an OS process over UDP. Events go to stdout as JSON lines
 * (`ready`, `view`, `deliver`, `leave`, and the Group Data Manager's `data`, `value`, `lock`,
 * `conflict`, `synced`); commands come from stdin (`send TEXT`, `send-safe TEXT`, `set KEY VALUE`,
 * `del KEY`, `get KEY`, `lock NAME`, `unlock NAME`, `leave`, `quit`). Tests and benchmarks drive
 * real clusters through it.
 * @module
 */

import type { ViewMode } from "../gcm/types.ts";
import { GroupDataManager } from "../gdm/manager.ts";
import { secureTransport } from "../transport/secure/secure.ts";
import { createUdpTransport, parseUdpAddress } from "../transport/backends/udp.ts";
import type { Command } from "./commands.ts";
import { numberFlag, parseFlags, requiredFlag, stringFlag, UsageError } from "./args.ts";
import { warnIfExposed } from "./exposure_warning.ts";
import { readKeyFile } from "./key_file_flag.ts";
import { watchIdConflicts } from "./id_conflict.ts";
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
  --eligible ID,ID,…      only these nodes may be in the group (default: anyone); stdin
                          "eligible add ID" / "eligible remove ID" change it at run time

  --data-dir DIR          keep this node's data items in DIR (survives a whole-cluster restart)
  --key-file F            authenticate every packet with the cluster key or node credential in F
                          (see docs/security.md; every member needs it)
  --encrypt               with --key-file: also encrypt packet bodies (AES-256-GCM)

stdout: one JSON object per line with "t" (ms since the epoch) and "event":
  ready {id, address}   view {index, members}   deliver {from, seq, level, data}
  leave {graceful, reason: "requested"|"health", rejoins}
  data {key, value, writer, deleted[, loaded]}   (every change applied here, state transfer
    included; loaded: true for items read from --data-dir at start)
  value {key, value}   (answers get)   lock {name, owner|null}   conflict {key, winner, loser}
  synced {items}   error {message, name}
  conflict {nodeId, incarnations, self, kept, refused, reportedBy}   (another live process uses
    a node ID; the refused one — this node when self and refused — exits with code 3)
stdin: eligible add ID | eligible remove ID | send TEXT | send-safe TEXT | set KEY VALUE | del KEY | get KEY | lock NAME | unlock NAME
       | leave | quit          (VALUE: JSON, or else the text itself)`;

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
      eligible: {},
      "data-dir": {},
      "key-file": {},
      encrypt: { value: false },
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

    const key = await readKeyFlag(flags.get("key-file")?.[0], flags.has("encrypt"));
    const udp = await createUdpTransport({ host: listen.host, port: listen.port });
    const host = listen.host.includes(":") ? `[${listen.host}]` : listen.host;
    warnIfExposed("raincore node", listen.host, `udp://${host}:${udp.port}`, key !== undefined);
    const dataDir = flags.get("data-dir")?.[0];
    const storage = dataDir === undefined ? undefined : await openFileStorage(dataDir, id);
    const initial = storage === undefined ? undefined : await storage.load();
    let gdm: GroupDataManager | undefined;
    const member = startMember({
      id,
      transports: [
        key === undefined ? udp : secureTransport(udp, { key, nodeId: id, encrypt: flags.has("encrypt") }),
      ],
      peers,
      mode,
      eatingMs: numberFlag(flags, "eating-ms"),
      hungryMs: numberFlag(flags, "hungry-ms"),
      starvingMs: numberFlag(flags, "starving-ms"),
      rtoMinMs: numberFlag(flags, "rto-ms"),
      rtoMaxMs: numberFlag(flags, "rto-max-ms"),
      retries: numberFlag(flags, "retries", undefined, 1),
      beforeStart: (tm, g) => {
        gdm = new GroupDataManager({ gcm: g, layer: tm, storage, initial });
      },
    });
    const { gcm } = member;
    const eligible = flags.get("eligible")?.[0];
    // Set before any packet is handled (createNode started the GCM synchronously, I/O comes later).
    if (eligible !== undefined) gcm.setEligible(eligible.split(",").filter((x) => x !== ""));
    const data = gdm!;
    data.on(
      "change",
      (c) => emitLine("data", { key: c.key, value: jsonValue(c.new), writer: c.writer, deleted: c.deleted }),
    );
    data.on("lock", (l) => emitLine("lock", { name: l.name, owner: l.owner }));
    data.on(
      "conflict",
      (c) => emitLine("conflict", { key: c.key, winner: jsonValue(c.winner), loser: jsonValue(c.loser) }),
    );
    data.on("synced", (e) => emitLine("synced", { items: e.items }));
    // Items loaded from --data-dir are data this node holds: show them like any other change.
    for (const key of data.keys()) {
      emitLine("data", {
        key,
        value: jsonValue(data.get(key)),
        writer: data.item(key)!.w,
        deleted: false,
        loaded: true,
      });
    }
    const decoder = new TextDecoder();
    gcm.on("view", (v) => emitLine("view", { index: v.index, members: v.members }));
    gcm.on(
      "deliver",
      (d) => emitLine("deliver", { from: d.from, seq: d.seq, level: d.level, data: decoder.decode(d.data) }),
    );
    gcm.on("leave", (l) => emitLine("leave", { graceful: l.graceful, reason: l.reason, rejoins: l.rejoins }));
    emitLine("ready", { id, address: udp.addresses[0] });

    const encoder = new TextEncoder();
    let quitting = false;
    const quit = async (code: number) => {
      if (quitting) return;
      quitting = true;
      await data.close();
      await member.close();
      emitLine("exit", { code });
      exit(code);
    };
    watchIdConflicts(member.tm, (code) => void quit(code));
    await forEachStdinLine(async (line) => {
      const [word, ...rest] = line.split(" ");
      const text = rest.join(" ");
      try {
        if (word === "send") gcm.multicast(encoder.encode(text));
        else if (word === "send-safe") gcm.multicast(encoder.encode(text), { level: "safe" });
        else if (word === "set") {
          const [key, ...v] = rest;
          if (!key) throw new UsageError("set KEY VALUE");
          void data.set(key, parseValue(v.join(" "))).catch(reportError);
        } else if (word === "del") void data.delete(rest[0] ?? "").catch(reportError);
        else if (word === "get") {
          emitLine("value", { key: rest[0], value: jsonValue(data.get(rest[0] ?? "")) });
        } else if (word === "lock") void data.lock(rest[0] ?? "").catch(reportError);
        else if (word === "unlock") void data.unlock(rest[0] ?? "").catch(reportError);
        else if (word === "eligible" && (rest[0] === "add" || rest[0] === "remove") && rest[1]) {
          if (rest[0] === "add") gcm.addEligible(rest[1]);
          else gcm.removeEligible(rest[1]);
          emitLine("eligible", { ids: gcm.eligible ?? null });
        } else if (word === "leave") await gcm.leave();
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

/** True for the Group Data Manager's own multicasts (shown as `data`/`lock` lines instead). */
function reportError(error: unknown): void {
  emitLine("error", { message: (error as Error).message, name: (error as Error).name });
}

/** A stdin VALUE: JSON when it parses, else the text itself. */
function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A value as JSON can carry it: bytes become `{"$bytes": base64}`. */
function jsonValue(v: unknown): unknown {
  if (v instanceof Uint8Array) {
    let bin = "";
    for (const b of v) bin += String.fromCharCode(b);
    return { $bytes: btoa(bin) };
  }
  return v === undefined ? null : v;
}

/** The file storage adapter, loaded only when --data-dir is given. */
/** Reads and parses `--key-file` (and loads node:crypto for synchronous per-packet crypto). */
async function readKeyFlag(file: string | undefined, encrypt: boolean) {
  if (file === undefined) {
    if (encrypt) throw new UsageError("--encrypt needs --key-file");
    return undefined;
  }
  return await readKeyFile(file);
}

async function openFileStorage(dir: string, id: string) {
  const { FileStorage } = await import("../gdm/storage_file.ts");
  return new FileStorage(`${dir}/${id}.gdm`);
}

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
