/**
 * What a Group Communication Manager counts about its ring, for dashboards and alerts:
 * `gcm.metrics()` (and `node.metrics()`, which adds the Transport Manager's counters).
 * @module
 */

/** A snapshot of one manager's counters. */
export interface GcmMetrics {
  /** The current view: its identifier, its size, and how many views this node has installed. */
  view: { id: string; members: number; installed: number };
  /** The token at this node. */
  token: {
    /** Token visits (receipts) here. */
    received: number;
    /** Time between the last two visits, ms — one round of the ring (0 before two visits). */
    roundMs: number;
    /** Rounds per second, from `roundMs` (0 before two visits). */
    roundsPerSecond: number;
    /** Mean time this node held the token per visit, ms. */
    holdMsMean: number;
    /** Tokens this node regenerated after a 911 round (token loss). */
    regenerations: number;
    /** Duplicate tokens dropped (false suspicions). */
    duplicatesDropped: number;
    /** Tokens this node passed on, and their bytes. */
    sent: number;
    sentBytes: number;
    /** Wake-ups this node sent or carried on towards the token of an idle ring (at most one per visit). */
    wakesSent: number;
  };
  /** 911 messages this node sent (regeneration requests, hand-shakes, refusals), and their bytes. */
  messages911: { sent: number; sentBytes: number };
  /** Multicast at this node. */
  multicast: {
    /** Messages this node multicast. */
    sent: number;
    /** Messages delivered here (every stream). */
    delivered: number;
    /** Own messages waiting for the token, and their payload bytes. */
    pendingMessages: number;
    pendingBytes: number;
    /** Messages bound to a view that had ended before they could be ordered (dropped). */
    droppedBound: number;
  };
  /** Transitional configurations this node went through (membership changes). */
  transitions: number;
}

/** Token timing as the driver sees it (receipts and sends on its Clock). */
export class TokenTiming {
  received = 0;
  roundMs = 0;
  #lastReceipt = -1;
  #heldSince = -1;
  #held = 0;
  #holds = 0;

  /** The token arrived at `now`. */
  receipt(now: number): void {
    this.received++;
    if (this.#lastReceipt >= 0) this.roundMs = now - this.#lastReceipt;
    this.#lastReceipt = now;
    this.#heldSince = now;
  }

  /** The token left at `now`. */
  sent(now: number): void {
    if (this.#heldSince < 0) return;
    this.#held += now - this.#heldSince;
    this.#holds++;
    this.#heldSince = -1;
  }

  /** Mean hold time per visit, ms. */
  get holdMsMean(): number {
    return this.#holds === 0 ? 0 : this.#held / this.#holds;
  }
}
