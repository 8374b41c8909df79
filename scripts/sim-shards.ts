// Writes the simulator's vitest shard files (tests/sim/<kind>_<i>of<n>.test.ts) from sim/kinds.ts and
// removes stale ones: node --import tsx scripts/sim-shards.ts
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { SHARD_DIR, SHARD_FILE, shardFiles } from "../sim/shard_files.ts";

const root = resolve(dirname(process.argv[1]), ".."); // node puts this file's path there
const files = shardFiles();
for (const name of readdirSync(join(root, SHARD_DIR))) {
  const path = `${SHARD_DIR}/${name}`;
  if (SHARD_FILE.test(name) && !files.has(path)) {
    rmSync(join(root, path));
    console.log(`removed ${path}`);
  }
}
for (const [path, content] of files) writeFileSync(join(root, path), content);
console.log(`wrote ${files.size} shard files in ${SHARD_DIR}/`);
