/**
 * Guard for tests that drive WebRTC stacks (werift, Chromium): they run only inside a network
 * namespace whose sole interface is loopback (`node scripts/loopback-only.mjs …`), so no packet can
 * leave the host even if a stack tries (werift's default STUN server, Chromium's start-up lookups).
 * @module
 */
import { networkInterfaces } from "node:os";

/** Whether this process sees no network interface but loopback. */
export function onlyLoopback(): boolean {
  return Object.keys(networkInterfaces()).every((name) => name === "lo");
}

/** Why a WebRTC test is skipped here, or `undefined` when it may run. */
export function webRtcSkipReason(): string | undefined {
  if (onlyLoopback()) return undefined;
  return "needs a loopback-only network namespace: node scripts/loopback-only.mjs npx vitest run <file>";
}
