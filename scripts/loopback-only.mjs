#!/usr/bin/env node
// Runs a command inside a fresh network namespace that has only the loopback interface (up), so
// that nothing it starts — werift, Chromium — can send a packet off this host whatever it tries.
// The namespace exists as long as the command runs (unshare -n) and is gone afterwards.
// Needs root or user namespaces (CAP_SYS_ADMIN) and `ip` (iproute2).
//   node scripts/loopback-only.mjs npx vitest run tests/transport/compliance_webrtc.test.ts
import { spawnSync } from "node:child_process";

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error("usage: node scripts/loopback-only.mjs COMMAND [ARGS...]");
  process.exit(2);
}
const r = spawnSync(
  "unshare",
  [
    "-n",
    "sh",
    "-c",
    'ip link set lo up && export RAINCORE_LOOPBACK_NETNS=1 && exec "$@"',
    "loopback-only",
    ...args,
  ],
  { stdio: "inherit" },
);
if (r.error) {
  console.error(`loopback-only: cannot run unshare: ${r.error.message}`);
  process.exit(1);
}
process.exit(r.status ?? 1);
