/** Free UDP ports on loopback, found by binding port 0 and releasing it (benchmarks and tests).
 * @module
 */
import { createSocket } from "node:dgram";

/** `count` distinct UDP ports that were free on 127.0.0.1 a moment ago. */
export async function freeUdpPorts(count: number): Promise<number[]> {
  const sockets = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<ReturnType<typeof createSocket>>((resolve, reject) => {
        const s = createSocket("udp4");
        s.once("error", reject);
        s.bind(0, "127.0.0.1", () => resolve(s));
      })),
  );
  const ports = sockets.map((s) => s.address().port);
  await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}
