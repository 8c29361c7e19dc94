/**
 * A read-only HTTP handler for the web page: the built page from one directory, the runs'
 * files from the results directory under `/results/`, and `/runs.json` (the index of the
 * runs). It never writes, never lists a directory, and refuses any path that would leave
 * its root, whether by `..`, an encoded separator, a backslash or a symlink.
 *
 * @module
 */
import { listRuns } from "./run_index.ts";

/** What {@linkcode createHandler} serves. */
export interface HandlerOptions {
  /** The built page (`dist/web/`): `/` is its `index.html`. */
  webRoot: string;
  /** The results directory, served under `/results/`. */
  resultsRoot: string;
}

/** Content types by file extension; anything else is `application/octet-stream`. */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".gif": "image/gif",
  ".csv": "text/csv; charset=utf-8",
  ".bin": "application/octet-stream",
  ".txt": "text/plain; charset=utf-8",
};

/** The content type of a file name, from its extension. */
export function contentType(name: string): string {
  const dot = name.lastIndexOf(".");
  return (dot >= 0 && CONTENT_TYPES[name.slice(dot).toLowerCase()]) ||
    "application/octet-stream";
}

/**
 * The segments of a URL path (as in `URL.pathname`, still percent-encoded), decoded, or
 * `null` when the path could leave its root: a `.` or `..` segment (`%2e%2e` included), a
 * segment that decodes to something holding `/`, `\` or NUL, a bad percent-encoding, or a
 * drive letter. Empty segments (`//`) are dropped.
 *
 * @example
 * ```ts
 * import { safeSegments } from "./static_server.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(safeSegments("/results/run%201/config.json"), ["results", "run 1", "config.json"]);
 * assert.equal(safeSegments("/results/..%2fsecret"), null);
 * assert.equal(safeSegments("/results/%2E%2E/secret"), null);
 * ```
 */
export function safeSegments(pathname: string): string[] | null {
  const segments: string[] = [];
  for (const raw of pathname.split("/")) {
    if (raw === "") continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === "." || segment === ".." || /[\\/\0]/.test(segment)) return null;
    if (segments.length === 0 && /^[A-Za-z]:/.test(segment)) return null;
    segments.push(segment);
  }
  return segments;
}

const SEPARATOR = Deno.build.os === "windows" ? "\\" : "/";

/** Whether `path` is `root` or inside it (both real paths). */
function isInside(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(SEPARATOR) ? root : root + SEPARATOR);
}

function plain(status: number, text: string, headers: Record<string, string> = {}): Response {
  return new Response(`${text}\n`, {
    status,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...headers,
    },
  });
}

/**
 * The file at `segments` under `root`, resolved through symlinks: a `Response` refusing it
 * (403 outside the root, 404 missing or a directory) or the real path of a regular file.
 */
async function resolveFile(root: string, segments: string[]): Promise<string | Response> {
  // Hidden files (a write's `.tmp-<pid>`, editors' files) are not part of any page.
  if (segments.some((segment) => segment.startsWith("."))) return plain(404, "Not found");
  let realRoot: string, real: string;
  try {
    realRoot = await Deno.realPath(root);
    real = await Deno.realPath([root, ...segments].join("/"));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return plain(404, "Not found");
    }
    throw error;
  }
  if (!isInside(real, realRoot)) return plain(403, "Forbidden");
  const info = await Deno.stat(real);
  return info.isFile ? real : plain(404, "Not found");
}

async function serveFile(path: string, method: string): Promise<Response> {
  const info = await Deno.stat(path);
  const headers = {
    "content-type": contentType(path),
    "content-length": String(info.size),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  };
  if (method === "HEAD") return new Response(null, { headers });
  const file = await Deno.open(path, { read: true });
  return new Response(file.readable, { headers });
}

/**
 * A request handler for `Deno.serve`: GET and HEAD only (anything else is 405 with
 * `Allow: GET, HEAD`); `/` is the page's `index.html`, `/runs.json` the
 * {@linkcode listRuns} index of `resultsRoot`, `/results/<path>` a file of `resultsRoot`,
 * any other path a file of `webRoot`. Responses are never cached (`no-store`): runs change
 * while training.
 *
 * @example
 * ```ts
 * import { createHandler } from "./static_server.ts";
 * import assert from "node:assert/strict";
 * const webRoot = await Deno.makeTempDir(), resultsRoot = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${webRoot}/index.html`, "<h1>runs</h1>");
 * const handler = createHandler({ webRoot, resultsRoot });
 * const page = await handler(new Request("http://localhost/"));
 * assert.equal(await page.text(), "<h1>runs</h1>");
 * const post = await handler(new Request("http://localhost/", { method: "POST" }));
 * assert.equal(post.status, 405);
 * await post.body?.cancel();
 * assert.deepEqual(await (await handler(new Request("http://localhost/runs.json"))).json(), []);
 * await Deno.remove(webRoot, { recursive: true });
 * await Deno.remove(resultsRoot, { recursive: true });
 * ```
 */
export function createHandler(options: HandlerOptions): (req: Request) => Promise<Response> {
  const { webRoot, resultsRoot } = options;
  return async (req: Request): Promise<Response> => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return plain(405, "Method not allowed", { allow: "GET, HEAD" });
    }
    // Both the path as sent and as `new URL` normalizes it (which resolves `..`, `%2e%2e`
    // and `\` away): a request that tried to climb out is refused, not quietly redirected.
    const sent = req.url.replace(/^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i, "").replace(/[?#].*$/s, "");
    const segments = safeSegments(new URL(req.url).pathname);
    if (safeSegments(sent) === null || segments === null) return plain(403, "Forbidden");
    if (segments.length === 1 && segments[0] === "runs.json") {
      const body = JSON.stringify(await listRuns(resultsRoot), null, 2) + "\n";
      const headers = {
        "content-type": CONTENT_TYPES[".json"],
        "cache-control": "no-store",
      };
      return new Response(req.method === "HEAD" ? null : body, { headers });
    }
    let resolved: string | Response;
    if (segments[0] === "results") {
      resolved = segments.length === 1
        ? plain(404, "Not found")
        : await resolveFile(resultsRoot, segments.slice(1));
    } else {
      // `/` (and only `/`, not other directories) is the page.
      resolved = await resolveFile(webRoot, segments.length === 0 ? ["index.html"] : segments);
    }
    return typeof resolved === "string" ? await serveFile(resolved, req.method) : resolved;
  };
}
