/**
 * Issues a node credential (docs/security.md) from the cluster key: the pair keys of one node with
 * every other eligible node, as the JSON that `raincore node --key-file` reads.
 *
 *   node --import tsx tools/issue_credential.ts --key-file cluster.key --node n1 --eligible n1,n2,n3 > n1.key
 * @module
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { issueNodeCredential } from "../transport/secure/keys.ts";
import { formatNodeCredential, parseKeyFile } from "../transport/secure/key_file.ts";
import { loadNodeCrypto } from "../transport/secure/node_crypto.ts";

const { values } = parseArgs({
  options: { "key-file": { type: "string" }, node: { type: "string" }, eligible: { type: "string" } },
});
if (values["key-file"] === undefined || values.node === undefined || values.eligible === undefined) {
  console.error("usage: tools/issue_credential.ts --key-file CLUSTER_KEY --node ID --eligible ID,ID,…");
  process.exit(2);
}
const key = parseKeyFile(readFileSync(values["key-file"], "utf8"));
if (!(key instanceof Uint8Array)) {
  console.error("--key-file must hold the cluster key, not a node credential");
  process.exit(2);
}
await loadNodeCrypto();
const eligible = values.eligible.split(",").map((s) => s.trim()).filter((s) => s !== "");
process.stdout.write(formatNodeCredential(await issueNodeCredential(key, values.node, eligible)));
