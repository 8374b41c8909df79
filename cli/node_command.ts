/**
 * `raincore node`: one cluster member as an OS process over UDP. Events go to stdout as JSON lines
 * (`ready`, `view`, `deliver`, `leave`, and the Group Data Manager's `data`, `value`, `lock`,
 * `conflict`, `synced`); commands come from stdin (`send TEXT`, `send-safe TEXT`, `set KEY VALUE`,
 * `del KEY`, `get KEY`, `lock NAME`, `unlock NAME`, `leave`, `quit`). Tests and benchmarks drive
 * real clusters through it.
 * @module
 */

import type { GroupCommunicationManager } from "../gcm/manager.ts";
import type { ViewMode } from "../gcm/types.ts";
import { GroupDataManager } from "../gdm/manager.ts";
import type { Durability } from "../gdm/requests.ts";
import { secureTransport } from "../transport/secure/secure.ts";
import { createUdpTransport, formatUdpAddress } from "../transport/backends/udp.ts";
import { tryParseUdpAddress } from "../transport/backends/udp_address.ts";
import { TransportBindError } from "../transport/errors.ts";
import { warnIfExposed } from "./exposure_warning.ts";
import { watchIdConflicts } from "./id_conflict.ts";
import { readKeyFile } from "./key_file_flag.ts";
import type { Command } from "./commands.ts";
import { attachData, DATA_COMMANDS_USAGE } from "./data_commands.ts";
import { nextIncarnation } from "./incarnation_file.ts";
import {
  CommandFailedError,
  numberFlag,
  parseFlags,
  requiredFlag,
  stringFlag,
  UsageError,
} from "../runtime/args.ts";
import { emitLine } from "../runtime/json_out.ts";
import { forEachStdinLine } from "../runtime/lines.ts";
import { startMember } from "../runtime/member.ts";
import { TIMING_FLAG_SPECS, TIMING_USAGE, timingFromFlags } from "../runtime/timing_flags.ts";
import type { TimingOptions } from "../gcm/timing.ts";
import { exit } from "../runtime/process.ts";

const usage = `raincore node — run one cluster member over UDP

usage: raincore node --id ID --listen udp://HOST:PORT [--join udp://HOST:PORT …] [--peer ID=udp://HOST:PORT …] [flags]

  --id ID                 this node's ID, 1..255 bytes (compared as strings: the lowest leads merges)
  --listen udp://H:P      where this node receives (port 0 = any free port; "ready" shows the real one)
  --join udp://H:P        any member's address: the node there is asked its ID, then to let this one in;
                          every other member's address comes with the join (repeatable)
  --peer ID=udp://H:P     a member to contact at start, when its ID is known (repeatable)
  --mode M                three-phase (default) | two-phase | every-token
  --eligible ID,ID,…      only these nodes may be in the group (default: anyone); stdin
                          "eligible add ID" / "eligible remove ID" change it at run time

  --data-dir DIR          keep this node's data items in DIR, an existing directory (survives a
                          whole-cluster restart); a write is reported once on disk (fsync); the
                          last incarnation is kept there too (a restart with its clock set back
                          still comes back as a newer process)
  --durability D          when own writes count as done: memory | written | fsync (default: fsync
                          with --data-dir, memory without)
  --expected-size N       the group's size; with --quorum only a majority of it applies writes and
                          grants locks (fencing tokens unique across partitions)
  --quorum                the GDM's quorum policy (needs --expected-size)
  --key-file F            authenticate every packet with the cluster key or node credential in F
                          (see docs/security.md; every member needs it)
  --encrypt               with --key-file: also encrypt packet bodies (AES-256-GCM)

${TIMING_USAGE}

stdout: one JSON object per line with "t" (ms since the epoch) and "event":
  ready {id, address}   (first)
  view {id, index, previous, members, detail}   (every view this process installs; detail: id#incarnation)
  transitional {id, previous, next, members, detail}   (before each view after the first: who moves along)
  deliver {from, inc, seq, level, view, transitional, data}   (view: the configuration it was delivered in)
  leave {graceful, reason: "requested"|"health"|"suspended"|"stalled", rejoins}
  data {key, value, writer, deleted, stamp[, loaded]}   (every change applied here, state transfer
    included — this node's own writes once durable; loaded: true for items read at start)
  written {key, value, stamp[, deleted]}   (this node's set or del is durable)
  value {key, value, stamp}   (answers get)   list {prefix, keys}   cas {key, ok, value, read, stamp}
  lock {name, owner|null, token}   locked {name, token}   (this node's grant and its fencing token)
  unlocked {name}   conflict {key, winner, loser}   synced {items}   transfer {from, items, totalItems,
  bytes, totalBytes, done}   error {message, name}
  conflict {nodeId, incarnations, self, kept, refused, reportedBy}   (another live process uses
    a node ID; the refused one — this node when self and refused — exits with code 3)
stdin: eligible add ID | eligible remove ID | send TEXT | send-safe TEXT | leave | quit
       | ${DATA_COMMANDS_USAGE}          (VALUE, EXPECTED, NEW: JSON, or else the text itself)
  leave: leave the group gracefully (one token round), then exit 0; the end of stdin means leave too.
  quit: exit at once (the others detect the failure).
Flag mistakes are one line on stderr and exit code 2; a port in use is one line and exit code 1.`;

const MODES: readonly ViewMode[] = ["three-phase", "two-phase", "every-token"];
const DURABILITIES: readonly Durability[] = ["memory", "written", "fsync"];

/** Everything `raincore node` runs with, read and checked before any socket opens. */
interface NodeConfig {
  id: string;
  listen: { host: string; port: number };
  peers: Record<string, string[]>;
  join: string[];
  mode: ViewMode;
  timing: TimingOptions;
  eligible?: string[];
  dataDir?: string;
  durability?: Durability;
  expectedSize?: number;
  quorum: boolean;
  key?: Awaited<ReturnType<typeof readKeyFlag>>;
  encrypt: boolean;
}

/** Parses and checks every flag (files included); throws {@link UsageError} for the first mistake. */
async function readConfig(argv: readonly string[]): Promise<NodeConfig> {
  const flags = parseFlags(argv, {
    id: {},
    listen: {},
    peer: { repeat: true },
    join: { repeat: true },
    mode: {},
    ...TIMING_FLAG_SPECS,
    eligible: {},
    "data-dir": {},
    durability: {},
    "expected-size": {},
    quorum: { value: false },
    "key-file": {},
    encrypt: { value: false },
  });
  const id = nodeIdFlag("--id", requiredFlag(flags, "id"));
  const listen = listenFlag(requiredFlag(flags, "listen"));
  const mode = stringFlag(flags, "mode", "three-phase") as ViewMode;
  if (!MODES.includes(mode)) throw new UsageError(`--mode must be one of ${MODES.join(", ")}, got "${mode}"`);
  const peers: Record<string, string[]> = {};
  for (const spec of flags.get("peer") ?? []) {
    const eq = spec.indexOf("=");
    if (eq <= 0) throw new UsageError(`--peer wants ID=udp://HOST:PORT, got "${spec}"`);
    const address = spec.slice(eq + 1);
    if (tryParseUdpAddress(address) === undefined) {
      throw new UsageError(
        `--peer ${spec}: "${address}" is not udp://IPV4:PORT or udp://[IPV6]:PORT (port 1..65535)`,
      );
    }
    (peers[nodeIdFlag("--peer", spec.slice(0, eq))] ??= []).push(address);
  }
  const join = flags.get("join") ?? [];
  for (const address of join) {
    if (tryParseUdpAddress(address) === undefined) {
      throw new UsageError(`--join "${address}" is not udp://IPV4:PORT or udp://[IPV6]:PORT (port 1..65535)`);
    }
  }
  const timing = timingFromFlags(flags);
  const eligible = stringFlag(flags, "eligible")?.split(",").filter((x) => x !== "")
    .map((x) => nodeIdFlag("--eligible", x));
  const encrypt = flags.has("encrypt");
  const key = await readKeyFlag(stringFlag(flags, "key-file"), encrypt, id);
  const dataDir = stringFlag(flags, "data-dir");
  if (dataDir !== undefined) await checkDirectory(dataDir);
  const durability = stringFlag(flags, "durability") as Durability | undefined;
  if (durability !== undefined && !DURABILITIES.includes(durability)) {
    throw new UsageError(`--durability must be one of ${DURABILITIES.join(", ")}, got "${durability}"`);
  }
  const expectedSize = numberFlag(flags, "expected-size", { min: 1, max: 1000, integer: true });
  const quorum = flags.has("quorum");
  if (quorum && expectedSize === undefined) throw new UsageError("--quorum needs --expected-size N");
  return {
    id,
    listen,
    peers,
    join,
    mode,
    timing,
    eligible,
    dataDir,
    durability,
    expectedSize,
    quorum,
    key,
    encrypt,
  };
}

/** The `node` subcommand. */
export const nodeCommand: Command = {
  summary: "run one cluster member over UDP (JSON lines out, commands in)",
  usage,
  async run(argv) {
    const config = await readConfig(argv);
    const { id } = config;
    const storage = config.dataDir === undefined ? undefined : await openFileStorage(config.dataDir, id);
    const initial = storage === undefined ? undefined : await storage.load();
    const incarnation = config.dataDir === undefined ? undefined : await nextIncarnation(config.dataDir, id);
    const udp = await bindUdp(config.listen);
    warnIfExposed(
      "raincore node",
      config.listen.host,
      formatUdpAddress(config.listen.host, udp.port),
      config.key !== undefined,
    );
    let gdm: GroupDataManager | undefined;
    let dataCommand: ReturnType<typeof attachData> = () => false;
    const member = startMember({
      id,
      transports: [
        config.key === undefined
          ? udp
          : secureTransport(udp, { key: config.key, nodeId: id, encrypt: config.encrypt }),
      ],
      peers: config.peers,
      join: config.join,
      mode: config.mode,
      timing: config.timing,
      expectedSize: config.expectedSize,
      incarnation,
      // Everything that prints is attached before the GCM starts, so the first view is printed too.
      beforeStart: (tm, g) => {
        gdm = new GroupDataManager({
          gcm: g,
          layer: tm,
          storage,
          initial,
          durability: config.durability,
          quorum: config.quorum,
        });
        emitLine("ready", { id, address: udp.addresses[0] });
        dataCommand = attachData(gdm);
        attachOutput(g);
      },
    });
    const { gcm } = member;
    // Set before any packet is handled (createNode started the GCM synchronously, I/O comes later).
    if (config.eligible !== undefined) gcm.setEligible(config.eligible);
    const data = gdm!;

    const encoder = new TextEncoder();
    let quitting: Promise<number> | undefined;
    /** Closes the data layer and the member (after a graceful leave if asked) and exits with `code`. */
    const quit = (graceful: boolean, code = 0): Promise<number> =>
      quitting ??= (async () => {
        if (graceful) await gcm.leave();
        await data.close();
        await member.close();
        emitLine("exit", { code });
        // stdin may still be open (leave/quit typed by a person): end the process here.
        return exit(code);
      })();
    // Another live process with this ID, and the peers talk to that one: stop (no leave: not a member).
    watchIdConflicts(member.tm, (code) => void quit(false, code));
    await forEachStdinLine(async (line) => {
      if (quitting !== undefined) return;
      const [word, ...rest] = line.split(" ");
      const text = rest.join(" ");
      try {
        if (word === "send") gcm.multicast(encoder.encode(text));
        else if (word === "send-safe") gcm.multicast(encoder.encode(text), { level: "safe" });
        else if (dataCommand(word, rest)) {
          // a data command (cli/data_commands.ts)
        } else if (word === "eligible" && (rest[0] === "add" || rest[0] === "remove") && rest[1]) {
          if (rest[0] === "add") gcm.addEligible(rest[1]);
          else gcm.removeEligible(rest[1]);
          emitLine("eligible", { ids: gcm.eligible ?? null });
        } else if (word === "leave") await quit(true);
        else if (word === "quit") await quit(false);
        else if (word !== "") emitLine("error", { message: `unknown command "${word}"` });
      } catch (error) {
        emitLine("error", { message: (error as Error).message, name: (error as Error).name });
      }
    });
    // stdin ended (EOF, or the controlling terminal went away): leave the group gracefully.
    return await quit(true);
  },
};

/** Reads and parses `--key-file` (and loads node:crypto for synchronous per-packet crypto). */
async function readKeyFlag(file: string | undefined, encrypt: boolean, id: string) {
  if (file === undefined) {
    if (encrypt) throw new UsageError("--encrypt needs --key-file");
    return undefined;
  }
  const key = await readKeyFile(file);
  if (!(key instanceof Uint8Array) && key.nodeId !== id) {
    throw new UsageError(
      `--key-file ${file}: the credential is for node "${key.nodeId}", not --id "${id}"; issue one for "${id}"`,
    );
  }
  return key;
}

/** `--data-dir` must be an existing directory (this node's file goes inside it). */
async function checkDirectory(dir: string): Promise<void> {
  const { stat } = await import("node:fs/promises");
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(dir)).isDirectory();
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new UsageError(
      code === "ENOENT" ? `--data-dir ${dir} does not exist (create it first)` : `--data-dir ${dir}: ${code}`,
    );
  }
  if (!isDirectory) throw new UsageError(`--data-dir ${dir} is not a directory`);
}

/** The file storage adapter, loaded only when --data-dir is given. */
async function openFileStorage(dir: string, id: string) {
  const { FileStorage } = await import("../gdm/storage_file.ts");
  return new FileStorage(`${dir}/${encodeURIComponent(id)}.gdm`);
}

/** A node ID as the Transport Manager takes it: 1..255 bytes of UTF-8. */
function nodeIdFlag(flag: string, id: string): string {
  const bytes = new TextEncoder().encode(id).length;
  if (bytes < 1 || bytes > 255) {
    throw new UsageError(
      `${flag}: a node ID must be 1..255 bytes of UTF-8, got ${bytes} bytes`,
    );
  }
  return id;
}

/** `--listen udp://HOST:PORT`: like a peer address, but port 0 (any free port) is allowed. */
function listenFlag(address: string): { host: string; port: number } {
  const free = /:0$/.test(address);
  const parsed = tryParseUdpAddress(free ? `${address.slice(0, -1)}1` : address);
  if (parsed === undefined) {
    throw new UsageError(
      `--listen "${address}" is not udp://IPV4:PORT or udp://[IPV6]:PORT (port 0..65535, 0 = any free port)`,
    );
  }
  return { host: parsed.host, port: free ? 0 : parsed.port };
}

/** Binds the UDP socket; a port in use or a foreign address is one line with a hint, exit 1. */
async function bindUdp(listen: { host: string; port: number }) {
  try {
    return await createUdpTransport({ host: listen.host, port: listen.port });
  } catch (error) {
    if (!(error instanceof TransportBindError)) throw error;
    const code = (error.cause as { code?: string } | undefined)?.code;
    const where = formatUdpAddress(listen.host, listen.port);
    throw new CommandFailedError(
      code === "EADDRINUSE"
        ? `--listen ${where}: the port is in use (another process holds it); pick another port, or 0 for any free one`
        : code === "EADDRNOTAVAIL"
        ? `--listen ${where}: this machine has no such address; use one of its own (127.0.0.1 for this host only)`
        : `--listen ${where}: ${error.message}`,
    );
  }
}

/**
 * Prints what a member's GCM sees as JSON lines: views (with their identifiers), transitional
 * configurations, deliveries (with the configuration they were delivered in), leaves and errors. (The
 * GDM's lines: cli/data_commands.ts.)
 */
function attachOutput(gcm: GroupCommunicationManager): void {
  const decoder = new TextDecoder();
  gcm.on("view", (v) =>
    emitLine("view", {
      id: v.id,
      index: v.index,
      previous: v.previous,
      members: v.members,
      detail: v.detail.map((m) => `${m.id}#${m.inc}`),
    }));
  gcm.on("transitional", (t) =>
    emitLine("transitional", {
      id: t.id,
      previous: t.previous,
      next: t.next,
      members: t.members,
      detail: t.detail.map((m) => `${m.id}#${m.inc}`),
    }));
  gcm.on("deliver", (d) =>
    emitLine("deliver", {
      from: d.from,
      inc: d.fromIncarnation,
      seq: d.seq,
      level: d.level,
      view: d.view,
      transitional: d.transitional,
      data: decoder.decode(d.data),
    }));
  gcm.on("leave", (l) => emitLine("leave", { graceful: l.graceful, reason: l.reason, rejoins: l.rejoins }));
  gcm.on(
    "error",
    (e) => emitLine("error", { message: `a listener failed on '${e.event}': ${String(e.error)}` }),
  );
}
