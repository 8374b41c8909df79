/**
 * The test page of the Chromium ring tests: tests/browser/page.ts bundled for the browser and served
 * over HTTP on loopback with an HTML page that loads it.
 * @module
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { repoRoot } from "../../tools/json_child.ts";

/** Builds the page bundle and serves it; resolves with the server and its port. */
export async function serveTestPage(): Promise<{ http: Server; port: number }> {
  const bundle = join(repoRoot, "node_modules", ".cache", "raincore", "browser-test", "page.js");
  const built = spawnSync(process.execPath, [
    "scripts/build-browser.mjs",
    "--entry",
    "tests/browser/page.ts",
    "--outfile",
    bundle,
  ], { cwd: repoRoot, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`bundle failed: ${built.stderr}`);
  const script = readFileSync(bundle);
  const http = createServer((req, res) => {
    if (req.url === "/page.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    } else {
      res.writeHead(200, { "content-type": "text/html" })
        .end('<!doctype html><script type="module" src="/page.js"></script>');
    }
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  return { http, port: (http.address() as { port: number }).port };
}
