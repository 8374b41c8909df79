/**
 * The simulator's shard files are what sim/kinds.ts says (regenerate with `node --import tsx
 * scripts/sim-shards.ts`), and their slices cover each kind's seeds exactly once for any count.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { shardSeeds, SIM_KINDS } from "../../sim/kinds.ts";
import { SHARD_DIR, SHARD_FILE, shardFiles } from "../../sim/shard_files.ts";

describe("simulator shards", () => {
  it("the shard files on disk are the generated ones", () => {
    const want = shardFiles();
    const onDisk = readdirSync(SHARD_DIR).filter((n) => SHARD_FILE.test(n)).map((n) => `${SHARD_DIR}/${n}`);
    expect(onDisk.sort()).toEqual([...want.keys()].sort());
    for (const [path, content] of want) {
      expect(existsSync(path) && readFileSync(path, "utf8"), path).toBe(content);
    }
  });

  it("shards cover 1..N once, without overlap or gap, for every kind and any N", () => {
    for (const kind of Object.values(SIM_KINDS)) {
      for (const total of [1, 7, kind.ciSeeds, kind.ciSeeds + 1, 1000, 20_000]) {
        const all = Array.from({ length: kind.shards }, (_, i) => shardSeeds(5, total, i + 1, kind.shards))
          .flat();
        expect(all, `${kind.name}, ${total} seeds`).toEqual(Array.from({ length: total }, (_, i) => 5 + i));
      }
    }
  });
});
