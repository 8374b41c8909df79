/**
 * Reads standard input line by line on Node and Deno alike (the command channel of the CLI's and
 * the benchmarks' member processes).
 * @module
 */

/** Calls `fn` for every line of stdin; resolves when stdin ends. */
export async function forEachStdinLine(fn: (line: string) => void | Promise<void>): Promise<void> {
  const deno = (globalThis as { Deno?: { stdin: { readable: ReadableStream<Uint8Array> } } }).Deno;
  const decoder = new TextDecoder();
  let buffered = "";
  const take = async (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
      const line = buffered.slice(0, nl).replace(/\r$/, "");
      buffered = buffered.slice(nl + 1);
      await fn(line);
    }
  };
  if (deno !== undefined) {
    const reader = deno.stdin.readable.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      await take(decoder.decode(r.value, { stream: true }));
    }
  } else {
    const { stdin } = await import("node:process");
    for await (const chunk of stdin) {
      await take(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
    }
  }
  if (buffered.length > 0) await fn(buffered);
}
