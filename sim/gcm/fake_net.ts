/**
 * A message-level fake of the Transport Manager for GCM tests: exactly-once, atomic, unordered
 * messages with random delays under a VirtualClock; `send` resolves on "ack" and rejects with
 * DeliveryFailedError after `failAfterMs` when the destination is crashed or the link is cut. A cut
 * of the return direction only (`cut(b, a)` while a sends to b) delivers the message but reports a
 * failure — a false suspicion.
 * @module
 */
import type { VirtualClock } from "../../base/clock.ts";
import { DeliveryFailedError } from "../../transport/errors.ts";
import type { Random } from "../../base/random.ts";
import type { MessageLayer } from "../../gcm/manager.ts";

/** A layer of one node on the fake network. */
export interface FakeLayer extends MessageLayer {
  close(): void;
}

/** The fake network. */
export class FakeNet {
  readonly #handlers = new Map<string, Map<number, (from: string, msg: Uint8Array) => void>>();
  readonly #cuts = new Set<string>();
  /** Messages sent (for overhead counting). */
  sent = 0;

  constructor(
    readonly clock: VirtualClock,
    readonly random: Random,
    readonly delay = { min: 1, max: 5 },
    readonly failAfterMs = 60,
  ) {}

  /** Creates (or re-creates after a crash) the layer of node `id`. */
  layer(id: string): FakeLayer {
    const handlers = new Map<number, (from: string, msg: Uint8Array) => void>();
    this.#handlers.set(id, handlers);
    let closed = false;
    return {
      nodeId: id,
      send: (to, channel, msg) => {
        if (closed) return Promise.reject(new DeliveryFailedError(to, channel, "closed"));
        this.sent++;
        const copy = msg.slice();
        return new Promise<void>((resolve, reject) => {
          const d = this.random.between(this.delay.min, this.delay.max);
          const fail = () =>
            this.clock.setTimer(
              this.failAfterMs,
              () => reject(new DeliveryFailedError(to, channel, "no ack")),
            );
          if (this.#cuts.has(id + ">" + to)) {
            fail();
            return;
          }
          this.clock.setTimer(d, () => {
            const h = this.#handlers.get(to)?.get(channel);
            if (h === undefined || this.#cuts.has(id + ">" + to)) {
              fail();
              return;
            }
            h(id, copy);
            if (this.#cuts.has(to + ">" + id)) fail();
            else this.clock.setTimer(d, () => resolve());
          });
        });
      },
      onMessage: (channel, fn) => {
        handlers.set(channel, fn);
      },
      close: () => {
        closed = true;
        if (this.#handlers.get(id) === handlers) this.#handlers.delete(id);
      },
    };
  }

  /** Cuts the link a→b (and b→a unless oneWay). */
  cut(a: string, b: string, oneWay = false): void {
    this.#cuts.add(a + ">" + b);
    if (!oneWay) this.#cuts.add(b + ">" + a);
  }

  /** Heals the link a→b and b→a. */
  heal(a: string, b: string): void {
    this.#cuts.delete(a + ">" + b);
    this.#cuts.delete(b + ">" + a);
  }

  /** Heals every link. */
  healAll(): void {
    this.#cuts.clear();
  }
}
