/**
 * The Jepsen-style checker on real processes: five `raincore node` members over UDP (through a
 * fault-injecting relay), each with a journal in a data directory and the quorum policy, while clients
 * write registers, compare-and-set, add to a set, read, and take a lock with fencing tokens — and a
 * nemesis SIGKILLs and restarts a member, SIGSTOPs one, partitions the group 2 + 3, crashes the whole
 * cluster at once and restarts it, and restarts members with their clocks an hour ahead and behind.
 * Then the history must keep every promise (tests/jepsen/checker.ts): nothing acknowledged lost,
 * sequential consistency, linearizable compare-and-sets, unique growing fencing tokens.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Random } from "../../base/random.ts";
import type { HistoryOp, OpHistory } from "../../sim/gdm/op_history.ts";
import { JsonChild, killAll, repoRoot, waitUntil } from "../../tools/json_child.ts";
import { freeUdpPorts } from "../../tools/ports.ts";
import { UdpRelay } from "../../tools/udp_relay.ts";
import { checkOpHistory, formatAnomalies } from "../../sim/jepsen/checker.ts";
import { CAS_KEYS, CliClient, REGISTERS, SET } from "./cli_client.ts";
import { TEST_TIMING_FLAGS_SHORT_CEILING } from "../helpers/tuned_flags.ts";

const TUNED = TEST_TIMING_FLAGS_SHORT_CEILING;
const IDS = ["m0", "m1", "m2", "m3", "m4"];
const HOUR = 3_600_000;
const DEADLINE_MS = 40_000;

const running = new Set<JsonChild>();
let relay: UdpRelay | undefined;
let dir: string | undefined;
afterEach(async () => {
  await killAll(running);
  running.clear();
  await relay?.close();
  relay = undefined;
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Jepsen-style checker on five raincore node processes under a nemesis", () => {
  it(
    "keeps every promise through SIGKILL, SIGSTOP, a partition, a whole-cluster crash and skewed clocks",
    async () => {
      const ports = await freeUdpPorts(IDS.length);
      relay = await UdpRelay.open(IDS, ports);
      dir = mkdtempSync(join(tmpdir(), "raincore-nemesis-"));
      const ops: HistoryOp[] = [];
      const incarnation = new Map<string, number>();
      const members = new Map<string, JsonChild>();
      const random = new Random(14);
      let stopClients = false;
      const clients: Promise<void>[] = [];
      const start = (id: string, skewMs = 0) => {
        const i = IDS.indexOf(id);
        const args = [
          "bin/raincore.js",
          "node",
          "--id",
          id,
          "--listen",
          `udp://127.0.0.1:${ports[i]}`,
          ...relay!.peerFlags(id),
          ...TUNED,
          "--data-dir",
          dir!,
          "--expected-size",
          String(IDS.length),
          "--quorum",
        ];
        const flags = skewMs === 0 ? [] : ["--import", join(repoRoot, "tests/jepsen/skewed_clock.mjs")];
        const child = new JsonChild(
          id,
          spawn(process.execPath, [...flags, ...args], {
            cwd: repoRoot,
            stdio: ["pipe", "pipe", "pipe"],
            env: { ...process.env, RAINCORE_TEST_CLOCK_SKEW_MS: String(skewMs) },
          }),
        );
        running.add(child);
        members.set(id, child);
        const inc = (incarnation.get(id) ?? 0) + 1;
        incarnation.set(id, inc);
        const client = new CliClient(child, `${id}#${inc}`, ops);
        clients.push(client.loop(() => stopClients, () => random.int(1_000_000) / 1_000_000));
        return child;
      };
      const kill = async (id: string) => {
        const child = members.get(id)!;
        child.signal("SIGKILL");
        await child.exit;
        running.delete(child);
      };
      const viewOf = (c: JsonChild) => c.lines.findLast((l) => l.event === "view");
      const allTogether = () =>
        waitUntil(
          [...members.values()],
          () => {
            const views = [...members.values()].map(viewOf);
            return views.every((v) => (v?.members as string[] | undefined)?.length === IDS.length) &&
              new Set(views.map((v) => v?.id)).size === 1;
          },
          DEADLINE_MS,
          () =>
            [...members.values()].map((c) =>
              `${c.name}:${(viewOf(c)?.members as string[] | undefined)?.join("+")}`
            ).join(" "),
        );

      for (const id of IDS) start(id);
      await allTogether();
      await pause(3000);
      // SIGKILL one member; it restarts from its journal.
      await kill("m1");
      await pause(1500);
      start("m1");
      await pause(2500);
      // SIGSTOP one member for a while.
      members.get("m3")!.signal("SIGSTOP");
      await pause(2500);
      members.get("m3")!.signal("SIGCONT");
      await pause(2000);
      // A partition: {m0, m1} (a minority: it applies nothing) and {m2, m3, m4}.
      relay.partition([["m0", "m1"], ["m2", "m3", "m4"]]);
      await pause(4000);
      relay.heal();
      await allTogether();
      await pause(1500);
      // The whole cluster crashes at once, mid-stream, and comes back from its journals.
      await Promise.all(IDS.map(kill));
      for (const id of IDS) start(id);
      await allTogether();
      await pause(2500);
      // Restarts with clocks an hour ahead and an hour behind.
      await kill("m2");
      start("m2", HOUR);
      await pause(1500);
      await kill("m4");
      start("m4", -HOUR);
      await allTogether();
      await pause(3000);
      stopClients = true;
      await Promise.all(clients);
      await allTogether();
      await pause(1500);

      // Final reads on every member.
      const final: OpHistory["final"] = [];
      for (const id of IDS) {
        const c = members.get(id)!;
        const registers: OpHistory["final"][number]["registers"] = {};
        for (const key of [...REGISTERS, ...CAS_KEYS]) {
          const mark = c.lines.length;
          c.write(`get ${key}`);
          const l = await c.waitFor((l) => l.event === "value" && l.key === key, DEADLINE_MS, mark);
          registers[key] = {
            value: l.value === null ? null : typeof l.value === "string" ? l.value : JSON.stringify(l.value),
            version: Array.isArray(l.stamp) ? [l.stamp[0] as number, l.stamp[1] as string] : null,
          };
        }
        const mark = c.lines.length;
        c.write(`list ${SET}/`);
        const l = await c.waitFor((l) => l.event === "list", DEADLINE_MS, mark);
        final.push({
          process: `${id}#${incarnation.get(id)}`,
          registers,
          sets: { [SET]: (l.keys as string[]).map((k) => k.slice(SET.length + 1)) },
        });
      }
      const history: OpHistory = {
        ops,
        final,
        oneComponent: true, // the quorum policy
        durable: true, // every member restarted from its journal: every acknowledgement is promised
        survivors: [...new Set(ops.map((o) => o.process))],
      };
      const anomalies = checkOpHistory(history);
      const ok = (f: string) => ops.filter((o) => o.f === f && o.outcome === "ok").length;
      console.log(
        `nemesis history: ${ops.length} operations — ${ok("write")} writes, ${ok("read")} reads, ${
          ok("cas")
        } compare-and-sets ` +
          `(${ops.filter((o) => o.f === "cas" && o.outcome === "fail").length} failed), ${ok("add")} adds, ${
            ok("read-set")
          } set reads, ` +
          `${ok("acquire")} lock grants; ${
            ops.filter((o) => o.outcome === "info").length
          } unknown; anomalies: ${anomalies.length}`,
      );
      if (anomalies.length > 0) console.error(formatAnomalies(anomalies, 20).join("\n"));
      expect(anomalies).toEqual([]);
      // The run exercised what it checks.
      expect(ok("write")).toBeGreaterThan(50);
      expect(ok("cas")).toBeGreaterThan(10);
      expect(ok("acquire")).toBeGreaterThan(3);
      expect(ok("add")).toBeGreaterThan(10);
    },
    240_000,
  );
});
