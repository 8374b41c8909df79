/**
 * The VIP manager's decision, a pure function: given the assignment table and the live members,
 * which resources change owner. Owners that left lose their resources; unowned resources go to
 * their preferred member if it is live, else to the least loaded one; non-sticky resources go
 * back to a live preferred member; then non-sticky resources move from the most to the least
 * loaded member while that narrows the gap. Deterministic: every member would decide the same.
 * @module
 */

/** One row of the assignment table (the GDM item `vip/<name>`). */
export interface VipEntry {
  /** Member that owns the resource, or null while unowned. */
  owner: string | null;
  /** Member that should own it when live (a manual move sets it). */
  preferred?: string;
  /** A sticky resource stays with a live owner: no rebalancing, no return to `preferred`. */
  sticky?: boolean;
  /** Load the resource puts on its owner. @default {1} */
  weight?: number;
}

/** One change of owner decided by {@link planAssignments}. */
export interface Move {
  /** Resource name. */
  name: string;
  /** Owner before (null: unowned or a member that left). */
  from: string | null;
  /** New owner. */
  to: string;
}

const weightOf = (e: VipEntry) => e.weight ?? 1;

/** Load per live member under `owners`. */
export function loads(
  table: ReadonlyMap<string, VipEntry>,
  owners: ReadonlyMap<string, string | null>,
  members: readonly string[],
): Map<string, number> {
  const load = new Map(members.map((m) => [m, 0]));
  for (const [name, owner] of owners) {
    if (owner !== null && load.has(owner)) load.set(owner, load.get(owner)! + weightOf(table.get(name)!));
  }
  return load;
}

/** The moves that bring `table` to a valid, balanced assignment over `members` (sorted by name). */
export function planAssignments(table: ReadonlyMap<string, VipEntry>, members: readonly string[]): Move[] {
  if (members.length === 0) return [];
  const live = new Set(members);
  const names = [...table.keys()].sort();
  const owners = new Map<string, string | null>();
  for (const n of names) {
    const o = table.get(n)!.owner;
    owners.set(n, o !== null && live.has(o) ? o : null);
  }
  const load = loads(table, owners, members);
  const lightest = () => [...load].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))[0][0];
  const assign = (n: string, to: string) => {
    const from = owners.get(n) ?? null;
    if (from !== null) load.set(from, load.get(from)! - weightOf(table.get(n)!));
    load.set(to, load.get(to)! + weightOf(table.get(n)!));
    owners.set(n, to);
  };
  // 1. Unowned (or owned by a member that left): preferred if live, else the least loaded.
  for (const n of names) {
    if (owners.get(n) !== null) continue;
    const pref = table.get(n)!.preferred;
    assign(n, pref !== undefined && live.has(pref) ? pref : lightest());
  }
  // 2. Non-sticky resources return to a live preferred member.
  for (const n of names) {
    const e = table.get(n)!;
    if (!e.sticky && e.preferred !== undefined && live.has(e.preferred) && owners.get(n) !== e.preferred) {
      assign(n, e.preferred);
    }
  }
  // 3. Rebalance: move the movable resource that best narrows the gap between the extremes.
  for (let round = 0; round < names.length; round++) {
    const sorted = [...load].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    const [low, lowLoad] = sorted[0];
    const [high, highLoad] = sorted[sorted.length - 1];
    const gap = highLoad - lowLoad;
    const movable = names.filter((n) => {
      const e = table.get(n)!;
      return owners.get(n) === high && !e.sticky && e.preferred === undefined && weightOf(e) < gap;
    });
    if (movable.length === 0) break;
    movable.sort((a, b) =>
      Math.abs(gap - 2 * weightOf(table.get(a)!)) - Math.abs(gap - 2 * weightOf(table.get(b)!))
    );
    assign(movable[0], low);
  }
  const moves: Move[] = [];
  for (const n of names) {
    const before = table.get(n)!.owner;
    const after = owners.get(n)!;
    if (after !== before) {
      moves.push({ name: n, from: before !== null && live.has(before) ? before : null, to: after });
    }
  }
  return moves;
}
