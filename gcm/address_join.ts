/**
 * Joining through addresses alone (`createNode({ join: ["ws://hub.example/"] })`): asks whoever
 * listens at each address for its node ID (`TransportManager.discover`) and hands the ID to the GCM
 * as a member to ask for admission. The rest — every other member's address — comes with the join
 * (`addresses.ts`). An address that does not answer is asked again with back-off; one that did is
 * asked again while this node is alone (the member there may have been replaced).
 * @module
 */
import type { Clock, TimerId } from "../base/clock.ts";

/** What {@link AddressJoin} needs. */
export interface AddressJoinOptions {
  /** Time source. */
  clock: Clock;
  /** Asks an address for its node ID (`undefined`: nobody answered). */
  discover(address: string, outcome: (nodeId?: string) => void): void;
  /** The addresses to join through. */
  addresses: readonly string[];
  /** First retry delay, ms (doubles up to 16 times this). */
  retryMs: number;
  /** A node was found at an address. */
  found(nodeId: string): void;
  /** Whether this node is alone (then addresses that answered before are asked again). */
  alone(): boolean;
}

/** Finds the node behind each join address, over and over as needed; see the module documentation. */
export class AddressJoin {
  readonly #o: AddressJoinOptions;
  readonly #timers = new Set<TimerId>();
  #closed = false;

  /** Starts asking every address. */
  constructor(o: AddressJoinOptions) {
    this.#o = o;
    for (const a of o.addresses) this.#ask(a, 1);
  }

  /** Stops asking. */
  close(): void {
    this.#closed = true;
    for (const t of this.#timers) this.#o.clock.clearTimer(t);
    this.#timers.clear();
  }

  #ask(address: string, backoff: number): void {
    if (this.#closed) return;
    this.#o.discover(address, (nodeId) => {
      if (this.#closed) return;
      if (nodeId !== undefined) {
        this.#o.found(nodeId);
        this.#recheck(address);
      } else this.#later(backoff, () => this.#ask(address, Math.min(16, backoff * 2)));
    });
  }

  /** While this node is in a group, look again later; once alone, ask the address again. */
  #recheck(address: string): void {
    this.#later(16, () => (this.#o.alone() ? this.#ask(address, 1) : this.#recheck(address)));
  }

  #later(periods: number, fn: () => void): void {
    if (this.#closed) return;
    const t = this.#o.clock.setTimer(periods * this.#o.retryMs, () => {
      this.#timers.delete(t);
      fn();
    });
    this.#timers.add(t);
  }
}
