/**
 * The floor under an idle ring's CPU: what Node.js itself spends on the same traffic pattern without
 * raincore. Two processes pass a 200-byte "token" back and forth over UDP loopback, each keeping it
 * `--hold-ms` (a timer) and acknowledging each one it receives with a 20-byte datagram — two datagrams
 * each way and a timer per visit, as a two-member ring with that idle hold. Each process measures its
 * own CPU (process.cpuUsage) over `--ms`; compare with `bench/gdm.ts --rate 0`.
 *
 *   node --import tsx bench/idle_floor.ts [--hold-ms 20] [--ms 10000]
 * @module
 */
import { spawn } from "node:child_process";
import dgram from "node:dgram";
import { parseArgs } from "node:util";
import { freeUdpPorts } from "../tools/ports.ts";

const TOKEN_BYTES = 200;
const ACK_BYTES = 20;

/** One side: passes the token after `holdMs`, acknowledges each one; prints its CPU after `ms`. */
function side(port: number, peer: number, lead: boolean, holdMs: number, ms: number): void {
  const socket = dgram.createSocket("udp4");
  const token = new Uint8Array(TOKEN_BYTES);
  const ack = new Uint8Array(ACK_BYTES);
  let visits = 0;
  socket.on("message", (m) => {
    if (m.length !== TOKEN_BYTES) return;
    visits++;
    socket.send(ack, peer, "127.0.0.1");
    setTimeout(() => socket.send(token, peer, "127.0.0.1"), holdMs);
  });
  socket.bind(port, "127.0.0.1", () => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    if (lead) setTimeout(() => socket.send(token, peer, "127.0.0.1"), 100);
    setTimeout(() => {
      const cpu = process.cpuUsage(cpu0);
      const wall = performance.now() - t0;
      const pct = (us: number) => (us / 1000 / wall) * 100;
      console.log(JSON.stringify({
        visitsPerS: (visits * 1000) / wall,
        cpuPct: pct(cpu.user + cpu.system),
        systemCpuPct: pct(cpu.system),
      }));
      process.exit(0);
    }, ms);
  });
}

const { values, positionals } = parseArgs({
  options: { "hold-ms": { type: "string", default: "20" }, ms: { type: "string", default: "10000" } },
  allowPositionals: true,
});
const holdMs = Number(values["hold-ms"]);
const ms = Number(values.ms);
if (!(holdMs >= 0) || !(ms > 0)) throw new RangeError("--hold-ms must be ≥ 0 and --ms > 0");

if (positionals[0] === "side") {
  side(Number(positionals[1]), Number(positionals[2]), positionals[3] === "lead", holdMs, ms);
} else {
  const [a, b] = await freeUdpPorts(2);
  const run = (port: number, peer: number, role: string) =>
    new Promise<{ visitsPerS: number; cpuPct: number; systemCpuPct: number }>((resolve, reject) => {
      const child = spawn(process.execPath, [
        ...process.execArgv,
        process.argv[1],
        "side",
        String(port),
        String(peer),
        role,
        "--hold-ms",
        String(holdMs),
        "--ms",
        String(ms),
      ], { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.on(
        "exit",
        (code) => code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`side exited ${code}`)),
      );
    });
  const results = await Promise.all([run(a, b, "lead"), run(b, a, "follow")]);
  for (const [i, r] of results.entries()) {
    console.log(
      `side ${i}: ${r.visitsPerS.toFixed(0)} visits/s, CPU ${r.cpuPct.toFixed(2)} % (kernel ${
        r.systemCpuPct.toFixed(2)
      } %), ${((r.cpuPct * 10_000) / r.visitsPerS).toFixed(0)} µs per visit`,
    );
  }
}
