/**
 * Safe file writes: a reader sees the old file or the new one, never a torn one, and once
 * a write returns its bytes and its name are on the disk (fsync of the file, then of the
 * directory), so a power cut cannot undo it either.
 *
 * @module
 */
import { UsageError } from "./errors.ts";

/**
 * Writes all of `data` to `path` (created, or truncated) and flushes it to the disk before
 * returning. No rename: a reader may meanwhile see a partial file, so this is for files in
 * a directory that is itself renamed into place once complete; elsewhere use
 * {@linkcode writeFileAtomic}.
 */
export async function writeFileSynced(
  path: string,
  data: string | Uint8Array | Iterable<Uint8Array>,
): Promise<void> {
  // Chunks are written one after the other (a generator may make each as it is asked for):
  // a large state is never copied into one buffer.
  const chunks = typeof data === "string"
    ? [new TextEncoder().encode(data)]
    : data instanceof Uint8Array
    ? [data]
    : data;
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    for (const bytes of chunks) {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
    }
    await file.sync();
  } finally {
    file.close();
  }
}

/**
 * Flushes the entries of directory `path` (files created, renamed or removed in it) to the
 * disk. Does nothing on Windows, which cannot open a directory as a file, nor on file
 * systems that cannot sync a directory: there the renames are still atomic.
 */
export async function syncDir(path: string): Promise<void> {
  if (Deno.build.os === "windows") return;
  const dir = await Deno.open(path, { read: true });
  try {
    await dir.sync();
  } catch {
    // This file system cannot sync a directory.
  } finally {
    dir.close();
  }
}

/** The directory part of `path` ("." for a bare name). */
export function parentOf(path: string): string {
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  return slash < 0 ? "." : slash === 0 ? path.slice(0, 1) : path.slice(0, slash);
}

/** Temporary names in use by writes of this process that have not finished. */
const pending = new Set<string>();

/**
 * Writes `data` to `path` so that a reader, or a crash, sees the old file or the new one:
 * the bytes go to `<path>.tmp-<pid>` in the same directory (`<path>.tmp-<pid>-2`, … while
 * another write of this process to `path` is in progress), are synced, the temporary file
 * is renamed to `path` and the directory synced. On any error the temporary file is
 * removed and `path` is left as it was.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  let temp = `${path}.tmp-${Deno.pid}`;
  for (let n = 2; pending.has(temp); n++) temp = `${path}.tmp-${Deno.pid}-${n}`;
  pending.add(temp);
  try {
    await writeFileSynced(temp, data);
    await Deno.rename(temp, path);
  } catch (error) {
    await Deno.remove(temp).catch(() => {});
    throw error;
  } finally {
    pending.delete(temp);
  }
  await syncDir(parentOf(path));
}

/** Whether `path` exists (not if a file stands where one of its folders would be). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return false;
    }
    throw error;
  }
}

/** Whether `path` is a directory holding at least one entry. */
export async function isNonEmptyDir(path: string): Promise<boolean> {
  try {
    for await (const _ of Deno.readDir(path)) return true;
    return false;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return false;
    }
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
    await checkOutputPath("--out", out, "dir");
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

/**
 * Refuses, before any work, an output path that could not be written: one whose nearest
 * existing ancestor is not a directory, or that is itself of the wrong kind (`dir`: an existing
 * file; `file`: an existing directory). `flag` names the path in the message.
 *
 * @example
 * ```ts
 * import { checkOutputPath } from "./files.ts";
 * import assert from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a.txt`, "x");
 * await assert.rejects(
 *   checkOutputPath("--out", `${dir}/a.txt/b.json`, "file"),
 *   { message: `--out ${dir}/a.txt/b.json: ${dir}/a.txt is not a directory` },
 * );
 * await assert.rejects(checkOutputPath("--out", dir, "file"), {
 *   message: `--out ${dir} is a directory, not a file`,
 * });
 * await checkOutputPath("--out", `${dir}/new/deeper`, "dir"); // may be created
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function checkOutputPath(
  flag: string,
  path: string,
  kind: "dir" | "file",
): Promise<void> {
  const info = await statOrUndefined(path);
  if (info) {
    if (kind === "dir" && !info.isDirectory) {
      throw new UsageError(`${flag} ${path} exists and is not a directory`);
    }
    if (kind === "file" && info.isDirectory) {
      throw new UsageError(`${flag} ${path} is a directory, not a file`);
    }
    return;
  }
  for (let dir = parentOf(path);; dir = parentOf(dir)) {
    const ancestor = await statOrUndefined(dir);
    if (ancestor) {
      if (!ancestor.isDirectory) throw new UsageError(`${flag} ${path}: ${dir} is not a directory`);
      return;
    }
    if (parentOf(dir) === dir) return;
  }
}

/** `Deno.stat(path)`, or undefined where nothing (or a file above it) stands in the way. */
async function statOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return undefined;
    }
    throw error;
  }
}
