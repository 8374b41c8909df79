// A read-only static file server on loopback, for proving that Deno imports the library by URL
// (scripts/deno-tests.mjs). Serves GET/HEAD of regular files under `root`; `.ts` as
// application/typescript so Deno compiles it. Refuses anything outside the root, dot-files and
// node_modules (a URL consumer gets its npm packages from its own node_modules, not from us).
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { extname, resolve, sep } from "node:path";

const TYPES = {
  ".ts": "application/typescript; charset=utf-8",
  ".mts": "application/typescript; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
};

/**
 * Starts the server on 127.0.0.1 and an ephemeral port.
 * @param {string} root directory to serve
 * @returns {Promise<{ url: string, requests: string[], close: () => Promise<void> }>}
 *   `url` ends with `/`; `requests` lists every path asked for, with its status.
 */
export async function startStaticServer(root) {
  const base = resolve(root);
  const requests = [];
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const status = await serve(base, path, req.method ?? "GET", res);
    requests.push(`${status} ${path}`);
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen({ host: "127.0.0.1", port: 0 }, ok);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}

async function serve(base, path, method, res) {
  const send = (status, body, type = "text/plain; charset=utf-8") => {
    res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
    res.end(method === "HEAD" ? undefined : body);
    return status;
  };
  if (method !== "GET" && method !== "HEAD") return send(405, "read-only\n");
  const file = resolve(base, "." + path);
  const parts = path.split("/");
  if (
    (file !== base && !file.startsWith(base + sep)) ||
    parts.some((p) => p.startsWith(".") || p === "node_modules")
  ) {
    return send(403, "forbidden\n");
  }
  try {
    if (!(await stat(file)).isFile()) return send(404, "not found\n");
    const body = await readFile(file);
    return send(200, body, TYPES[extname(file)] ?? "application/octet-stream");
  } catch {
    return send(404, "not found\n");
  }
}
