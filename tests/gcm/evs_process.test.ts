/**
 * Extended virtual synchrony between real processes: five `raincore node` members, run from the
 * sources (scripts/raincore.ts) over real UDP on loopback, all multicast `send` and `send-safe` at a
 * steady rate while a seeded schedule SIGKILLs and restarts members and SIGSTOPs and continues them;
 * then the faults stop, the group settles and a quiet tail goes out. Their JSON output becomes a
 * history (sim/evs/process_history.ts) that the simulator's own checker (sim/evs/check.ts) judges.
 *
 * Checked, over the whole run and per process: 1 view identity (one member set per view id, rising
 * indices, a process is a member of its views, `previous`, in three-phase mode consistent history;
 * at the end one last view naming exactly the live processes), 2 views at one point of the stream
 * and one order of messages and views, 3 transitional configurations, 4 same-set delivery,
 * 5 self-delivery and no loss in the quiet tail, 6 exactly once, FIFO, nothing invented or corrupted,
 * level as sent. Any `error` line fails the test too.
 * Not checked here: where a safe message was held when it was delivered (part of 6: no process prints
 * which messages it holds; the simulator checks it on every seed); Termination beyond what the output
 * shows (every live member printed the same last view); 7 and 8 (the CLI installs no throwing
 * listener and runs no critical section; the simulator checks both).
 *
 * Each step waits for what the members print, with a deadline; the fault schedule comes from a seed.
 * Long mode: `EVS_PROCESS_ROUNDS=200` (default 6 fault rounds); `EVS_PROCESS_SEED=S` picks another
 * schedule, `EVS_PROCESS_MODE=two-phase|every-token` another view mode.
 */
import { afterAll, describe, expect, it } from "vitest";
import { Random } from "../../base/random.ts";
import type { ViewMode } from "../../gcm/types.ts";
import { epochMs } from "../../runtime/json_out.ts";
import { checkHistory, formatViolation } from "../../sim/evs/check.ts";
import { type Facts, factsOf, type ProcFacts } from "../../sim/evs/facts.ts";
import type { History } from "../../sim/evs/history.ts";
import {
  type PrintedLine,
  processHistory,
  type ProcessLife,
  type ProcessSend,
} from "../../sim/evs/process_history.ts";
import { type JsonChild, killAll, startTs, waitUntil } from "../../tools/json_child.ts";
import { freeUdpPorts } from "../../tools/ports.ts";
import { TEST_TIMING_FLAGS } from "../helpers/tuned_flags.ts";

const ROUNDS = Number(process.env.EVS_PROCESS_ROUNDS ?? 6);
// A fixed default seed keeps the fault schedule reproducible; the timing of real processes is not.
const SEED = Number(process.env.EVS_PROCESS_SEED ?? 1);
const MODE = (process.env.EVS_PROCESS_MODE ?? "three-phase") as ViewMode;
const IDS = ["n1", "n2", "n3", "n4", "n5"];
const TUNED = TEST_TIMING_FLAGS;
/** Each member is told to multicast once per this many ms (every third one `send-safe`). */
const SEND_EVERY_MS = 50;
/** Deliveries every running member must print between two faults. */
const TRAFFIC = 20;
/** Bounds how long a step that is going to fail may hang; not a speed goal. */
const DEADLINE_MS = 30_000;

const children = new Set<JsonChild>();
afterAll(async () => {
  await killAll(children);
});

/** One OS process of a member, with what it printed folded as it comes (the waits re-check after every line). */
class Life implements ProcessLife {
  readonly sends: ProcessSend[] = [];
  killedAt?: number;
  /** Its process key (`node#incarnation`), once a view named it. */
  proc: string | undefined;
  /** Its last view: id and sorted members. */
  view: { id: string; members: string } | undefined;
  /** Payloads it delivered. */
  readonly delivered = new Set<string>();
  deliveries = 0;
  readonly errors: string[] = [];
  #folded = 0;

  constructor(readonly node: string, readonly number: number, readonly child: JsonChild) {}

  get lines(): PrintedLine[] {
    return this.child.lines as PrintedLine[];
  }

  fold(): this {
    const lines = this.lines;
    for (; this.#folded < lines.length; this.#folded++) {
      const l = lines[this.#folded];
      if (l.event === "view") {
        const detail = l.detail as string[];
        this.view = { id: String(l.id), members: detail.slice().sort().join(",") };
        this.proc ??= detail.find((m) => m.startsWith(`${this.node}#`));
      } else if (l.event === "deliver") {
        this.delivered.add(String(l.data));
        this.deliveries++;
      } else if (l.event === "error") this.errors.push(`${this.node}: ${JSON.stringify(l)}`);
    }
    return this;
  }

  /** Has it delivered every one of `texts`? */
  deliveredAll(texts: Iterable<string>): boolean {
    for (const t of texts) if (!this.delivered.has(t)) return false;
    return true;
  }
}

describe("extended virtual synchrony on five real processes", () => {
  it(
    `holds properties 1–6 through ${ROUNDS} rounds of SIGKILL/restart and SIGSTOP/SIGCONT while all send (seed ${SEED}, ${MODE})`,
    async () => {
      const random = new Random(SEED);
      const ports = await freeUdpPorts(IDS.length);
      const peers = IDS.flatMap((id, i) => ["--peer", `${id}=udp://127.0.0.1:${ports[i]}`]);
      const lives: Life[] = [];
      const start = (i: number): Life => {
        const args = ["node", "--id", IDS[i], "--listen", `udp://127.0.0.1:${ports[i]}`, ...peers, ...TUNED];
        const child = startTs(IDS[i], "scripts/raincore.ts", [...args, "--mode", MODE]);
        children.add(child);
        // A line written just before a SIGKILL may meet a closed pipe: that multicast never happened.
        child.process.stdin!.on("error", () => {});
        const life = new Life(IDS[i], lives.filter((l) => l.node === IDS[i]).length + 1, child);
        lives.push(life);
        return life;
      };
      const current = IDS.map((_, i) => start(i));
      const stopped = new Set<Life>();
      const running = () => current.filter((l) => !stopped.has(l));
      const state = () =>
        current.map((l) =>
          `${l.node}${stopped.has(l) ? "(stopped)" : ""}: ${l.deliveries} deliveries, view ${
            l.view?.id ?? "none"
          }`
        ).join("; ");
      const waitFor = (what: string, cond: () => boolean, ms = DEADLINE_MS) =>
        waitUntil(
          current.map((l) => l.child),
          () => {
            for (const l of current) l.fold();
            return cond();
          },
          ms,
          () => `${what} — ${state()}`,
        );

      let sent = 0;
      const send = (life: Life, level: "agreed" | "safe") => {
        const text = `${life.node}.${life.number}.${++sent}`;
        life.sends.push({ t: epochMs(), text, level });
        life.child.write(`${level === "safe" ? "send-safe" : "send"} ${text}`);
      };
      // The steady load: every member, stopped ones too (they read it when continued).
      let tick = 0;
      const load = setInterval(() => {
        tick++;
        for (const life of current) {
          if (life.killedAt === undefined) send(life, tick % 3 === 0 ? "safe" : "agreed");
        }
      }, SEND_EVERY_MS);

      /** Waits until every running member printed `TRAFFIC` more deliveries. */
      const traffic = async () => {
        const now = running();
        const marks = new Map(now.map((l) => [l, l.fold().deliveries]));
        await waitFor(
          `${TRAFFIC} deliveries at every running member`,
          () => now.every((l) => l.deliveries >= marks.get(l)! + TRAFFIC),
        );
      };
      /** Waits until no other running member's last view names any of `nodes`. */
      const removed = (nodes: readonly string[]) =>
        waitFor(
          `the others install a view without ${nodes.join(", ")}`,
          () =>
            running().every((l) =>
              nodes.includes(l.node) ||
              (l.view !== undefined &&
                !l.view.members.split(",").some((m) => nodes.includes(m.split("#")[0])))
            ),
        );
      const kill = async (life: Life) => {
        life.child.signal("SIGCONT");
        life.child.signal("SIGKILL");
        life.killedAt = epochMs();
        stopped.delete(life);
        await life.child.exit;
      };
      const restart = (life: Life) => {
        current[IDS.indexOf(life.node)] = start(IDS.indexOf(life.node));
      };
      const pickMembers = (n: number): Life[] => {
        const pool = current.slice();
        return Array.from({ length: n }, () => pool.splice(random.int(pool.length), 1)[0]);
      };

      const schedule: string[] = [];
      const settled: string[] = [];
      let quietFrom: number | undefined;
      try {
        await waitFor("one view of all five", () => oneView(current));
        for (let round = 1; round <= ROUNDS; round++) {
          await traffic();
          const action = random.pick([
            "kill",
            "kill, restart at once",
            "stop",
            "stall",
            "kill one, stop another",
          ]);
          const [a, b] = pickMembers(2);
          schedule.push(`${round}: ${action} ${a.node}${action.includes("another") ? ` and ${b.node}` : ""}`);
          if (action === "kill") {
            await kill(a);
            await removed([a.node]);
            restart(a);
          } else if (action === "kill, restart at once") {
            await kill(a);
            restart(a);
          } else if (action === "stop") {
            a.child.signal("SIGSTOP");
            stopped.add(a);
            await removed([a.node]);
            a.child.signal("SIGCONT");
            stopped.delete(a);
          } else if (action === "stall") {
            // Stopped for as long as the others take to deliver some messages (removed or not meanwhile).
            a.child.signal("SIGSTOP");
            stopped.add(a);
            await traffic();
            a.child.signal("SIGCONT");
            stopped.delete(a);
          } else {
            b.child.signal("SIGSTOP");
            stopped.add(b);
            await kill(a);
            await removed([a.node, b.node]);
            restart(a);
            b.child.signal("SIGCONT");
            stopped.delete(b);
          }
        }
        // Faults over: the group settles, then every member sends its quiet tail.
        await waitFor("one view of all five after the faults", () => oneView(current));
        clearInterval(load);
        quietFrom = epochMs();
        for (const life of current) {
          for (const level of ["agreed", "safe", "agreed"] as const) send(life, level);
        }
        const quiet = current.flatMap((l) => l.sends.filter((s) => s.t >= quietFrom!).map((s) => s.text));
        await waitFor(
          "every member delivered all it multicast and the whole quiet tail",
          () => current.every((l) => l.deliveredAll(quiet) && l.deliveredAll(l.sends.map((s) => s.text))),
        );
      } catch (error) {
        settled.push((error as Error).message);
      } finally {
        clearInterval(load);
      }
      const endT = epochMs();
      await killAll(children);
      for (const life of lives) life.fold();

      const history = processHistory({ mode: MODE, lives, quietFrom, end: { t: endT, live: current } });
      const violations = checkHistory(history).map(formatViolation);
      const summary = summarize(history);
      console.log(JSON.stringify({ seed: SEED, mode: MODE, rounds: ROUNDS, ...summary, schedule }));
      expect({ settled, errors: lives.flatMap((l) => l.errors), violations }).toEqual({
        settled: [],
        errors: [],
        violations: [],
      });
      // The run exercised what it checks: members moved together from one view to the next after
      // delivering messages in it, through transitional configurations.
      expect(summary.sharedMovesWithMessages).toBeGreaterThan(0);
      expect(summary.transitional).toBeGreaterThan(0);

      // And the checker fails on this very history with one delivery dropped: one of the quiet tail
      // (no loss), and, where the mode promises same-set delivery, one of a message that another
      // member delivered in the same view before the same move.
      const names = (h: History) => checkHistory(h).map((v) => v.name);
      expect(names(dropDelivery(history, quietTailDelivery))).toContain("no loss");
      if (MODE !== "every-token") {
        expect(names(dropDelivery(history, sharedMoveDelivery))).toContain("same set");
      }
    },
    (ROUNDS * 60 + 120) * 1000,
  );
});

/** Every member's last view is one view, and its members are exactly the members' current processes. */
function oneView(lives: readonly Life[]): boolean {
  const first = lives[0].view;
  if (first === undefined || lives.some((l) => l.proc === undefined || l.view?.id !== first.id)) return false;
  return first.members === lives.map((l) => l.proc).sort().join(",");
}

/** What the run did, for the log and the sanity checks. */
function summarize(history: History) {
  const facts = factsOf(history);
  const moves = new Map<string, number>();
  for (const p of facts.procs) {
    for (const s of p.segments) {
      if (s.next !== undefined && s.inRegular.length > 0) {
        const key = `${s.view.id} → ${s.next.id}`;
        moves.set(key, (moves.get(key) ?? 0) + 1);
      }
    }
  }
  const count = (kind: string) =>
    history.procs.reduce((n, p) => n + p.items.filter((i) => i.kind === kind).length, 0);
  return {
    processes: history.procs.length,
    views:
      new Set(history.procs.flatMap((p) => p.items.filter((i) => i.kind === "view").map((i) => i.id))).size,
    transitional: count("transitional"),
    deliveries: count("deliver"),
    inTransitional: history.procs.reduce(
      (n, p) => n + p.items.filter((i) => i.kind === "deliver" && i.transitional).length,
      0,
    ),
    multicasts: count("send"),
    sharedMovesWithMessages: [...moves.values()].filter((n) => n >= 2).length,
  };
}

/** Where to plant a lost delivery: a process and the message it will not have delivered. */
type DeliveryPick = (facts: Facts) => { proc: ProcFacts; msg: string } | undefined;

/** A copy of `history` without the delivery that `pick` chooses. */
function dropDelivery(history: History, pick: DeliveryPick): History {
  const copy = structuredClone(history);
  const found = pick(factsOf(copy));
  if (found === undefined) throw new Error("the history has no delivery of the kind to drop");
  const items = found.proc.history.items;
  items.splice(items.findIndex((i) => i.kind === "deliver" && i.msg === found.msg), 1);
  return copy;
}

/** A live process's delivery of a message multicast in the quiet tail. */
const quietTailDelivery: DeliveryPick = (f) => {
  const proc = f.byProc.get(f.history.end!.live[0].proc)!;
  const d = proc.deliveries.find((d) => (f.sent.get(d.msg)?.step ?? 0) >= f.history.end!.quietFrom!);
  return d === undefined ? undefined : { proc, msg: d.msg };
};

/** A delivery in a view V by a process that moved from V to W as another process did. */
const sharedMoveDelivery: DeliveryPick = (f) => {
  const seen = new Set<string>();
  for (const proc of f.procs) {
    for (const s of proc.segments) {
      if (s.next === undefined || s.inRegular.length === 0) continue;
      const move = `${s.view.id} → ${s.next.id}`;
      if (seen.has(move)) return { proc, msg: s.inRegular[0] };
      seen.add(move);
    }
  }
  return undefined;
};
