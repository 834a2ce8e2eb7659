// A tiny static file server for dist/ (no dependencies): used by the browser tests and
// by scripts/serve-web.sh. Serves DIR under PREFIX (e.g. /batchlab/) on 127.0.0.1, so
// the tests prove the site works under a path prefix. `cache: true` lets browsers keep
// files for an hour, as static hosts do (the tests use it); without it every load
// revalidates, which suits a site being rebuilt.
//   node server.mjs DIR [--prefix /batchlab/] [--port 8080]
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".csv": "text/csv",
};

export function startServer(dir, { prefix = "/", port = 0, cache = false } = {}) {
  const root = resolve(dir);
  const hits = []; // every path requested, in order
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    hits.push(path);
    if (!path.startsWith(prefix)) {
      // The bare prefix without its slash: send the browser to the folder.
      if (path + "/" === prefix) {
        res.writeHead(301, { Location: prefix }).end();
      } else {
        res.writeHead(404).end("not found");
      }
      return;
    }
    let rel = path.slice(prefix.length) || "index.html";
    if (rel.endsWith("/")) rel += "index.html";
    const file = normalize(join(root, rel));
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end("forbidden");
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "Content-Type": TYPES[extname(file)] ?? "application/octet-stream", "Cache-Control": cache ? "max-age=3600" : "no-cache" });
      res.end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  return new Promise((ok) => {
    server.listen(port, "127.0.0.1", () => {
      const url = `http://127.0.0.1:${server.address().port}${prefix}`;
      ok({ url, hits, close: () => new Promise((done) => server.close(done)) });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const { url } = await startServer(args[0] ?? "dist", { prefix: opt("--prefix", "/"), port: Number(opt("--port", "8080")) });
  console.log(`BatchLab is served at ${url}  (Ctrl-C to stop)`);
}
