/**
 * Test helpers for the UDP backend: a compliance-suite fixture and a port where nothing listens.
 * @module
 */

import { createUdpTransport, type UdpTransportOptions } from "../../transport/backends/udp.ts";
import type { BackendFixture } from "./compliance.ts";

/**
 * A loopback address where nothing listens: an ephemeral port bound and released at once, so the
 * kernel will not hand it out again soon.
 */
export async function deadUdpAddress(host = "127.0.0.1"): Promise<string> {
  const t = await createUdpTransport({ host });
  const address = t.addresses[0];
  await t.close();
  return address;
}

/** A compliance fixture of UDP transports on loopback with the given options. */
export function udpFixture(name: string, opts: UdpTransportOptions = {}): BackendFixture {
  return {
    name,
    create: () => createUdpTransport(opts),
    deadAddress: () => deadUdpAddress(opts.host),
  };
}
