/**
 * The process around a program, on Node and Deno alike: ending it with an exit code, and waiting
 * for Ctrl-C or a termination request.
 * @module
 */

/** Ends the process now with `code` (stdout and stderr pipes are written synchronously first). */
export function exit(code: number): never {
  const deno = (globalThis as { Deno?: { exit(code: number): never } }).Deno;
  if (deno !== undefined) deno.exit(code);
  return (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(code);
}

type Signals = { on(s: string, f: () => void): void; off(s: string, f: () => void): void };

/** Resolves with the name of the first SIGINT or SIGTERM; the handlers are removed then. */
export function interrupted(): Promise<string> {
  const proc = (globalThis as { process?: Signals }).process;
  return new Promise((resolve) => {
    const handlers: Array<[string, () => void]> = ["SIGINT", "SIGTERM"].map((s) => [s, () => done(s)]);
    const done = (s: string) => {
      for (const [name, f] of handlers) proc?.off(name, f);
      resolve(s);
    };
    for (const [name, f] of handlers) proc?.on(name, f);
  });
}
