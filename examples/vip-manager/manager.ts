/**
 * CLOUD (thesis 4.2): a pool of virtual resources — named virtual IPs — each owned by exactly one
 * member of the group. The assignment table lives in the GDM (one item `vip/<name>` per resource)
 * and changes only under the GDM lock `vip/table`. The lowest member ID of the view decides
 * ({@link planAssignments}) after every view change and every `checkMs`; a resource taken from a
 * live owner is first released (owner null, safe delivery) and only then given to the new one, and
 * a member serves its resources only while its replica is settled for the current view (see
 * {@link VipManager.owned}), so no two members of one group own it at once. Assignment only: no
 * address is configured.
 * @module
 */
import type { Clock, GroupCommunicationManager, GroupDataManager, TimerId } from "../../mod.ts";
import { type Move, planAssignments, type VipEntry } from "./plan.ts";

/** The lock that guards the table. */
export const TABLE_LOCK = "vip/table";
const PREFIX = "vip/";

/** One resource of the pool. */
export interface VipResource {
  /** Name, e.g. `10.0.0.1`. */
  name: string;
  /** Member that should own it when live. */
  preferred?: string;
  /** Stays with a live owner (no rebalancing, no return to `preferred`). @default {false} */
  sticky?: boolean;
  /** Load on its owner. @default {1} */
  weight?: number;
}

/** Options of {@link VipManager}. */
export interface VipManagerOptions {
  /** This member's GCM. */
  gcm: GroupCommunicationManager;
  /** Its GDM (created on the same GCM). */
  gdm: GroupDataManager;
  /** The pool; every member should be given the same one (the first leader writes it). */
  resources: readonly VipResource[];
  /** Timer source. */
  clock: Clock;
  /** Periodic re-check (rebalance, repair), ms. @default {1000} */
  checkMs?: number;
  /** Lock wait, ms. @default {3000} */
  lockTimeoutMs?: number;
  /**
   * A member alone in its view decides only after this long, so that a restarting member joins the
   * group (and receives the table) before it would take every resource for itself. @default {5000}
   */
  loneGraceMs?: number;
}

/** A resource changed owner here: `owner` is this member (acquired) or not (released). */
export interface OwnershipEvent {
  /** Resource name. */
  name: string;
  /** New owner, or null. */
  owner: string | null;
}

/** The VIP manager of one member. */
export class VipManager {
  readonly #o: VipManagerOptions;
  #timer: TimerId | undefined;
  #running = false;
  #again = false;
  #closed = false;
  #listeners: Array<(e: OwnershipEvent) => void> = [];
  readonly #startedAt: number;

  constructor(options: VipManagerOptions) {
    this.#o = options;
    this.#startedAt = options.clock.now();
    options.gcm.on("view", () => this.#kick());
    options.gdm.on("change", (e) => {
      if (e.key.startsWith(PREFIX) && e.key !== TABLE_LOCK) {
        const owner = (e.new as VipEntry | undefined)?.owner ?? null;
        const was = (e.old as VipEntry | undefined)?.owner ?? null;
        if (owner !== was) {
          for (const f of this.#listeners) f({ name: e.key.slice(PREFIX.length), owner });
        }
      }
    });
    const tick = () => {
      if (this.#closed) return;
      this.#kick();
      this.#timer = options.clock.setTimer(options.checkMs ?? 1000, tick);
    };
    this.#timer = options.clock.setTimer(options.checkMs ?? 1000, tick);
  }

  /** Calls `fn` whenever a resource changes owner on this replica. */
  onOwnership(fn: (e: OwnershipEvent) => void): void {
    this.#listeners.push(fn);
  }

  /** The table as this replica holds it. */
  table(): Map<string, VipEntry> {
    return new Map(this.#o.gdm.list(PREFIX).map(([k, v]) => [k.slice(PREFIX.length), v as VipEntry]));
  }

  /**
   * Resources this member owns: its replica names it as owner *and* the replica is settled for the
   * current view (merge round done, no transfer pending). A member that was excluded and comes back
   * may still hold a stale table; it serves nothing until the group's data reached it.
   */
  owned(): string[] {
    if (!this.#o.gdm.settled) return [];
    const me = this.#o.gcm.id;
    return [...this.table()].filter(([, e]) => e.owner === me).map(([n]) => n);
  }

  /** Moves `name` to member `to` (released first) and makes `to` its preferred owner. */
  async move(name: string, to: string): Promise<void> {
    await this.#locked(async () => {
      const e = this.table().get(name);
      if (e === undefined) throw new RangeError(`no resource "${name}"`);
      if (e.owner !== null && e.owner !== to) {
        await this.#o.gdm.set(PREFIX + name, { ...e, owner: null }, { level: "safe" });
      }
      await this.#o.gdm.set(PREFIX + name, { ...e, owner: to, preferred: to }, { level: "safe" });
    });
  }

  /** Stops the periodic check. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimer(this.#timer);
  }

  #leader(): boolean {
    const members = this.#o.gcm.view.members;
    if (members.length === 1 && this.#o.clock.now() - this.#startedAt < (this.#o.loneGraceMs ?? 5000)) {
      return false;
    }
    return members.length > 0 && [...members].sort()[0] === this.#o.gcm.id;
  }

  #kick(): void {
    if (this.#closed || !this.#leader()) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    void this.#reconcile().catch(() => {/* lost the view or the lock: the next kick retries */}).finally(
      () => {
        this.#running = false;
        if (this.#again) {
          this.#again = false;
          this.#kick();
        }
      },
    );
  }

  async #locked(fn: () => Promise<void>): Promise<void> {
    const gdm = this.#o.gdm;
    await gdm.lock(TABLE_LOCK, { timeoutMs: this.#o.lockTimeoutMs ?? 3000 });
    try {
      await fn();
    } finally {
      if (gdm.holds(TABLE_LOCK)) await gdm.unlock(TABLE_LOCK);
    }
  }

  async #reconcile(): Promise<void> {
    const gdm = this.#o.gdm;
    if (!gdm.settled) return;
    await this.#locked(async () => {
      // Seed missing rows (the first leader writes the pool).
      const table = this.table();
      const missing = this.#o.resources.filter((r) => !table.has(r.name));
      if (missing.length > 0) {
        await gdm.transaction((tx) => {
          for (const r of missing) {
            const row: VipEntry = { owner: null, sticky: r.sticky ?? false, weight: r.weight ?? 1 };
            if (r.preferred !== undefined) row.preferred = r.preferred;
            tx.set(PREFIX + r.name, row);
          }
        }, { level: "safe" });
      }
      const current = this.table();
      const moves = planAssignments(current, this.#o.gcm.view.members);
      if (moves.length === 0) return;
      const handoffs = moves.filter((m) => m.from !== null && current.get(m.name)!.owner === m.from);
      if (handoffs.length > 0) await this.#write(current, handoffs, () => null);
      await this.#write(this.table(), moves, (m) => m.to);
    });
  }

  /** Writes the owners of `moves` in one transaction (safe: applied once every member holds it). */
  async #write(
    table: Map<string, VipEntry>,
    moves: Move[],
    owner: (m: Move) => string | null,
  ): Promise<void> {
    await this.#o.gdm.transaction((tx) => {
      for (const m of moves) tx.set(PREFIX + m.name, { ...table.get(m.name)!, owner: owner(m) });
    }, { level: "safe" });
  }
}
