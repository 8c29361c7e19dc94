// deno-lint-ignore-file no-console
/**
 * `deno task serve [--results results] [--port 8000] [--host 127.0.0.1] [--web dist/web]`:
 * serves the web page and the runs under a results directory, read-only, until SIGINT or
 * SIGTERM. Builds the page first (`deno task build-web`) when it is missing.
 *
 * @module
 */
import { integerFlag, parseFlags } from "../lib/cli.ts";
import { runMain, UsageError } from "../lib/errors.ts";
import { createHandler } from "../lib/serve/static_server.ts";
import { DEFAULT_WEB_DIR, ensureWebBuilt } from "../lib/serve/web_build.ts";

const HELP = `Usage: deno task serve [flags]

Serves the web page (watch, compare runs) and the runs under a results directory, read-only.

  --results DIR   the results directory [results]
  --port N        port to listen on; 0 picks a free one [8000]
  --host HOST     address to listen on [127.0.0.1]
  --web DIR       the built page [dist/web, built with deno task build-web when missing]
  --help          this text`;

/** What {@linkcode serve} serves, and where. */
export interface ServeOptions {
  /** The results directory. @default "results" */
  results: string;
  /** Port; 0 picks a free one. @default 8000 */
  port: number;
  /** Address to listen on. @default "127.0.0.1" */
  host: string;
  /** The built page. @default "dist/web" (of the repository) */
  web: string;
}

/** The defaults of {@linkcode ServeOptions}. */
export const DEFAULT_SERVE_OPTIONS = {
  results: "results",
  port: 8000,
  host: "127.0.0.1",
  web: DEFAULT_WEB_DIR,
} satisfies ServeOptions;

/** `http://host:port/`, with an IPv6 address in brackets. */
function origin(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}/`;
}

/**
 * Serves until SIGINT or SIGTERM, then shuts the server down (letting requests in flight
 * finish) and returns.
 */
export async function serve(options: ServeOptions): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(options.results);
  } catch {
    throw new UsageError(`--results ${options.results} does not exist`);
  }
  if (!info.isDirectory) throw new UsageError(`--results ${options.results} is not a directory`);
  await ensureWebBuilt(options.web);

  const handler = createHandler({ webRoot: options.web, resultsRoot: options.results });
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: options.host,
      port: options.port,
      onListen: ({ port }) =>
        console.log(`Serving ${options.results} at ${origin(options.host, port)}`),
    }, handler);
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new UsageError(`port ${options.port} is in use; pass another --port (0: any free)`);
    }
    if (error instanceof Deno.errors.AddrNotAvailable) {
      throw new UsageError(`--host ${options.host} is not an address of this machine`);
    }
    // Anything else here is the address asked for (a name that does not resolve, a port
    // this user may not open): the user's to change.
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      `cannot listen on --host ${options.host} --port ${options.port}: ${message}`,
    );
  }
  const stop = () => void server.shutdown();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  try {
    await server.finished;
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, stop);
  }
  console.log("Stopped");
}

async function main(args = Deno.args): Promise<void> {
  const { values } = parseFlags(args, {
    results: { type: "string", default: DEFAULT_SERVE_OPTIONS.results },
    port: { type: "string", default: String(DEFAULT_SERVE_OPTIONS.port) },
    host: { type: "string", default: DEFAULT_SERVE_OPTIONS.host },
    web: { type: "string", default: DEFAULT_SERVE_OPTIONS.web },
    help: { type: "boolean" },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const port = integerFlag("--port", values.port, true);
  if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
  const host = values.host as string;
  if (host.trim() === "") throw new UsageError("--host must not be empty");
  await serve({ results: values.results as string, port, host, web: values.web as string });
}

if (import.meta.main) await runMain(() => main());
