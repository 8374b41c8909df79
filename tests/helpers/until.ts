/**
 * Waiting, in tests, for state that announces no event of its own (a Chromium page's DOM, a
 * backend's flags): re-check it until it holds, with a deadline that only bounds how long a test
 * that is going to fail may hang; it is not a speed goal (those belong in bench/). State that does
 * announce itself, a child process's JSON lines, is waited for with `waitUntil` in
 * tools/json_child.ts instead.
 * @module
 */

/**
 * Calls `fn` every `everyMs` until it returns something other than `undefined` or `false`, and
 * resolves with that; rejects after `ms` with `what` in the message.
 */
export async function until<T>(
  what: string,
  ms: number,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
