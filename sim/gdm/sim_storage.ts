/**
 * A simulated disk for GDM runs: a storage adapter whose writes take virtual time (a group commit
 * lands whole after a drawn delay, as one append does), whose content — a {@link MemoryStorage}, the
 * "disk" — outlives the process, and whose writes in progress are lost when the process crashes. So a
 * simulated run can crash a member between "applied" and "on disk" and check that nothing that was
 * acknowledged as durable is lost.
 * @module
 */
import type { VirtualClock } from "../../base/clock.ts";
import type { Random } from "../../base/random.ts";
import {
  MemoryStorage,
  type StorageAdapter,
  type StorageBatch,
  type StoredState,
} from "../../gdm/storage.ts";

/** The adapter of one process on a disk that outlives it. */
export class SimStorage implements StorageAdapter {
  readonly #disk: MemoryStorage;
  readonly #clock: VirtualClock;
  readonly #random: Random;
  /** The process crashed: writes under way never land, later ones never start. */
  #dead = false;

  /** An adapter on `disk`; each write takes 0.2–3 virtual ms. */
  constructor(disk: MemoryStorage, clock: VirtualClock, random: Random) {
    this.#disk = disk;
    this.#clock = clock;
    this.#random = random;
  }

  /** The process is gone: what it was writing is lost. */
  crash(): void {
    this.#dead = true;
  }

  load(): Promise<StoredState> {
    return this.#disk.load();
  }

  write(batch: StorageBatch): Promise<void> {
    const delay = 0.2 + this.#random.int(28) / 10;
    // A write that never lands never settles either: the process is gone.
    return new Promise((resolve) =>
      this.#clock.setTimer(delay, () => void (this.#dead || this.#disk.write(batch).then(resolve)))
    );
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
