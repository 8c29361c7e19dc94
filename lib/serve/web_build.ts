/**
 * The built web page (`dist/web/`), built on demand by the project's `build-web` task.
 *
 * @module
 */
import { resolve } from "node:path";
import { UsageError } from "../errors.ts";

/** The repository root, with a trailing slash. */
const ROOT = new URL("../../", import.meta.url);

/** Where `deno task build-web` puts the page. */
export const DEFAULT_WEB_DIR: string = new URL("dist/web", ROOT).pathname;

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return false;
    }
    throw error;
  }
}

/** Whether the project's `deno.json` defines the task `name`. */
async function hasTask(name: string): Promise<boolean> {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  return typeof config?.tasks === "object" && config.tasks !== null && name in config.tasks;
}

/**
 * Makes sure `webDir/index.html` exists. A missing page in the default directory is built
 * with `deno task build-web` (its output shown as it runs); a missing page anywhere else
 * is the user's mistake ({@linkcode UsageError}).
 */
export async function ensureWebBuilt(webDir: string): Promise<void> {
  if (await isFile(`${webDir}/index.html`)) return;
  if (resolve(webDir) !== resolve(DEFAULT_WEB_DIR)) {
    throw new UsageError(`--web ${webDir} has no index.html`);
  }
  if (!(await hasTask("build-web"))) {
    throw new Error(
      "dist/web/index.html is missing and deno.json has no build-web task to make it",
    );
  }
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--config", new URL("deno.json", ROOT).pathname, "build-web"],
    cwd: ROOT.pathname,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn().status;
  if (code !== 0) throw new Error(`deno task build-web failed (exit code ${code})`);
  if (!(await isFile(`${webDir}/index.html`))) {
    throw new Error(`deno task build-web did not write ${webDir}/index.html`);
  }
}
