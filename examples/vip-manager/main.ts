/**
 * One VIP-manager member as an OS process over UDP, printing JSON lines on stdout:
 * `{"event":"ready"}`, `{"event":"view","index","members"}` and
 * `{"event":"owned","names":[…],"t":ms}` whenever the set of resources it serves changes.
 * A line `move NAME MEMBER` on stdin moves a resource by hand. SIGINT/SIGTERM: leave and exit 0.
 *
 *   node --import tsx examples/vip-manager/main.ts --id m1 --listen udp://127.0.0.1:7001 \
 *     --peer m2=udp://127.0.0.1:7002 --vip 10.0.0.1 --vip 10.0.0.2 [--sticky 10.0.0.2] [--prefer 10.0.0.1=m2]
 * @module
 */
import { createInterface } from "node:readline";
import { createNode, createUdpTransport, GroupDataManager, SystemClock } from "../../mod.ts";
import { parseFlags, stringFlag, UsageError } from "../../runtime/args.ts";
import { VipManager, type VipResource } from "./manager.ts";

const flags = parseFlags(process.argv.slice(2), {
  id: {},
  listen: {},
  peer: { repeat: true },
  vip: { repeat: true },
  sticky: { repeat: true },
  prefer: { repeat: true },
  "hungry-ms": {},
  "lone-grace-ms": {},
});
const id = stringFlag(flags, "id");
const listen = stringFlag(flags, "listen");
if (id === undefined || listen === undefined) throw new UsageError("--id and --listen are required");
const m = /^udp:\/\/([\d.]+):(\d+)$/.exec(listen);
if (m === null) throw new UsageError("--listen must be udp://IP:PORT");
const peers: Record<string, string[]> = {};
for (const p of flags.get("peer") ?? []) {
  const [pid, addr] = p.split("=");
  if (pid !== id) peers[pid] = [addr];
}
const sticky = new Set(flags.get("sticky") ?? []);
const prefer = new Map((flags.get("prefer") ?? []).map((p) => p.split("=") as [string, string]));
const resources: VipResource[] = (flags.get("vip") ?? []).map((name) => ({
  name,
  sticky: sticky.has(name),
  ...(prefer.has(name) ? { preferred: prefer.get(name) } : {}),
}));

const out = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const clock = new SystemClock();
const udp = await createUdpTransport({ host: m[1], port: Number(m[2]) });
const node = createNode({
  id,
  transports: [udp],
  peers,
  timing: {
    rtoInitialMs: 20,
    rtoMaxMs: 100,
    retries: 4,
    eatingMs: 5,
    hungryMs: Number(stringFlag(flags, "hungry-ms", "600")),
    starvingMs: 100,
  },
});
const gdm = new GroupDataManager({ gcm: node.gcm, layer: node.transport });
const vip = new VipManager({
  gcm: node.gcm,
  gdm,
  resources,
  clock,
  checkMs: 300,
  loneGraceMs: Number(stringFlag(flags, "lone-grace-ms", "5000")),
});
node.gcm.on("view", (v) => out({ event: "view", index: v.index, members: v.members }));
let last = "";
const poll = setInterval(() => {
  const names = vip.owned().sort();
  const key = names.join(",");
  if (key !== last) {
    last = key;
    out({ event: "owned", names, t: Date.now() });
  }
}, 10);
createInterface({ input: process.stdin }).on("line", (line) => {
  const [cmd, name, to] = line.trim().split(/\s+/);
  if (cmd === "move") {
    vip.move(name, to).then(
      () => out({ event: "moved", name, to }),
      (e) => out({ event: "error", message: String(e) }),
    );
  }
});
const stop = async () => {
  clearInterval(poll);
  vip.close();
  out({ event: "owned", names: [], t: Date.now() });
  await gdm.close();
  await node.close(500);
  process.exit(0);
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
out({ event: "ready", id });
