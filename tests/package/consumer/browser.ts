/**
 * A consumer's browser entry (bundled by tests/package/pack.test.ts with esbuild
 * `--platform=browser`, no plugin, no alias): the bundler must pick raincore's browser build by
 * itself through the `browser` export condition.
 * @module
 */
import { createNode, createWebSocketTransport } from "raincore";
import { GroupDataManager } from "raincore/gdm";

const ws = await createWebSocketTransport({ id: "tab", servers: ["ws://127.0.0.1:8080/"] });
const node = createNode({ id: "tab", transports: [ws], peers: {} });
const data = new GroupDataManager({ gcm: node.gcm, layer: node.transport });
data.on("change", (c) => console.log(c.key));
