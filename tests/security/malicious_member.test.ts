/**
 * Protocol-level fuzzing in the GCM simulator (sim/gcm, imported): a malicious sender on the
 * GCM channel sends well-formed but wrong messages — stale tokens, tokens with forged or huge node
 * lists, out-of-range positions, 911s with random fields, forwards, random bytes — to honest
 * members. Honest members keep DESIGN.md's properties (the sim checker), converge once it stops,
 * and then deliver new traffic everywhere in one order. Seeded; a failure prints the seed.
 *
 * Scope: the attacker is not a member of the honest ring. A *member* that lies (forges a fresh
 * token of its own ring) is outside what a non-Byzantine protocol can survive — see docs/security.md.
 */
import { describe, expect, it } from "vitest";
import { encode911, encodeForward, encodeToken } from "../../gcm/codec.ts";
import { APP_STREAM } from "../../gcm/streams.ts";
import type { Token } from "../../gcm/token.ts";
import { Random } from "../../base/random.ts";
import { Cluster } from "../../sim/gcm/cluster.ts";

const SEEDS = Number(process.env.MALICIOUS_SEEDS ?? 6);

function mutateToken(r: Random, t: Token): Token {
  const x: Token = { ...t, nodelist: t.nodelist.slice(), entries: t.entries.slice() };
  switch (r.int(7)) {
    case 0: // stale
      x.seq = Math.max(0, t.seq - 1 - r.int(50));
      break;
    case 1: // forged node list, stale seq
      x.nodelist = [...t.nodelist, { id: "zz-phantom", inc: 9 }];
      x.seq = Math.max(0, t.seq - 1);
      break;
    case 2: // huge view
      x.nodelist = Array.from(
        { length: 2000 + r.int(3000) },
        (_, i) => ({ id: `p${i}`, inc: 1 + r.int(1000) }),
      );
      x.seq = r.int(2) === 0 ? Math.max(0, t.seq - 2) : t.seq + 1 + r.int(1000);
      x.current = r.int(x.nodelist.length);
      x.dest = r.int(x.nodelist.length);
      break;
    case 3: // out-of-range positions
      x.current = t.nodelist.length + r.int(100);
      x.dest = t.nodelist.length + r.int(100);
      x.seq = t.seq + 1 + r.int(10);
      x.ringId = `evil/${r.int(5)}`;
      break;
    case 4: // another lineage, with only the attacker
      x.ringId = `m/1/${r.int(1000)}`;
      x.nodelist = [{ id: "m", inc: 1 }];
      x.current = 0;
      x.dest = 0;
      x.seq = r.int(1_000_000);
      break;
    case 5: // huge view numbers
      x.gvn = 2 ** 40 + r.int(1000);
      x.rsv = 2 ** 40;
      x.seq = Math.max(0, t.seq - 3);
      break;
    default: // empty list
      x.nodelist = [];
      x.seq = t.seq + 1;
  }
  return x;
}

async function attackRun(
  seed: number,
  kinds: readonly number[],
  requireTermination: boolean,
): Promise<string[]> {
  const c = new Cluster({ seed });
  const ids = ["a", "b", "c", "d"];
  for (const id of ids) c.start(id, ids.filter((p) => p !== id));
  if (!(await c.settle(20_000))) return ["boot did not converge"];
  const r = new Random(seed ^ 0x5eed);
  const evil = c.backend.layer("m", 1, ids);
  const send = (to: string, bytes: Uint8Array) => evil.post(to, 16, bytes, () => {});
  const end = c.clock.now() + 3000;
  let k = 0;
  while (c.clock.now() < end) {
    const target = c.nodes.get(ids[r.int(ids.length)])!;
    const t = target.gcm.core.token ?? target.gcm.core.lastToken;
    let kind = r.int(5);
    if (!kinds.includes(kind)) kind = -1;
    switch (kind) {
      case -1:
        break;
      case 0:
      case 1:
        if (t !== undefined) send(target.id, encodeToken(mutateToken(r, t)));
        break;
      case 2: {
        const list = Array.from(
          { length: 1 + r.int(6) },
          (_, i) => ({ id: r.chance(0.5) ? ids[r.int(4)] : `q${i}`, inc: 1 + r.int(3) }),
        );
        send(
          target.id,
          encode911({
            ringId: r.chance(0.5) && t ? t.ringId : `x/${r.int(9)}`,
            seq: r.chance(0.5) && t ? Math.max(0, t.seq - r.int(20)) : r.int(1_000_000),
            nodelist: list,
            orig: r.int(list.length + 2),
            current: r.int(list.length + 2),
            dest: r.int(list.length + 2),
            status: r.int(3),
            flags: r.int(2),
            addrs: [],
          }),
        );
        break;
      }
      case 3: // a forward in another node's name (dropped: the claimed sender is not the sender)
        send(
          target.id,
          encodeForward({ from: ids[r.int(4)], safe: r.chance(0.5), data: new Uint8Array(r.int(2000)) }),
        );
        break;
      default: {
        const junk = new Uint8Array(r.int(200));
        for (let i = 0; i < junk.length; i++) junk[i] = r.int(256);
        send(target.id, junk);
      }
    }
    // Honest traffic continues meanwhile.
    if (k++ % 4 === 0) c.send(ids[r.int(ids.length)], r.chance(0.3) ? "safe" : "agreed");
    await c.run(5 + r.int(20));
  }
  evil.close();
  if (c.failures.length > 0) return c.check();
  if (!(await c.settle(30_000))) {
    if (!requireTermination) {
      await c.run(5000);
      return c.check(); // safety only (see the known issue below)
    }
    return [...c.check({ end: true }), "Termination: honest members did not converge after the attack"];
  }
  c.beginQuietTail();
  for (const node of c.live()) for (let i = 0; i < 3; i++) c.send(node.id, i === 1 ? "safe" : "agreed");
  await c.run(3000);
  return c.check({ end: true });
}

describe("malicious sender on the GCM channel (simulator)", () => {
  it("regression: a forward claiming another node's ID is dropped; one in its own name is delivered as such", async () => {
    const c = new Cluster({ seed: 99 });
    const ids = ["a", "b", "c"];
    for (const id of ids) c.start(id, ids.filter((p) => p !== id));
    expect(await c.settle(20_000)).toBe(true);
    const got: (string | undefined)[] = [];
    c.nodes.get("c")!.gcm.on(
      "deliver",
      (d) => got.push(`${d.from}/${d.forwardedFor}/${new TextDecoder().decode(d.data)}`),
    );
    const evil = c.backend.layer("m", 1, ids);
    // A forward's payload starts with its stream byte (APP_STREAM: the application's deliver events).
    const app = (text: string) => new Uint8Array([APP_STREAM, ...new TextEncoder().encode(text)]);
    evil.post("b", 16, encodeForward({ from: "a", safe: false, data: app("spoofed") }), () => {});
    evil.post("b", 16, encodeForward({ from: "m", safe: false, data: app("honest") }), () => {});
    await c.run(2000);
    expect(got).toEqual(["b/m/honest"]);
  });

  const base = Number(process.env.MALICIOUS_SEED ?? 1);
  const variants = [
    { name: "tokens, forwards, junk", kinds: [0, 1, 3, 4], termination: true },
    // KNOWN ISSUE (reported to the GCM owner): after a burst of forged 911s (random node lists with
    // phantom IDs, random positions and statuses) from a non-member, honest members can stay in
    // Chaos/Reserve for > 30 s once it stops (e.g. MALICIOUS_SEED=2). Safety holds; Termination
    // does not. With secureTransport, only key or credential holders can send 911s at all.
    { name: "forged 911s (safety only)", kinds: [2], termination: false },
  ];
  for (const v of variants) {
    for (let s = base; s < base + SEEDS; s++) {
      it(`${v.name}, seed ${s}: honest members keep the properties`, async () => {
        let violations: string[];
        try {
          violations = await attackRun(s, v.kinds, v.termination);
        } catch (e) {
          throw new Error(
            `seed ${s} threw (replay: MALICIOUS_SEED=${s} MALICIOUS_SEEDS=1): ${(e as Error).stack}`,
          );
        }
        if (violations.length > 0) {
          console.error(
            `seed ${s} (replay: MALICIOUS_SEED=${s} MALICIOUS_SEEDS=1):\n${violations.join("\n")}`,
          );
        }
        expect(violations).toEqual([]);
      }, 120_000);
    }
  }
});
