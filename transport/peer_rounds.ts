/**
 * The probe rounds of a Transport Manager: when to ask a peer who it is, whom to ask, what the
 * answers mean ({@link judgeRound}), and what two live processes with one node ID lead to.
 *
 * - A round probes the peer's configured and learned addresses, the addresses where its known
 *   incarnation answered, and up to {@link MAX_HINT_TARGETS} packet sources that raised the
 *   question; unanswered probes are resent with the retransmission back-off, `retries` times.
 * - One round per peer at a time, and a new one no sooner than `rtoMinMs` after the last started.
 *   A round for a node the application never configured costs the manager's stranger budget.
 * - Answers from the kept incarnation teach their addresses (up to 8) — this is how a joiner's
 *   address is learned, by round trip rather than from a packet's claim.
 * - A conflict (two incarnations answered) is remembered for a minute, told to both processes
 *   with a CONFLICT packet, and reported; each process then probes the reporter, whose answer says
 *   that another process has its ID and which of the two the reporter talks to
 *   ({@link IncarnationConflict}).
 * @module
 */

import type { Clock } from "../base/clock.ts";
import { encodeConflict, encodeProbe, type ProbeReplyPacket, REPLY_FLAG_REFUSED } from "./codec.ts";
import type { Peer } from "./peer_table.ts";
import { judgeRound, type ProbeAnswer, ProbeRound, type ProbeTarget } from "./probe_round.ts";

/**
 * Two live processes claim one node ID: each answered a probe, with a different incarnation.
 *
 * - `self: false` — seen by a peer of that ID. The manager keeps talking to the process of
 *   incarnation `kept` — the one answering at the ID's configured address, else the one it talked
 *   to before, else the older — and ignores the other. It tells both.
 * - `self: true` — `nodeId` is this manager's own ID: a peer (`reportedBy`) answered this manager's
 *   probe saying another process with this ID is alive, and whether it talks to that one instead
 *   (`refused`). The refused process should stop (the command line exits); in practice it is the
 *   one started later, elsewhere. The group layer should treat `self && refused` as fatal.
 *
 * Without a cluster key, a host that answers probes at an address of its own can claim any ID and
 * so cause conflicts (but not be kept over a process answering at the configured address); with a
 * key it cannot (docs/security.md).
 */
export interface IncarnationConflict {
  /** The node ID claimed twice. */
  readonly nodeId: string;
  /** The incarnations seen alive, ascending. */
  readonly incarnations: readonly number[];
  /** Whether `nodeId` is this manager's own ID. */
  readonly self: boolean;
  /** The incarnation kept: by this manager (`self: false`), or by the reporter (`self: true`). */
  readonly kept: number;
  /** `self`: whether the reporter talks to the other process instead of this one. Else false. */
  readonly refused: boolean;
  /** `self`: the peer whose answer told; else this manager's own ID. */
  readonly reportedBy: string;
}

/** What the rounds need from their manager. */
export interface RoundsHost {
  /** The manager's clock. */
  readonly clock: Clock;
  /** Local node ID. */
  readonly nodeId: string;
  /** Local node ID, UTF-8. */
  readonly localId: Uint8Array;
  /** Local incarnation. */
  readonly incarnation: number;
  /** Least time between the starts of two rounds to one peer, ms (`rtoMinMs`). */
  readonly minIntervalMs: number;
  /** Longest wait for answers before a resend, ms (`rtoMaxMs`). */
  readonly maxWaitMs: number;
  /** Resends of unanswered probes before a round ends. */
  readonly retries: number;
  /** Sends one packet; false when the address is unusable right now. */
  transmit(address: string, packet: Uint8Array): boolean;
  /** Spends one unit of the stranger budget; false when it is used up. */
  stranger(): boolean;
  /** The peer is `answer.inc`, with the data session `answer` reports: apply it. */
  confirmed(peer: Peer, answer: ProbeAnswer): void;
  /** A round ended: drop what was held for it. */
  ended(peer: Peer): void;
  /** Reports a conflict. */
  conflict(conflict: IncarnationConflict): void;
  /** Counts a probe sent. */
  countProbe(): void;
}

/** Most addresses of a node that answer a probe and are added to its list. */
const MAX_LEARNED_ADDRESSES = 8;
/** Most packet sources a round probes beyond the addresses known for the node. */
export const MAX_HINT_TARGETS = 4;
/** Most addresses remembered where a peer's incarnation answered. */
const MAX_HOMES = 16;
/** Why a round failed when its probes could not even be sent. */
const UNREACHABLE = "every address unreachable";
/** Most node IDs whose conflicts are remembered (to tell their processes when they probe). */
const MAX_CONFLICT_RECORDS = 64;
/** Conflict records and reports of our own ID's conflicts are kept this long, ms. */
const CONFLICT_MEMORY_MS = 60_000;

interface ConflictRecord {
  readonly incs: readonly number[];
  readonly kept: number;
  readonly until: number;
}

/** The probe rounds of one manager; see the module documentation. */
export class PeerRounds {
  readonly #host: RoundsHost;
  /** Node ID → incarnations seen alive at once. */
  readonly #conflicts = new Map<string, ConflictRecord>();
  /** Other incarnations of our own ID already reported, and until when. */
  readonly #selfConflicts = new Map<number, number>();
  #closed = false;

  /** @param host what the rounds need from the manager. */
  constructor(host: RoundsHost) {
    this.#host = host;
  }

  /**
   * Something about `peer` may have changed (a packet claimed another incarnation or session, or
   * came from an address not known for it): probe it, now or once the rate limit allows.
   */
  hint(peer: Peer, from: string): void {
    const round = peer.round;
    if (round === undefined) {
      this.want(peer, from);
      return;
    }
    const target = round.targets.get(from);
    if (target === undefined) {
      // Join the open round, up to a few packet sources.
      if (round.targets.size < knownTargets(peer).length + MAX_HINT_TARGETS) {
        this.#addTarget(peer, round, from);
      }
    } else if (
      target.answer === undefined && this.#host.clock.now() - target.sentAt >= this.#host.minIntervalMs
    ) {
      // The peer keeps talking from there while our probe is unanswered: the probe or its answer
      // was probably lost, so ask again now rather than after a whole retransmission timeout.
      this.#probe(peer, from, target);
    }
  }

  /** Starts a round to `peer` (including `extra`) as soon as its rate limit allows. */
  want(peer: Peer, extra: string | undefined): void {
    if (extra !== undefined && peer.wanted.size < MAX_HINT_TARGETS) peer.wanted.add(extra);
    if (peer.round !== undefined || peer.roundTimer !== undefined || this.#closed) return;
    const wait = peer.nextRoundAt - this.#host.clock.now();
    if (wait > 0) {
      peer.roundTimer = this.#host.clock.setTimer(wait, () => {
        peer.roundTimer = undefined;
        this.#start(peer);
      });
      return;
    }
    this.#start(peer);
  }

  /** Takes a PROBE_REPLY from `peer`; false when it answers no open probe. */
  answered(peer: Peer, packet: ProbeReplyPacket): boolean {
    const hit = peer.round?.byNonce(packet.nonce);
    if (hit === undefined || hit[1].answer !== undefined) return false;
    const answer: ProbeAnswer = {
      address: hit[0],
      inc: packet.srcInc,
      epoch: packet.epoch,
      baseSeq: packet.baseSeq,
      window: packet.window,
      otherInc: packet.otherInc,
      refused: (packet.flags & REPLY_FLAG_REFUSED) !== 0,
    };
    hit[1].answer = answer;
    if (answer.otherInc !== 0) this.#selfConflict(peer.id, answer);
    this.#judge(peer, answer, undefined);
    return true;
  }

  /**
   * What to tell a process of node `nodeId` with incarnation `inc` that probes us: another live
   * incarnation of its ID (0: none known) and whether we talk to that one instead.
   */
  conflictNews(nodeId: string, inc: number): { otherInc: number; refused: boolean } {
    const record = this.#conflicts.get(nodeId);
    if (record === undefined || record.until <= this.#host.clock.now() || !record.incs.includes(inc)) {
      return { otherInc: 0, refused: false };
    }
    return { otherInc: record.incs.find((i) => i !== inc) ?? 0, refused: record.kept !== inc };
  }

  /** Stops a peer's round and timers (the peer is forgotten). */
  cancel(peer: Peer): void {
    const clock = this.#host.clock;
    if (peer.roundTimer !== undefined) clock.clearTimer(peer.roundTimer);
    if (peer.round?.timer !== undefined) clock.clearTimer(peer.round.timer);
    peer.roundTimer = peer.round = undefined;
  }

  /** No round starts any more (the manager is closing; it cancels each peer). */
  close(): void {
    this.#closed = true;
  }

  #start(peer: Peer): void {
    if (this.#closed || peer.round !== undefined) return;
    // A round to a node the application never named costs the stranger budget.
    if (peer.configured.length === 0 && peer.sender.knownInc === 0 && !this.#host.stranger()) {
      peer.wanted.clear();
      this.#host.ended(peer);
      return;
    }
    const round = new ProbeRound();
    peer.round = round;
    peer.nextRoundAt = this.#host.clock.now() + this.#host.minIntervalMs;
    const wanted = [...peer.wanted];
    peer.wanted.clear();
    let sent = false;
    for (const address of [...knownTargets(peer), ...wanted]) {
      if (!round.targets.has(address) && this.#addTarget(peer, round, address)) sent = true;
    }
    if (sent) this.#arm(peer, round);
    else this.#close(peer, knownTargets(peer).length === 0 ? "no address" : UNREACHABLE);
  }

  /** Adds an address to a round and probes it; false if the probe could not be sent. */
  #addTarget(peer: Peer, round: ProbeRound, address: string): boolean {
    const target: ProbeTarget = { nonce: randomNonce(), answer: undefined, sentAt: 0 };
    round.targets.set(address, target);
    return this.#probe(peer, address, target);
  }

  #probe(peer: Peer, address: string, target: ProbeTarget): boolean {
    const host = this.#host;
    target.sentAt = host.clock.now();
    const probe = encodeProbe(
      host.localId,
      peer.idBytes,
      host.incarnation,
      peer.sender.knownInc,
      target.nonce,
    );
    const ok = host.transmit(address, probe);
    if (ok) host.countProbe();
    return ok;
  }

  #arm(peer: Peer, round: ProbeRound): void {
    const host = this.#host;
    const wait = Math.min(peer.sender.rtoMs * 2 ** round.attempts, host.maxWaitMs);
    round.timer = host.clock.setTimer(wait, () => {
      round.timer = undefined;
      if (round.attempts >= host.retries) {
        this.#close(peer, "no answer to probes on any address");
        return;
      }
      round.attempts++;
      let sent = false;
      for (const [address, t] of round.targets) {
        if (t.answer === undefined && this.#probe(peer, address, t)) sent = true;
      }
      // Every address still silent is known to be unreachable now: nothing can answer.
      if (!sent && round.answers().length === 0) this.#close(peer, UNREACHABLE);
      else this.#arm(peer, round);
    });
  }

  /**
   * Acts on what the open round's answers say so far; `closed`: the round is over, and why (the
   * reason of the failure should nobody have answered).
   */
  #judge(peer: Peer, latest: ProbeAnswer | undefined, closed: string | undefined): void {
    const round = peer.round!;
    const answers = round.answers();
    const verdict = judgeRound(answers, {
      known: peer.sender.knownInc,
      homes: peer.homes,
      configured: peer.configured,
      closed: closed !== undefined,
    });
    if (verdict.kind === "silent") {
      peer.sender.failUnknown(closed!);
    } else if (verdict.kind !== "wait") {
      // The freshest word of the kept process on its data session.
      const kept = latest !== undefined && latest.inc === verdict.answer.inc ? latest : verdict.answer;
      if (verdict.kind === "conflict") this.#peerConflict(peer, round, verdict.incarnations, kept.inc);
      this.#adopt(peer, kept, answers);
    }
    if (closed === undefined && round.complete) this.#close(peer, undefined);
  }

  /**
   * Ends the open round — judged once more first when it `timedOut` (the reason, should nobody have
   * answered) — and starts the next one if hints came meanwhile.
   */
  #close(peer: Peer, timedOut: string | undefined): void {
    const round = peer.round;
    if (round === undefined) return;
    if (timedOut !== undefined) this.#judge(peer, undefined, timedOut);
    if (round.timer !== undefined) this.#host.clock.clearTimer(round.timer);
    peer.round = undefined;
    if (round.complete && new Set(round.answers().map((a) => a.inc)).size === 1) {
      this.#conflicts.delete(peer.id); // only one process answers for the ID now
    }
    this.#host.ended(peer);
    if (peer.wanted.size > 0) this.want(peer, undefined);
  }

  /** Learns the kept incarnation's answering addresses and hands the answer to the manager. */
  #adopt(peer: Peer, answer: ProbeAnswer, answers: readonly ProbeAnswer[]): void {
    const sender = peer.sender;
    if (answer.inc !== sender.knownInc) peer.homes = new Set();
    for (const a of answers) {
      if (a.inc !== answer.inc) continue;
      if (peer.homes.size < MAX_HOMES) peer.homes.add(a.address);
      if (!sender.addresses.includes(a.address) && sender.addresses.length < MAX_LEARNED_ADDRESSES) {
        if (sender.addresses.length === 0) sender.setAddresses([a.address]);
        else sender.addresses.push(a.address);
      }
    }
    this.#host.confirmed(peer, answer);
  }

  /** Two incarnations of a peer's ID answered one round: record it, tell both, report it. */
  #peerConflict(peer: Peer, round: ProbeRound, incs: readonly number[], kept: number): void {
    const host = this.#host;
    const before = this.#conflicts.get(peer.id);
    const news = before === undefined || before.incs.join() !== incs.join() || before.kept !== kept;
    this.#conflicts.delete(peer.id);
    if (this.#conflicts.size >= MAX_CONFLICT_RECORDS) {
      this.#conflicts.delete(this.#conflicts.keys().next().value!);
    }
    this.#conflicts.set(peer.id, { incs, kept, until: host.clock.now() + CONFLICT_MEMORY_MS });
    // The other process's addresses are not the peer's: stop sending there (configured ones stay).
    const answers = round.answers();
    const addresses = peer.sender.addresses;
    for (const a of answers) {
      if (a.inc === kept) continue;
      peer.homes.delete(a.address);
      const i = addresses.indexOf(a.address);
      if (i >= 0 && !peer.configured.includes(a.address)) addresses.splice(i, 1);
    }
    if (!round.conflictAnnounced) {
      round.conflictAnnounced = true;
      for (const a of answers) {
        host.transmit(a.address, encodeConflict(host.localId, peer.idBytes, host.incarnation, a.inc));
      }
    }
    if (news) {
      host.conflict({
        nodeId: peer.id,
        incarnations: incs,
        self: false,
        kept,
        refused: false,
        reportedBy: host.nodeId,
      });
    }
  }

  /** A peer's answer says another live process uses our ID. */
  #selfConflict(reporter: string, answer: ProbeAnswer): void {
    const host = this.#host;
    const other = answer.otherInc;
    if (other === host.incarnation) return;
    const now = host.clock.now();
    const until = this.#selfConflicts.get(other);
    if (until !== undefined && until > now) return;
    if (this.#selfConflicts.size >= MAX_CONFLICT_RECORDS) this.#selfConflicts.clear();
    this.#selfConflicts.set(other, now + CONFLICT_MEMORY_MS);
    host.conflict({
      nodeId: host.nodeId,
      incarnations: [host.incarnation, other].sort((a, b) => a - b),
      self: true,
      kept: answer.refused ? other : host.incarnation,
      refused: answer.refused,
      reportedBy: reporter,
    });
  }
}

/** The addresses a round always probes: configured, learned, and where the known incarnation answered. */
function knownTargets(peer: Peer): string[] {
  return [...new Set([...peer.configured, ...peer.sender.addresses, ...peer.homes])];
}

/** A random integer in [0, 2^53): a probe's nonce, which only the receiver of the probe learns. */
function randomNonce(): number {
  const words = new Uint32Array(2);
  globalThis.crypto.getRandomValues(words);
  return (words[0] & 0x1fffff) * 4294967296 + words[1];
}
