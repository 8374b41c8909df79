/**
 * `raincore demo`: a three-member ring in this process (memory network, real time) that
 * multicasts, loses a member and heals, printing every event — the shortest look at what
 * raincore does, with no network and no setup.
 * @module
 */

import { GroupCommunicationManager } from "../gcm/manager.ts";
import { SystemClock } from "../transport/clock.ts";
import { TransportManager } from "../transport/manager.ts";
import { SimNetwork } from "../transport/memory.ts";
import type { Command } from "./commands.ts";

const usage = `raincore demo — a three-member ring in one process: multicast, a crash, a rejoin

usage: raincore demo   (Ctrl-C stops it)`;

/** The `demo` subcommand. */
export const demoCommand: Command = {
  summary: "a three-member ring in one process: multicast, a crash, a rejoin",
  usage,
  async run() {
    const clock = new SystemClock();
    const net = new SimNetwork({ clock, link: { delayMs: { min: 0.2, max: 1 } } });
    const ids = ["alpha", "bravo", "charlie"];
    const decoder = new TextDecoder();
    const start = (id: string) => {
      const tm = new TransportManager({ nodeId: id, transports: [net.createTransport(`mem://${id}`)], clock, rtoMinMs: 10, retries: 3 });
      for (const peer of ids) tm.setAddresses(peer, [`mem://${peer}`]);
      const gcm = new GroupCommunicationManager({ layer: tm, clock, peers: ids, hungryMs: 300, starvingMs: 100 });
      gcm.on("view", (v) => console.log(`${id.padEnd(8)} view #${v.index}: [${v.members.join(", ")}]`));
      gcm.on("deliver", (d) => console.log(`${id.padEnd(8)} delivered ${d.level} from ${d.from}: ${decoder.decode(d.data)}`));
      gcm.start();
      return { tm, gcm };
    };
    const members = new Map(ids.map((id) => [id, start(id)]));
    const say = (id: string, text: string) => members.get(id)!.gcm.multicast(new TextEncoder().encode(text));
    const step = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    console.log("three members join one ring …");
    await step(1000);
    say("alpha", "hello from alpha");
    say("bravo", "hello from bravo");
    await step(500);
    console.log("\ncharlie crashes: the others detect it through the Transport Manager and commit a new view …");
    net.crash("mem://charlie");
    members.get("charlie")!.gcm.close();
    await step(1500);
    console.log("\ncharlie restarts (a new incarnation) and rejoins through a 911 …");
    members.set("charlie", start("charlie"));
    await step(1500);
    say("charlie", "back again");
    await step(500);
    console.log("\ndone — see README.md for the CLI (raincore node) and the library API");
    for (const m of members.values()) {
      m.gcm.close();
      await m.tm.close();
    }
    return 0;
  },
};
