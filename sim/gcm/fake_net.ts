/**
 * A message-level fake of the Transport Manager for GCM tests: exactly-once, atomic, unordered
 * messages with random delays under a VirtualClock; `post` reports the "ack", or a
 * DeliveryFailedError after `failAfterMs` when the destination is crashed or the link is cut. A cut
 * of the return direction only (`cut(b, a)` while a sends to b) delivers the message but reports a
 * failure — a false suspicion.
 * @module
 */
import type { VirtualClock } from "../../base/clock.ts";
import { DeliveryFailedError } from "../../transport/errors.ts";
import type { Random } from "../../base/random.ts";
import type { MessageLayer } from "../../gcm/layer.ts";

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
      post: (to, channel, msg, outcome) => {
        const fail = (why: string) =>
          this.clock.setTimer(this.failAfterMs, () => outcome(new DeliveryFailedError(to, channel, why)));
        if (closed) {
          fail("closed");
          return;
        }
        this.sent++;
        const copy = msg.slice();
        const d = this.random.between(this.delay.min, this.delay.max);
        if (this.#cuts.has(id + ">" + to)) {
          fail("no ack");
          return;
        }
        this.clock.setTimer(d, () => {
          const h = this.#handlers.get(to)?.get(channel);
          if (h === undefined || this.#cuts.has(id + ">" + to)) {
            fail("no ack");
            return;
          }
          h(id, copy);
          if (this.#cuts.has(to + ">" + id)) fail("no ack");
          else this.clock.setTimer(d, () => outcome());
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
