/**
 * One GDM member over real UDP on 127.0.0.1 for the in-process UDP tests: a Transport Manager that
 * knows every other member's port, a GCM and a GroupDataManager on it, started; `closers` gets what
 * stops them again.
 */
import { GroupCommunicationManager } from "../../gcm/manager.ts";
import type { GcmOptions } from "../../gcm/options.ts";
import { GroupDataManager } from "../../gdm/manager.ts";
import type { GdmOptions } from "../../gdm/options.ts";
import { TransportManager } from "../../transport/manager.ts";
import { createUdpTransport } from "../../transport/backends/udp.ts";

/** Options of {@link udpMember}: the UDP MTU and extra GCM / GDM options. */
export interface UdpMemberOptions {
  mtu?: number;
  gcm?: Partial<GcmOptions>;
  gdm?: Partial<GdmOptions>;
}

/** Starts member `id` of the group whose UDP ports are `ports`. */
export async function udpMember(
  id: string,
  ports: Record<string, number>,
  closers: Array<() => Promise<void>>,
  opts: UdpMemberOptions = {},
): Promise<{ gcm: GroupCommunicationManager; gdm: GroupDataManager }> {
  const udp = await createUdpTransport({ port: ports[id], ...(opts.mtu ? { mtu: opts.mtu } : {}) });
  const tm = new TransportManager({ nodeId: id, transports: [udp] });
  for (const [p, port] of Object.entries(ports)) {
    if (p !== id) tm.setAddresses(p, [`udp://127.0.0.1:${port}`]);
  }
  const gcm = new GroupCommunicationManager({
    layer: tm,
    peers: Object.keys(ports).filter((p) => p !== id),
    timing: { eatingMs: 5 },
    ...opts.gcm,
  });
  const gdm = new GroupDataManager({ gcm, layer: tm, ...opts.gdm });
  gcm.start();
  closers.push(async () => {
    await gdm.close();
    gcm.close();
    await tm.close();
  });
  return { gcm, gdm };
}
