/**
 * The two ends of a state transfer within one view. A *pull* is a member that a round told to fetch
 * the kept replica: it collects the snapshot's chunks and keeps every operation delivered after the
 * round's completion point, to replay them on the snapshot; it asks the next member of the kept class
 * when its source goes quiet. A *serving* member of the kept class took the snapshot at that point and
 * sends it to the pullers assigned to it (and to any puller that asks to resume). Both end with the
 * view: a transfer never spans a membership change (the next round decides again).
 * @module
 */
import type { Chunk } from "./codec.ts";
import type { FollowerView } from "./follower.ts";
import type { Operation, StateOp } from "./operations.ts";
import type { RoundDecision } from "./round.ts";
import type { Snapshot } from "./transfer.ts";
import { SnapshotReceiver } from "./transfer.ts";

/** A member fetching the kept replica. */
export class Pull {
  /** The view of the round. */
  readonly view: FollowerView;
  /** The round's decision (the replay starts from it). */
  readonly decision: RoundDecision;
  /** The chunks so far. */
  readonly receiver: SnapshotReceiver;
  /** Operations delivered in the view after the round completed, in order. */
  readonly buffer: Operation[] = [];
  /** Quorum policy: operations that waited for a majority where the snapshot was taken. */
  readonly held: readonly StateOp[];
  readonly #sources: readonly string[];
  #at = 0;

  /** A pull of `me` after `decision` in `view`, with the chunks that came early (and `held`). */
  constructor(
    me: string,
    view: FollowerView,
    decision: RoundDecision,
    early: readonly Chunk[],
    held: readonly StateOp[],
  ) {
    this.view = view;
    this.decision = decision;
    this.held = held;
    this.receiver = new SnapshotReceiver(view.id);
    const kept = decision.kept;
    const first = Math.max(0, kept.indexOf(decision.sourceOf.get(me) ?? kept[0]));
    this.#sources = [...kept.slice(first), ...kept.slice(0, first)];
    for (const c of early) this.receiver.add(c);
  }

  /** The member asked last. */
  get source(): string {
    return this.#sources[this.#at % this.#sources.length];
  }

  /** Moves on to the next member of the kept class; returns it. */
  nextSource(): string {
    this.#at++;
    return this.source;
  }
}

/** A transfer a serving member has under way to one puller. */
interface Outgoing {
  /** The puller's node ID. */
  readonly node: string;
  /** Next chunk to send. */
  next: number;
  /** A chunk is with the Transport Manager. */
  inFlight: boolean;
}

/** A member of the kept class serving the snapshot of its view's round. */
export class Serving {
  /** The snapshot, taken where the round completed. */
  readonly snapshot: Snapshot;
  /** Transfers by puller (`nodeId#incarnation`). */
  readonly transfers: Map<string, Outgoing> = new Map<string, Outgoing>();

  /** Serving `snapshot`. */
  constructor(snapshot: Snapshot) {
    this.snapshot = snapshot;
  }

  /** Starts (or restarts, from chunk `from`) the transfer to `puller` on node `node`. */
  start(puller: string, node: string, from: number): Outgoing {
    const t = this.transfers.get(puller);
    if (t !== undefined) {
      t.next = Math.min(t.next, from);
      return t;
    }
    const fresh: Outgoing = { node, next: from, inFlight: false };
    this.transfers.set(puller, fresh);
    return fresh;
  }
}
