/**
 * Whether a host name or IP literal is reachable only from this machine (the CLI's exposure warning
 * and the WebSocket client's frame masking ask).
 * @module
 */

/** Whether `host` (an IP literal or name, IPv6 with or without brackets) is reachable only from this machine. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h) || h === "::ffff:127.0.0.1";
}
