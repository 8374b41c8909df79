/**
 * Versions of registers in a history: the Lamport stamps writes were applied with. They order the
 * writes of one key (the order every replica's last-writer-wins follows), so a checker knows the
 * version order instead of searching for one — the way Elle uses version orders it can infer.
 * @module
 */
import type { HistoryOp, Version } from "../gdm/op_history.ts";

/** Orders versions; null (never written) first. */
export function compareVersions(a: Version, b: Version): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  if (a[0] !== b[0]) return a[0] - b[0];
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

/** A version as text. */
export function showVersion(v: Version | undefined): string {
  return v === undefined ? "?" : v === null ? "∅" : `${v[0]}.${v[1]}`;
}

/** A key for maps of versions. */
export function versionKey(v: Version): string {
  return v === null ? "" : `${v[0]}|${v[1]}`;
}

/** An operation as text, for reports. */
export function showOp(op: HistoryOp): string {
  const at = `@${op.invoke.toFixed(1)}${op.complete === undefined ? "" : `–${op.complete.toFixed(1)}`}`;
  switch (op.f) {
    case "write":
      return `${op.process} write ${op.key}=${op.value ?? "∅"} v${
        showVersion(op.version)
      } ${op.outcome} ${at}`;
    case "read":
      return `${op.process} read ${op.key}=${op.value ?? "∅"} v${showVersion(op.version)} ${at}`;
    case "cas":
      return `${op.process} cas ${op.key} from v${showVersion(op.expected)} to ${op.value} v${
        showVersion(op.version)
      } ${op.outcome} ${at}`;
    case "add":
      return `${op.process} add ${op.set}+${op.element} ${op.outcome} ${at}`;
    case "read-set":
      return `${op.process} read ${op.set} (${op.elements?.length ?? 0} elements) ${at}`;
    case "acquire":
      return `${op.process} acquire ${op.lock} token ${op.token ?? "?"} ${op.outcome} ${at}`;
    case "release":
      return `${op.process} release ${op.lock} token ${op.token} ${op.outcome} ${at}`;
  }
}

/** Whether `a` finished before `b` began (real-time order). */
export function precedes(a: HistoryOp, b: HistoryOp): boolean {
  return a.complete !== undefined && a.complete < b.invoke;
}
