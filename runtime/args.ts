/**
 * A small flag parser for programs on raincore (the `raincore` command line, the benchmarks, the
 * examples): `--name value`, `--name=value`, repeatable flags and booleans, numbers within ranges,
 * with errors that name the flag and say what was expected.
 * @module
 */

import { RaincoreError } from "../base/errors.ts";

/** A command-line mistake: printed as one line that names the flag, exit code 2. */
export class UsageError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "UsageError";
}

/** A command that cannot go on for a reason outside the flags' syntax (a port in use): one line, exit code 1. */
export class CommandFailedError extends RaincoreError {
  /** The error's `name`, stable across versions. */
  static override readonly errorName = "CommandFailedError";
}

/** What one flag accepts. */
export interface FlagSpec {
  /** Takes a value (`--id a`) rather than being a switch (`--help`). @default true */
  value?: boolean;
  /** May be given several times; the values are collected in order. @default false */
  repeat?: boolean;
}

/** Parsed flags: the last value (or every value for repeatable flags), `true` for switches. */
export type ParsedFlags = Map<string, string[]>;

/** Parses `argv` against `specs`; unknown flags and missing values are {@link UsageError}s. */
export function parseFlags(argv: readonly string[], specs: Record<string, FlagSpec>): ParsedFlags {
  const flags: ParsedFlags = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = specs[name];
    if (spec === undefined) throw new UsageError(`unknown flag --${name}`);
    let value = "true";
    if (spec.value !== false) {
      if (eq >= 0) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new UsageError(`--${name} needs a value`);
    }
    const previous = flags.get(name);
    if (previous !== undefined && !spec.repeat) throw new UsageError(`--${name} given twice`);
    flags.set(name, [...(previous ?? []), value]);
  }
  return flags;
}

/** The value of a flag, or `fallback`. */
export function stringFlag(flags: ParsedFlags, name: string, fallback?: string): string | undefined {
  return flags.get(name)?.at(-1) ?? fallback;
}

/** What a numeric flag accepts. */
export interface NumberRule {
  /** Smallest value allowed. */
  min: number;
  /** Largest value allowed. */
  max: number;
  /** Whole numbers only. @default {false} */
  integer?: boolean;
}

/**
 * A flag's value as a number within `rule` (absent: `undefined`). Anything else, `abc`, `1e999`,
 * `1.5` for an integer, is a {@link UsageError} that names the flag and the allowed range.
 */
export function numberFlag(flags: ParsedFlags, name: string, rule: NumberRule): number | undefined {
  const text = stringFlag(flags, name);
  if (text === undefined) return undefined;
  const value = text.trim() === "" ? NaN : Number(text);
  const ok = Number.isFinite(value) && value >= rule.min && value <= rule.max &&
    (!rule.integer || Number.isInteger(value));
  if (!ok) {
    const kind = rule.integer ? "an integer" : "a number";
    throw new UsageError(`--${name} must be ${kind} in ${rule.min}..${rule.max}, got "${text}"`);
  }
  return value;
}

/** A flag that must be present. */
export function requiredFlag(flags: ParsedFlags, name: string): string {
  const value = stringFlag(flags, name);
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}
