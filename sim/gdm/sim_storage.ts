/**
 * A simulated disk for GDM runs: a storage adapter whose writes take virtual time (a group commit
 * lands whole after a drawn delay, as one append does), whose content outlives the process, and
 * whose writes in progress are lost when the process crashes. So a simulated run can crash a member
 * between "applied" and "on disk" and check that nothing that was acknowledged as durable is lost.
 * @module
 */
import type { VirtualClock } from "../../base/clock.ts";
import type { Random } from "../../base/random.ts";
import type { Item, LockState } from "../../gdm/model.ts";
import type { StorageAdapter, StorageBatch, StoredState } from "../../gdm/storage.ts";

/** What survives a crash: the content of one member's disk. */
export class SimDisk {
  readonly items = new Map<string, Item>();
  readonly locks = new Map<string, LockState>();
  clock = 0;
  applied = 0;
  /** Group commits that landed. */
  commits = 0;
}

/** The adapter of one process on a {@link SimDisk}. */
export class SimStorage implements StorageAdapter {
  readonly #disk: SimDisk;
  readonly #clock: VirtualClock;
  readonly #random: Random;
  /** The process crashed: writes under way never land, later ones never start. */
  #dead = false;

  /** An adapter on `disk`; each write takes 0.2–3 virtual ms. */
  constructor(disk: SimDisk, clock: VirtualClock, random: Random) {
    this.#disk = disk;
    this.#clock = clock;
    this.#random = random;
  }

  /** The process is gone: what it was writing is lost. */
  crash(): void {
    this.#dead = true;
  }

  load(): Promise<StoredState> {
    const d = this.#disk;
    return Promise.resolve({
      items: [...d.items],
      locks: [...d.locks],
      clock: d.clock,
      applied: d.applied,
      problems: [],
    });
  }

  write(batch: StorageBatch): Promise<void> {
    const delay = 0.2 + this.#random.int(28) / 10;
    return new Promise((resolve) => {
      this.#clock.setTimer(delay, () => {
        if (this.#dead) return; // never lands, never settles: the process is gone
        const d = this.#disk;
        if (batch.replace) {
          d.items.clear();
          d.locks.clear();
        }
        for (const [k, it] of batch.items) d.items.set(k, it);
        for (const [n, l] of batch.locks) d.locks.set(n, l);
        d.clock = Math.max(d.clock, batch.clock);
        d.applied = batch.applied;
        d.commits++;
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
