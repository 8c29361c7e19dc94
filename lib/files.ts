/**
 * Safe file writes: a reader sees the old file or the new one, never a torn one.
 *
 * @module
 */
import { UsageError } from "./errors.ts";

/** Writes `data` to `path` via a temporary file in the same directory and a rename. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path}.tmp-${Deno.pid}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(temp, data);
    else await Deno.writeFile(temp, data);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  }
}

/** Whether `path` exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Whether `path` is a directory holding at least one entry. */
export async function isNonEmptyDir(path: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(path)) return true;
    return false;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * An output directory: `out` when given (refused if it already holds files, unless
 * `force`), else `base` or the first free `base-2`, `base-3`, ….
 */
export async function resolveOutDir(
  base: string,
  out: string | undefined,
  force: boolean,
): Promise<string> {
  if (out !== undefined) {
    if (await exists(out) && !(await Deno.stat(out)).isDirectory) {
      throw new UsageError(`--out ${out} exists and is not a directory`);
    }
    if (!force && await isNonEmptyDir(out)) {
      throw new UsageError(`${out} already holds results; choose another --out or pass --force`);
    }
    return out;
  }
  for (let suffix = 1;; suffix++) {
    const dir = suffix === 1 ? base : `${base}-${suffix}`;
    if (!(await exists(dir))) return dir;
  }
}
