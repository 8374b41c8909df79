/**
 * The EVS checker earns trust by failing: a small valid history passes, and each planted anomaly —
 * a dropped delivery, two swapped deliveries, a view at another point of the stream, one view id
 * with two member sets, a transitional configuration that differs between two members moving
 * together, a missing self-delivery, a safe delivery before a member held it, a duplicate, a FIFO
 * break, an invented message, two processes in the critical section, and more — makes it fail with
 * a violation naming the property.
 */
import { describe, expect, it } from "vitest";
import { checkHistory, formatViolation } from "../../sim/evs/check.ts";
import {
  type DeliverItem,
  fingerprint,
  type History,
  type ProcItem,
  type TransitionalItem,
  type Unstamped,
  type ViewItem,
} from "../../sim/evs/history.ts";

const A = "a#1", B = "b#1", C = "c#1";
const V1 = "1:a#1/1", V2 = "2:a#1/2", T1 = "t:1:a#1/1>2:a#1/2";
const body = (msg: string) => fingerprint(new TextEncoder().encode(msg));

/**
 * Three processes in view V1; c multicasts c#1#1 and crashes; a and b deliver it in the transitional
 * configuration T1 = {a, b}, install V2 = {a, b} and send a quiet tail; each runs a critical section.
 */
function validHistory(): History {
  let step = 0;
  const h: History = {
    mode: "three-phase",
    procs: [A, B, C].map((proc) => ({ proc, items: [] })),
    critical: [],
  };
  const at = () => ({ step: ++step, at: step * 10 });
  const push = (proc: string, item: Unstamped<ProcItem>) =>
    h.procs.find((p) => p.proc === proc)!.items.push({ ...at(), ...item } as ProcItem);
  const view = (proc: string, id: string, index: number, members: string[], previous: string) =>
    push(proc, { kind: "view", id, index, members, previous });
  const send = (proc: string, seq: number, level: "agreed" | "safe" = "agreed") =>
    push(proc, { kind: "send", msg: `${proc}#${seq}`, level, stream: 0, body: body(`${proc}#${seq}`) });
  const deliver = (proc: string, msg: string, config: string, extra: Partial<DeliverItem> = {}) => {
    const origin = msg.slice(0, msg.lastIndexOf("#"));
    const seq = Number(msg.slice(msg.lastIndexOf("#") + 1));
    push(proc, {
      kind: "deliver",
      msg,
      origin,
      seq,
      level: "agreed",
      stream: 0,
      body: body(msg),
      config,
      transitional: config === T1,
      ...extra,
    });
  };

  for (const p of [A, B, C]) view(p, V1, 1, [A, B, C], "");
  send(A, 1);
  send(B, 1, "safe");
  send(A, 2);
  send(C, 1);
  for (const p of [A, B, C]) deliver(p, "a#1#1", V1);
  for (const p of [A, B, C]) deliver(p, "b#1#1", V1, { level: "safe", holders: [A, B, C] });
  for (const p of [A, B, C]) deliver(p, "a#1#2", V1);
  push(C, { kind: "crash" });
  for (const p of [A, B]) {
    push(p, { kind: "transitional", id: T1, previous: V1, next: V2, members: [A, B] });
    deliver(p, "c#1#1", T1);
    view(p, V2, 2, [A, B], V1);
  }
  const quietFrom = step + 1;
  send(A, 3);
  send(B, 2, "safe");
  for (const p of [A, B]) deliver(p, "a#1#3", V2);
  for (const p of [A, B]) deliver(p, "b#1#2", V2, { level: "safe", holders: [A, B] });
  for (const p of [A, B]) {
    h.critical.push({ ...at(), kind: "enter", proc: p, hadToken: true, rivals: [] });
    h.critical.push({ ...at(), kind: "exit", proc: p });
  }
  h.end = {
    ...at(),
    quietFrom,
    live: [{ proc: A, agreed: true, state: "agreement" }, { proc: B, agreed: true, state: "agreement" }],
  };
  return h;
}

const itemsOf = (h: History, proc: string) => h.procs.find((p) => p.proc === proc)!.items;
const deliveryOf = (h: History, proc: string, msg: string) =>
  itemsOf(h, proc).findIndex((i) => i.kind === "deliver" && i.msg === msg);
const indexOf = (h: History, proc: string, kind: string, id?: string) =>
  itemsOf(h, proc).findIndex((i) => i.kind === kind && (id === undefined || (i as ViewItem).id === id));

/** Applies `mutate` to a fresh valid history and checks it. */
function checkMutated(mutate: (h: History) => void) {
  const h = validHistory();
  mutate(h);
  return checkHistory(h);
}

describe("EVS checker", () => {
  it("passes the valid history", () => {
    expect(checkHistory(validHistory()).map(formatViolation)).toEqual([]);
  });

  const mutations: Array<[string, number, string, (h: History) => void]> = [
    ["one delivery dropped", 4, "same set", (h) => {
      itemsOf(h, B).splice(deliveryOf(h, B, "a#1#2"), 1);
    }],
    ["two deliveries swapped", 2, "one order", (h) => {
      const items = itemsOf(h, B);
      const i = deliveryOf(h, B, "a#1#1"), j = deliveryOf(h, B, "b#1#1");
      [items[i], items[j]] = [items[j], items[i]];
    }],
    ["a view delivered at a different point of the stream", 2, "one order", (h) => {
      // b installs T1 and V2 before delivering a#1#2, a after.
      const items = itemsOf(h, B);
      const moved = items.splice(indexOf(h, B, "transitional"), 3);
      items.splice(deliveryOf(h, B, "a#1#2"), 0, ...moved);
    }],
    ["one view id with two member sets", 1, "view identity", (h) => {
      (itemsOf(h, B)[indexOf(h, B, "view", V2)] as ViewItem).members = [A, B, C];
    }],
    ["a view that does not name its process", 1, "view identity", (h) => {
      const items = itemsOf(h, C);
      (items[indexOf(h, C, "view", V1)] as ViewItem).id = "1:x";
      (items[indexOf(h, C, "view", "1:x")] as ViewItem).members = [A, B];
    }],
    ["a view whose `previous` is not the process's previous view", 1, "view identity", (h) => {
      (itemsOf(h, A)[indexOf(h, A, "view", V2)] as ViewItem).previous = "0:a#1/0";
    }],
    ["a view index that does not increase", 1, "view identity", (h) => {
      (itemsOf(h, A)[indexOf(h, A, "view", V2)] as ViewItem).index = 0;
      (itemsOf(h, B)[indexOf(h, B, "view", V2)] as ViewItem).index = 0;
    }],
    ["one index committed as two views at one process", 1, "Safety", (h) => {
      const items = itemsOf(h, A);
      const v = items[indexOf(h, A, "view", V2)] as ViewItem;
      items.push({ ...v, step: 1000, id: "2:other", previous: V2 });
    }],
    ["three-phase: one index, two views sharing a member", 1, "consistent history", (h) => {
      for (const p of [A, B]) {
        const items = itemsOf(h, p);
        items.push({
          kind: "transitional",
          step: 1000,
          at: 1000,
          id: "t:x",
          previous: V2,
          next: "3:x",
          members: [p],
        });
        items.push({
          kind: "view",
          step: 1001,
          at: 1001,
          id: `3:${p}`,
          index: 3,
          members: p === A ? [A] : [A, B],
          previous: V2,
        });
      }
    }],
    [
      "a transitional configuration that differs between two members moving together",
      3,
      "transitional configuration",
      (h) => {
        (itemsOf(h, B)[indexOf(h, B, "transitional")] as TransitionalItem).members = [B];
      },
    ],
    ["a view change without a transitional configuration", 3, "transitional configuration", (h) => {
      const items = itemsOf(h, A);
      items.splice(indexOf(h, A, "transitional"), 1);
    }],
    ["a transitional configuration naming a member of neither view", 3, "transitional configuration", (h) => {
      for (const p of [A, B]) {
        (itemsOf(h, p)[indexOf(h, p, "transitional")] as TransitionalItem).members = [A, B, "d#1"];
      }
    }],
    ["a delivery in the transitional set at one member and in the view at the other", 4, "same set", (h) => {
      // b delivers c#1#1 just before T1 (in V1, as its own item says), a just after.
      const items = itemsOf(h, B);
      const d = items.splice(deliveryOf(h, B, "c#1#1"), 1)[0] as DeliverItem;
      items.splice(indexOf(h, B, "transitional"), 0, { ...d, config: V1, transitional: false });
    }],
    ["a delivery naming another configuration than the current one", 2, "views in the stream", (h) => {
      (itemsOf(h, A)[deliveryOf(h, A, "c#1#1")] as DeliverItem).transitional = false;
    }],
    ["a self-delivery missing", 5, "self-delivery", (h) => {
      itemsOf(h, A).splice(deliveryOf(h, A, "a#1#3"), 1);
    }],
    ["a quiet-tail message lost at one live member", 5, "no loss", (h) => {
      itemsOf(h, A).splice(deliveryOf(h, A, "b#1#2"), 1);
    }],
    ["a safe delivery before a member held it", 6, "safe", (h) => {
      (itemsOf(h, A)[deliveryOf(h, A, "b#1#1")] as DeliverItem).holders = [A, B];
    }],
    ["a duplicate", 6, "exactly once", (h) => {
      const items = itemsOf(h, B);
      items.push({ ...(items[deliveryOf(h, B, "a#1#3")] as DeliverItem), step: 1000 });
    }],
    ["a FIFO break", 6, "FIFO", (h) => {
      const items = itemsOf(h, C);
      const i = deliveryOf(h, C, "a#1#1"), j = deliveryOf(h, C, "a#1#2");
      [items[i], items[j]] = [items[j], items[i]];
    }],
    ["an invented message", 6, "invented", (h) => {
      const items = itemsOf(h, A);
      const d = items[deliveryOf(h, A, "a#1#3")] as DeliverItem;
      items.splice(deliveryOf(h, A, "a#1#3") + 1, 0, { ...d, msg: "a#1#9", seq: 9 });
    }],
    ["a corrupted payload", 6, "corrupt", (h) => {
      (itemsOf(h, C)[deliveryOf(h, C, "a#1#1")] as DeliverItem).body = body("something else");
    }],
    ["a message delivered at another level than sent", 6, "level", (h) => {
      (itemsOf(h, C)[deliveryOf(h, C, "a#1#1")] as DeliverItem).level = "safe";
    }],
    ["a listener throw with no error event", 7, "listener isolation", (h) => {
      itemsOf(h, A).push({ kind: "throw", event: "deliver", step: 1000, at: 1000 });
    }],
    ["two processes in the critical section", 8, "mutual exclusion", (h) => {
      const [enterA, exitA, enterB, exitB] = h.critical;
      h.critical = [enterA, enterB, exitA, exitB];
    }],
    ["a critical section without the token", 8, "mutual exclusion", (h) => {
      h.critical[0].hadToken = false;
    }],
    ["a live process not in Agreement at the end", 1, "Termination", (h) => {
      h.end!.live[0] = { proc: A, agreed: false, state: "chaos" };
    }],
    ["live processes ending in different views", 1, "Validity", (h) => {
      const items = itemsOf(h, B);
      items.push({
        kind: "transitional",
        step: 1000,
        at: 1000,
        id: "t:b",
        previous: V2,
        next: "3:b",
        members: [B],
      });
      items.push({ kind: "view", step: 1001, at: 1001, id: "3:b", index: 3, members: [B], previous: V2 });
    }],
    ["a last view that is not the live set", 1, "Validity", (h) => {
      h.end!.live.push({ proc: C, agreed: true, state: "agreement" });
    }],
  ];

  for (const [what, property, name, mutate] of mutations) {
    it(`fails on ${what}: [${property} ${name}]`, () => {
      const violations = checkMutated(mutate);
      const named = violations.filter((v) => v.property === property && v.name === name);
      expect(named, violations.map(formatViolation).join("\n") || "no violation").not.toEqual([]);
      expect(formatViolation(named[0])).toContain(`[${property} ${name}]`);
    });
  }

  it("takes an open-group message (forwarded by a member, sent by nobody it knows) as sent once", () => {
    const forwarded = (h: History, proc: string, text: string) => {
      const items = itemsOf(h, proc);
      const at = deliveryOf(h, proc, "a#1#3");
      const d = items[at] as DeliverItem;
      items.splice(at + 1, 0, { ...d, msg: "a#1#4", seq: 4, body: body(text), forwardedFor: "z" });
    };
    const h = validHistory();
    for (const p of [A, B]) forwarded(h, p, "from z");
    expect(checkHistory(h).map(formatViolation)).toEqual([]);
    const corrupt = validHistory();
    forwarded(corrupt, A, "from z");
    forwarded(corrupt, B, "from z, changed");
    expect(checkHistory(corrupt).map((v) => v.name)).toContain("corrupt");
  });

  it("judges a whole run, not only its end: a dropped delivery long before the quiet tail fails", () => {
    const violations = checkMutated((h) => {
      delete h.end;
      itemsOf(h, A).splice(deliveryOf(h, A, "a#1#1"), 1);
    });
    expect(violations.map((v) => v.name)).toContain("same set");
  });

  it("does not blame a member that crashed for not holding a safe message", () => {
    const h = validHistory();
    // c crashes before b#1#1 is delivered anywhere and never held it.
    const items = itemsOf(h, C);
    const crash = items.splice(indexOf(h, C, "crash"), 1)[0];
    items.splice(deliveryOf(h, C, "b#1#1"), items.length);
    items.push({ ...crash, step: itemsOf(h, A)[deliveryOf(h, A, "b#1#1")].step - 0.5 });
    for (const p of [A, B]) (itemsOf(h, p)[deliveryOf(h, p, "b#1#1")] as DeliverItem).holders = [A, B];
    expect(checkHistory(h).filter((v) => v.name === "safe")).toEqual([]);
  });

  it("judges where safe messages were held only when the history knows it", () => {
    const h = validHistory();
    for (const p of [A, B, C]) delete (itemsOf(h, p)[deliveryOf(h, p, "b#1#1")] as DeliverItem).holders;
    expect(checkHistory(h).map((v) => v.name)).toContain("safe");
    h.holdersKnown = false; // a history read from real processes' output
    expect(checkHistory(h).map(formatViolation)).toEqual([]);
  });
});
