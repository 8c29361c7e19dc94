/**
 * One training process per run directory: a lock file holding the owner's PID, created
 * atomically; a lock whose process is gone is taken over.
 *
 * @module
 */
import { UsageError } from "./errors.ts";

/** Name of the lock file in a run directory. */
export const LOCK_FILE = ".lock";

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Takes `<dir>/.lock` for this process, or throws a {@linkcode UsageError} naming the
 * process that holds it. Returns the function that releases it.
 */
export function acquireLock(dir: string): () => void {
  const path = `${dir}/${LOCK_FILE}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = Deno.openSync(path, { write: true, createNew: true });
      file.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
      file.close();
      return () => {
        try {
          if (Deno.readTextFileSync(path).trim() === String(Deno.pid)) Deno.removeSync(path);
        } catch {
          // Already gone.
        }
      };
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      let owner = NaN;
      try {
        owner = Number(Deno.readTextFileSync(path).trim());
      } catch {
        // Removed meanwhile: try again.
      }
      if (Number.isSafeInteger(owner) && owner > 0 && owner !== Deno.pid && alive(owner)) {
        throw new UsageError(
          `${dir} is in use by another training process (pid ${owner}, ${path})`,
        );
      }
      // A stale lock (its process is gone, or unreadable): take it over.
      try {
        Deno.removeSync(path);
      } catch {
        // Someone else removed it first.
      }
    }
  }
  throw new UsageError(`Could not take the lock ${path}`);
}
