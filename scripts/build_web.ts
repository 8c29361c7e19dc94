// deno-lint-ignore-file no-console
/**
 * `deno task build-web [--out dist/web]`: builds the page of `web/` into a static folder:
 * `app.js` (and `train_worker.js`) bundled for browsers by `deno bundle`, `index.html`,
 * `style.css`, and the tfjs wasm backend's `.wasm` files, which the page loads from beside
 * itself (`setWasmPaths("./")`). Prints each output's size.
 *
 * @module
 */
import { parseFlags } from "../lib/cli.ts";
import { runMain, UsageError } from "../lib/errors.ts";

const HELP = `Usage: deno task build-web [--out DIR]

Bundles web/app.ts (and web/train_worker.ts) for browsers and copies the page's static files
and the tfjs wasm files into DIR [dist/web].`;

/** Where the page's sources are. */
const WEB = new URL("../web/", import.meta.url);

/** Copied as they are. */
const STATIC_FILES = ["index.html", "style.css"];

/** The tfjs wasm backend's binaries: plain, SIMD (what browsers pick), threaded SIMD. */
const WASM_FILES = [
  "tfjs-backend-wasm.wasm",
  "tfjs-backend-wasm-simd.wasm",
  "tfjs-backend-wasm-threaded-simd.wasm",
];

/** What was written, for the size report. */
export interface BuiltFile {
  path: string;
  bytes: number;
}

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** `deno bundle --platform browser --minify -o <out> <entry>`; its stderr on failure. */
async function bundle(entry: URL, out: string): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--platform", "browser", "--minify", "-o", out, entry.pathname],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`deno bundle ${entry.pathname} failed:\n${new TextDecoder().decode(stderr)}`);
  }
}

/**
 * The file path of a wasm binary of the tfjs backend in Deno's npm cache (the bundle step
 * has put the package there).
 */
function wasmSource(file: string): string {
  const url = import.meta.resolve(`@tensorflow/tfjs-backend-wasm/dist/${file}`);
  if (!url.startsWith("file:")) {
    throw new Error(`${file} resolved to ${url}, not a file: is the npm package cached?`);
  }
  return new URL(url).pathname;
}

/** Builds the page into `outDir`; returns the files written. */
export async function buildWeb(outDir = "dist/web"): Promise<BuiltFile[]> {
  await Deno.mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const name of ["app", "train_worker"]) {
    const entry = new URL(`${name}.ts`, WEB);
    if (name !== "app" && !(await exists(entry))) continue;
    await bundle(entry, `${outDir}/${name}.js`);
    written.push(`${outDir}/${name}.js`);
  }
  for (const file of STATIC_FILES) {
    await Deno.copyFile(new URL(file, WEB), `${outDir}/${file}`);
    written.push(`${outDir}/${file}`);
  }
  for (const file of WASM_FILES) {
    await Deno.copyFile(wasmSource(file), `${outDir}/${file}`);
    written.push(`${outDir}/${file}`);
  }
  return await Promise.all(
    written.map(async (path) => ({ path, bytes: (await Deno.stat(path)).size })),
  );
}

/** Parses flags, builds, prints the sizes. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values, positionals } = parseFlags(args, {
    out: { type: "string", default: "dist/web" },
    help: { type: "boolean" },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (positionals.length > 0) {
    throw new UsageError(`Unexpected argument ${JSON.stringify(positionals[0])}`);
  }
  const files = await buildWeb(values.out as string);
  for (const { path, bytes } of files) {
    console.log(`${path.padEnd(48)} ${(bytes / 1024).toFixed(1).padStart(8)} KB`);
  }
}

if (import.meta.main) await runMain(() => main());
