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

/** A TCP port that was free on 127.0.0.1 a moment ago (for servers a test starts in another process). */
export async function freeTcpPort(): Promise<number> {
  const { createServer } = await import("node:net");
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
