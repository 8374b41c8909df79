import { runSeed } from "./sim/run.ts";
const res = await runSeed(Number(process.argv[2]), { net: (process.argv[3] ?? "fake") as "fake", verbose: true });
console.log(res.violations.join("\n"));
for (const n of res.cluster.live()) {
  const c = n.gcm.core;
  console.log(n.id, n.inc, JSON.stringify(n.gcm.state), "ring", c.ringId, "lastSeq", c.lastTokenSeq,
    "lastToken", c.lastToken ? c.lastToken.nodelist.map((m) => m.id + "#" + m.inc).join(",") + " seq " + c.lastToken.seq + " dest " + c.lastToken.dest : "-",
    "newNodes", c.newNodes.map((m) => m.id));
}
