/**
 * One training process per run directory, through an exclusive advisory lock of the
 * operating system on `<dir>/.lock`. The lock belongs to an open file handle that this
 * process keeps until it releases the lock or ends: the operating system drops it when the
 * process dies, however it dies, so a lock left by a killed process is simply taken over
 * and a live owner is recognised on every platform. The file also holds the owner's PID,
 * for the error message only.
 *
 * @module
 */
import { UsageError } from "./errors.ts";

/** Name of the lock file in a run directory. */
export const LOCK_FILE = ".lock";

/** Whether `file` is still the file at `path` (it was not removed or replaced since opened). */
function isFileAt(file: Deno.FsFile, path: string): boolean {
  try {
    const [held, named] = [file.statSync(), Deno.statSync(path)];
    // Without inode numbers (some platforms report none), trust the path.
    if (held.ino === null || named.ino === null) return true;
    return held.dev === named.dev && held.ino === named.ino;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** The PID written in a lock file, or "unknown" (not written yet, or unreadable). */
function ownerOf(path: string): string {
  try {
    const text = Deno.readTextFileSync(path).trim();
    return /^\d+$/.test(text) ? text : "unknown";
  } catch {
    // Windows refuses to read a locked file.
    return "unknown";
  }
}

function writeAll(file: Deno.FsFile, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
}

/**
 * Takes `<dir>/.lock` for this process, or throws a {@linkcode UsageError} naming the
 * process that holds it. A lock file whose owner is gone (it holds no operating-system
 * lock) is taken over. Returns the function that releases the lock: it removes the file
 * while still holding it, then unlocks and closes it; calling it again does nothing.
 */
export function acquireLock(dir: string): () => void {
  const path = `${dir}/${LOCK_FILE}`;
  // A few attempts: the owner may remove the file between our open and our lock.
  for (let attempt = 0; attempt < 10; attempt++) {
    const file = Deno.openSync(path, { read: true, write: true, create: true });
    let locked = false;
    try {
      locked = file.tryLockSync(true);
      // A lock on a file its owner has removed meanwhile would guard nothing: try again.
      if (locked && isFileAt(file, path)) {
        file.truncateSync(0);
        writeAll(file, new TextEncoder().encode(`${Deno.pid}\n`));
        return releaser(file, path);
      }
    } catch (error) {
      close(file, locked);
      throw error;
    }
    close(file, locked);
    if (!locked) {
      throw new UsageError(
        `${dir} is in use by another training process (pid ${ownerOf(path)}, ${path})`,
      );
    }
  }
  throw new UsageError(`Could not take the lock ${path}: it was removed ten times while trying`);
}

function close(file: Deno.FsFile, locked: boolean): void {
  try {
    if (locked) file.unlockSync();
  } finally {
    file.close();
  }
}

function releaser(file: Deno.FsFile, path: string): () => void {
  let released = false;
  return () => {
    if (released) return;
    released = true;
    try {
      // Remove the file only while we hold it, and only if it is still ours.
      if (isFileAt(file, path)) Deno.removeSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    } finally {
      close(file, true);
    }
  };
}
