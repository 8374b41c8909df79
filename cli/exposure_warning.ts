/**
 * The loud warning of `raincore node` and `raincore demo` when they listen where other hosts can
 * reach them and no cluster key authenticates the traffic: one paragraph on stderr that says what
 * anyone who can send to the port can do, and how to make and use a key.
 * @module
 */

import { isLoopbackHost } from "../base/loopback_host.ts";

export { isLoopbackHost };

/** The warning paragraph for `command` listening on `where` without a key. */
export function exposureWarning(command: string, where: string): string {
  return `${command}: WARNING — listening on ${where}, which other hosts can reach, without a cluster key. ` +
    `Nothing is authenticated: anyone who can send to this port can read the cluster's traffic, inject ` +
    `messages in a member's name, claim node IDs and flood it (docs/security.md). Make a key once with ` +
    `\`raincore key new --out cluster.key\`, copy it to every member, and start each with --key-file cluster.key.`;
}

/** Prints {@link exposureWarning} on stderr when `host` is not loopback and there is no key. */
export function warnIfExposed(command: string, host: string, where: string, keyed: boolean): void {
  if (!keyed && !isLoopbackHost(host)) console.error(exposureWarning(command, where));
}
