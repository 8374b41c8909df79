/**
 * Node credentials for the demo's browser tabs when the demo runs with a cluster key. A tab must not
 * hold the cluster key (whoever opens the page could then speak as any member), so the server hands
 * each tab a credential (`issueNodeCredential`) for one of a fixed set of tab IDs, with pair keys
 * for the server members, the hub and every other tab ID of the set. Its holder can attach to the
 * hub and join the ring under that ID only: it cannot take a server member's or another tab's.
 *
 * A tab ID is free when no connection holds it at the hub and it was not handed out in the last
 * {@link RESERVE_MS} (the page that asked is still starting). With every ID taken, no credential.
 * @module
 */
import { formatNodeCredential, issueNodeCredential } from "../../mod.ts";

/** How long a tab ID stays reserved for the page that asked for it, ms. */
export const RESERVE_MS = 30_000;

/** A credential for a browser tab: its node ID and the credential as key-file JSON text. */
export interface TabCredential {
  /** The tab's node ID (also its relay ID at the hub). */
  id: string;
  /** `formatNodeCredential()` text, read in the page with `parseKeyFile()`. */
  credential: string;
}

/** The tab IDs of one demo and the credentials for them. */
export class TabCredentials {
  /** The tab IDs, `tab-01` … */
  readonly ids: readonly string[];
  readonly #reserved = new Map<string, number>();
  readonly #key: Uint8Array;
  readonly #others: readonly string[];
  readonly #attached: (id: string) => boolean;

  /**
   * @param key the cluster key.
   * @param others the server members and the hub (every tab may talk to them).
   * @param count how many tabs can be open at once.
   * @param attached whether a tab ID is held at the hub now.
   */
  constructor(key: Uint8Array, others: readonly string[], count: number, attached: (id: string) => boolean) {
    if (!Number.isInteger(count) || count < 1 || count > 999) {
      throw new RangeError("'tabSlots' must be 1..999");
    }
    this.#key = key;
    this.#others = others;
    this.#attached = attached;
    this.ids = Array.from({ length: count }, (_, i) => `tab-${String(i + 1).padStart(2, "0")}`);
  }

  /** A credential for a free tab ID, or undefined when all are in use. */
  async issue(): Promise<TabCredential | undefined> {
    const now = Date.now();
    const id = this.ids.find((t) => !this.#attached(t) && (this.#reserved.get(t) ?? 0) <= now);
    if (id === undefined) return undefined;
    this.#reserved.set(id, now + RESERVE_MS);
    const credential = await issueNodeCredential(this.#key, id, [...this.#others, ...this.ids]);
    return { id, credential: formatNodeCredential(credential) };
  }
}
