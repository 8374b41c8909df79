/**
 * A fault-injecting UDP relay for process tests and benchmarks of partitions: one loopback socket per
 * pair of nodes (node `a` is told that node `b` lives at `port(a, b)` = `port(b, a)`), forwarding
 * both ways between the two real addresses unless the direction is blocked. One socket per pair, not
 * per direction: a node then sees its peer's packets come from the address it sends to, as on a real
 * network — with two, every node learned a second address per peer and the Transport Manager spent its
 * retries on both before reporting a failure, doubling failure detection (6 s+ per peer under a
 * partition). `partition([[…], […]])` blocks every pair across groups; `heal()` unblocks everything.
 * `tap` sees every packet it forwards (the adversarial tests take their fuzzing material from it).
 * @module
 */
import { createSocket, type Socket } from "node:dgram";

/** A relay between `ids` whose real UDP ports are `ports` (same order). */
export class UdpRelay {
  readonly #sockets = new Map<string, Socket>();
  readonly #relayPort = new Map<string, number>();
  readonly #blocked = new Set<string>();
  /** Packets dropped by blocks (diagnostics). */
  dropped = 0;
  /** Called with every packet forwarded: source and destination node IDs, the bytes. */
  tap: ((src: string, dst: string, packet: Uint8Array) => void) | undefined;

  private constructor(readonly ids: readonly string[], readonly ports: readonly number[]) {}

  /** Opens one socket per pair. */
  static async open(ids: readonly string[], ports: readonly number[]): Promise<UdpRelay> {
    const r = new UdpRelay(ids, ports);
    for (let a = 0; a < ids.length; a++) {
      for (let b = a + 1; b < ids.length; b++) {
        const s = createSocket("udp4");
        await new Promise<void>((resolve, reject) => {
          s.once("error", reject);
          s.bind(0, "127.0.0.1", () => resolve());
        });
        const [x, y] = [ids[a], ids[b]];
        s.on("message", (msg, rinfo) => {
          // Packets from b's real port go to a; anything else (a's packets) goes to b.
          const [src, dst, port] = rinfo.port === ports[b] ? [y, x, ports[a]] : [x, y, ports[b]];
          if (r.#blocked.has(`${src}>${dst}`)) {
            r.dropped++;
            return;
          }
          r.tap?.(src, dst, msg);
          s.send(msg, port, "127.0.0.1");
        });
        const port = s.address().port;
        r.#sockets.set(`${x}>${y}`, s);
        r.#relayPort.set(`${x}>${y}`, port);
        r.#relayPort.set(`${y}>${x}`, port);
      }
    }
    return r;
  }

  /** The port at which node `a` reaches node `b`. */
  port(a: string, b: string): number {
    return this.#relayPort.get(`${a}>${b}`)!;
  }

  /** `--peer` flags for node `a`: every other node at its relay port. */
  peerFlags(a: string): string[] {
    return this.ids.filter((b) => b !== a).flatMap((
      b,
    ) => ["--peer", `${b}=udp://127.0.0.1:${this.port(a, b)}`]);
  }

  /** Blocks a→b (and b→a unless `oneWay`). */
  block(a: string, b: string, oneWay = false): void {
    this.#blocked.add(`${a}>${b}`);
    if (!oneWay) this.#blocked.add(`${b}>${a}`);
  }

  /** Blocks every pair across `groups`. */
  partition(groups: readonly (readonly string[])[]): void {
    for (const g of groups) {
      for (const h of groups) if (g !== h) { for (const a of g) for (const b of h) this.block(a, b); }
    }
  }

  /** Unblocks everything. */
  heal(): void {
    this.#blocked.clear();
  }

  /** Closes every socket. */
  async close(): Promise<void> {
    await Promise.all([...this.#sockets.values()].map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
