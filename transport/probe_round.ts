/**
 * Who is this peer? The Transport Manager's only way to learn a peer's incarnation and data session:
 * a round of PROBEs, each with its own random nonce, to the addresses where the peer is expected
 * (the ones it was given or learned, where its known incarnation answered before, and the source
 * of the packet that raised the question); each PROBE_REPLY that echoes a nonce says what runs at
 * that address. Packets that merely claim an incarnation (a DATA, ACK or HELLO of another
 * incarnation or session, from any address) only start a round. So a forger who cannot receive at
 * the peer's addresses cannot make a member believe in an incarnation, reset a session or fail
 * pending sends — it can at most make the member ask again.
 *
 * {@link judgeRound} turns the answers into a verdict, without side effects:
 * - the known incarnation answered: confirmed (and with it the data session it reports);
 * - one other incarnation answered, and it answered at an address where the known one used to
 *   answer — or nothing is known yet, or the round is over and the known one stayed silent: the
 *   peer restarted, adopt the new one;
 * - two incarnations answered: two live processes claim one ID (an operator's mistake, or an
 *   attacker answering probes at an address of its own). A conflict: keep the one answering at the
 *   peer's configured addresses (the earliest listed), else the one already known, else the older.
 * @module
 */

import type { TimerId } from "../base/clock.ts";

/** What one PROBE_REPLY said: the process answering at `address`. */
export interface ProbeAnswer {
  /** Where the PROBE went (the answer echoed its nonce). */
  readonly address: string;
  /** The answering process's incarnation. */
  readonly inc: number;
  /** Its data session towards us (0: none). */
  readonly epoch: number;
  /** Lowest unacknowledged sequence number of that session. */
  readonly baseSeq: number;
  /** Its window, in packets. */
  readonly window: number;
  /** Another live incarnation of *our* ID that it knows of, or 0. */
  readonly otherInc: number;
  /** With `otherInc`: whether it talks to that process rather than to us. */
  readonly refused: boolean;
}

/** One address probed in a round. */
export interface ProbeTarget {
  /** Random nonce the answer must echo. */
  readonly nonce: number;
  /** The answer, once it came. */
  answer: ProbeAnswer | undefined;
  /** When the probe was last sent. */
  sentAt: number;
}

/** An open round of probes to one peer. */
export class ProbeRound {
  /** Address → its probe. */
  readonly targets = new Map<string, ProbeTarget>();
  /** Resends so far. */
  attempts = 0;
  /** The resend timer. */
  timer: TimerId | undefined;
  /** Whether the conflict this round found was announced already. */
  conflictAnnounced = false;

  /** The answers so far. */
  answers(): ProbeAnswer[] {
    const out: ProbeAnswer[] = [];
    for (const t of this.targets.values()) if (t.answer !== undefined) out.push(t.answer);
    return out;
  }

  /** Whether every target answered. */
  get complete(): boolean {
    for (const t of this.targets.values()) if (t.answer === undefined) return false;
    return true;
  }

  /** The target whose probe carried `nonce`, if any. */
  byNonce(nonce: number): [string, ProbeTarget] | undefined {
    for (const entry of this.targets) if (entry[1].nonce === nonce) return entry;
    return undefined;
  }
}

/** What the manager knows of the peer when judging a round. */
export interface RoundContext {
  /** The confirmed incarnation (0: none yet). */
  readonly known: number;
  /** Addresses where the known incarnation answered. */
  readonly homes: ReadonlySet<string>;
  /** Addresses the application gave for the peer, in preference order. */
  readonly configured: readonly string[];
  /** Whether the round is over (every resend went out and the last wait ended). */
  readonly closed: boolean;
}

/** The meaning of a round's answers. */
export type RoundVerdict =
  /** Nothing to conclude yet. */
  | { readonly kind: "wait" }
  /** The round is over and nobody answered. */
  | { readonly kind: "silent" }
  /** The peer is `answer.inc` (the known incarnation confirmed, or a restart adopted). */
  | { readonly kind: "adopt"; readonly answer: ProbeAnswer }
  /** Several incarnations answered: keep `answer.inc`; `incarnations` lists them all, ascending. */
  | { readonly kind: "conflict"; readonly answer: ProbeAnswer; readonly incarnations: readonly number[] };

/** Judges the answers of a round; see the module documentation. */
export function judgeRound(answers: readonly ProbeAnswer[], ctx: RoundContext): RoundVerdict {
  if (answers.length === 0) return ctx.closed ? { kind: "silent" } : { kind: "wait" };
  const incs = [...new Set(answers.map((a) => a.inc))].sort((a, b) => a - b);
  if (incs.length > 1) return { kind: "conflict", answer: keep(answers, incs, ctx), incarnations: incs };
  const answer = answers[0];
  if (
    answer.inc === ctx.known || ctx.known === 0 || ctx.closed ||
    answers.some((a) => ctx.homes.has(a.address))
  ) {
    return { kind: "adopt", answer };
  }
  return { kind: "wait" };
}

function keep(answers: readonly ProbeAnswer[], incs: readonly number[], ctx: RoundContext): ProbeAnswer {
  for (const address of ctx.configured) {
    const a = answers.find((x) => x.address === address);
    if (a !== undefined) return a;
  }
  const inc = incs.includes(ctx.known) ? ctx.known : incs[0];
  return answers.find((a) => a.inc === inc)!;
}
