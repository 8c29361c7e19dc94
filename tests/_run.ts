/** Running the real scripts as subprocesses, for smoke and bad-input tests. */
import assert from "node:assert/strict";

/** The repository root (with a trailing slash). */
export const ROOT = new URL("..", import.meta.url).pathname;

/** What a finished script run printed. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `deno run … scripts/<script>.ts <args>` in `cwd`, with the repository's config. */
export function scriptCommand(
  script: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--config",
      `${ROOT}deno.json`,
      "-A",
      `${ROOT}scripts/${script}.ts`,
      ...args,
    ],
    cwd,
    env,
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs a script to the end. */
export async function runScript(
  script: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Run> {
  const { code, stdout, stderr } = await scriptCommand(script, args, cwd, env).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

/** Exit code 2, exactly one line on stderr matching `pattern`, no stack trace. */
export function assertUsageError(result: Run, pattern: RegExp): void {
  assert.equal(result.code, 2, `exit code ${result.code}; stderr: ${result.stderr}`);
  const lines = result.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line, got: ${result.stderr}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m);
}

/** Every file under `dir` and its bytes, for "nothing changed" checks. */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (path: string) => {
    for await (const entry of Deno.readDir(path)) {
      const full = `${path}/${entry.name}`;
      if (entry.isDirectory) await walk(full);
      else files.set(full, Array.from(await Deno.readFile(full)).join(","));
    }
  };
  await walk(dir);
  return files;
}
