/**
 * Logging: raincore says what it does through one optional function, so the application decides
 * where it goes. Without one, the `RAINCORE_DEBUG` environment variable (a comma-separated list of
 * namespaces — `gcm`, `tm`, `gdm`, or `*`) turns on printing to the console, like the `debug` package's
 * `DEBUG`.
 * @module
 */

/** Severity of a log entry. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** One log entry. */
export interface LogEntry {
  /** Severity. */
  level: LogLevel;
  /** The layer that speaks: `gcm`, `tm` or `gdm`. */
  namespace: string;
  /** What happened, in words. */
  message: string;
  /** Details (node IDs, view IDs, counts). */
  fields?: Record<string, unknown>;
}

/** Receives raincore's log entries. */
export type Logger = (entry: LogEntry) => void;

/** A logger that drops everything. */
export const silentLogger: Logger = () => {};

/** The namespaces `RAINCORE_DEBUG` names (read once; empty where the environment cannot be read). */
function debugNamespaces(): Set<string> {
  let value: string | undefined;
  try {
    const g = globalThis as {
      process?: { env?: Record<string, string | undefined> };
      Deno?: { env: { get(name: string): string | undefined } };
    };
    value = g.process?.env?.RAINCORE_DEBUG ?? g.Deno?.env.get("RAINCORE_DEBUG");
  } catch {
    value = undefined; // Deno without --allow-env: no debug output
  }
  return new Set((value ?? "").split(",").map((s) => s.trim()).filter((s) => s !== ""));
}

let enabled: Set<string> | undefined;

/**
 * The logger to use: `given` if there is one, else a console logger for the namespaces named in
 * `RAINCORE_DEBUG` (warnings and errors of any namespace are printed too), else nothing.
 */
export function resolveLogger(given: Logger | undefined): Logger {
  if (given !== undefined) return given;
  enabled ??= debugNamespaces();
  const all = enabled.has("*");
  return (e) => {
    if (e.level === "debug" || e.level === "info") {
      if (!all && !enabled!.has(e.namespace)) return;
    }
    const line = `raincore:${e.namespace} ${e.level} ${e.message}`;
    if (e.fields === undefined) console.error(line);
    else console.error(line, e.fields);
  };
}
