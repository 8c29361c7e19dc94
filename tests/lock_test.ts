/**
 * One training process per run directory (lib/lock.ts), with real processes: the lock is
 * the operating system's, so it dies with its process however that process dies.
 */
import assert from "node:assert/strict";
import { acquireLock, LOCK_FILE } from "../lib/lock.ts";
import { UsageError } from "../lib/errors.ts";

/** Longest wait for a child process, in milliseconds: past it the test fails. */
const WAIT_MS = 30_000;
const LOCK_MODULE = new URL("../lib/lock.ts", import.meta.url).href;

/** Resolves as `promise` does, or rejects with `what` after `ms` milliseconds. */
async function within<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A separate Deno process that tries `acquireLock(dir)` and prints "locked" (then holds the
 * lock until killed or its stdin closes) or "refused <message>" (then exits).
 */
class Contender {
  readonly process: Deno.ChildProcess;
  readonly #stdout: ReadableStreamDefaultReader<string>;
  readonly #stderr: Promise<string>;
  #text = "";

  constructor(dir: string) {
    const code = `
      import { acquireLock } from ${JSON.stringify(LOCK_MODULE)};
      try {
        acquireLock(${JSON.stringify(dir)});
      } catch (error) {
        console.log("refused " + error.message);
        Deno.exit(0);
      }
      console.log("locked");
      for await (const _ of Deno.stdin.readable) {
        // Hold the lock until stdin closes (or a kill).
      }
    `;
    this.process = new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-config", code],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdout = this.process.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#stderr = new Response(this.process.stderr).text();
  }

  /** The child's PID. */
  get pid(): number {
    return this.process.pid;
  }

  /** The first line the child prints; fails after {@linkcode WAIT_MS} with its stderr. */
  async line(): Promise<string> {
    try {
      await within(
        (async () => {
          while (!this.#text.includes("\n")) {
            const { value, done } = await this.#stdout.read();
            if (done) throw new Error("the child exited without a word");
            this.#text += value;
          }
        })(),
        `a line from child ${this.pid}`,
      );
    } catch (error) {
      await this.kill();
      throw new Error(`${(error as Error).message}; its stderr:\n${await this.#stderr}`);
    }
    return this.#text.split("\n")[0];
  }

  /** Kills the child with SIGKILL (when still running) and waits, within a time limit, for its end. */
  async kill(): Promise<Deno.CommandStatus> {
    try {
      this.process.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    const status = await within(this.process.status, `child ${this.pid} to end`);
    await this.#stdout.cancel().catch(() => {});
    await this.process.stdin.close().catch(() => {});
    await within(this.#stderr, `the stderr of child ${this.pid}`);
    return status;
  }
}

/** Runs `body` with a fresh directory and a way to start contenders, all killed at the end. */
async function withDir(body: (dir: string, start: () => Contender) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "maddpg-lock-" });
  const children: Contender[] = [];
  try {
    await body(dir, () => {
      const child = new Contender(dir);
      children.push(child);
      return child;
    });
  } finally {
    for (const child of children) await child.kill();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Asserts that `acquireLock(dir)` throws the usage error naming `pid`. */
function assertRefused(dir: string, pid: number): void {
  assert.throws(() => acquireLock(dir), (error: unknown) => {
    assert.ok(error instanceof UsageError, String(error));
    assert.equal(
      error.message,
      `${dir} is in use by another training process (pid ${pid}, ${dir}/${LOCK_FILE})`,
    );
    return true;
  });
}

/** The PID of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), { args: ["--version"], stdout: "null" }).spawn();
  await within(child.status, "deno --version");
  return child.pid;
}

Deno.test("acquireLock() refuses a directory held by a live process, naming its pid", async () => {
  await withDir(async (dir, start) => {
    const holder = start();
    assert.equal(await holder.line(), "locked");
    assertRefused(dir, holder.pid);
    // A third process is refused as well, and told the same.
    const other = start();
    assert.equal(
      await other.line(),
      `refused ${dir} is in use by another training process (pid ${holder.pid}, ${dir}/${LOCK_FILE})`,
    );
    assert.equal(Deno.readTextFileSync(`${dir}/${LOCK_FILE}`), `${holder.pid}\n`, "untouched");
  });
});

Deno.test("acquireLock() takes over once the holder is killed with SIGKILL", async () => {
  await withDir(async (dir, start) => {
    const holder = start();
    assert.equal(await holder.line(), "locked");
    const status = await holder.kill();
    assert.equal(status.signal, "SIGKILL");
    // The file is still there, naming the dead holder; its lock died with it.
    assert.equal(Deno.readTextFileSync(`${dir}/${LOCK_FILE}`), `${holder.pid}\n`);
    const release = acquireLock(dir);
    try {
      assert.equal(Deno.readTextFileSync(`${dir}/${LOCK_FILE}`), `${Deno.pid}\n`);
      assert.match(await start().line(), new RegExp(`^refused .*\\(pid ${Deno.pid}, `));
    } finally {
      release();
    }
    assert.deepEqual([...Deno.readDirSync(dir)], [], "released");
  });
});

Deno.test("acquireLock() takes over a stale lock file whose pid is dead or belongs to another process", async () => {
  await withDir(async (dir) => {
    // A dead process, and PID 1 (always alive: a reused PID) that holds no lock here.
    for (const pid of [await deadPid(), 1]) {
      Deno.writeTextFileSync(`${dir}/${LOCK_FILE}`, `${pid}\n`);
      const release = acquireLock(dir);
      assert.equal(Deno.readTextFileSync(`${dir}/${LOCK_FILE}`), `${Deno.pid}\n`, `over ${pid}`);
      release();
    }
    // An empty or garbled file too.
    Deno.writeTextFileSync(`${dir}/${LOCK_FILE}`, "not a pid, and longer than one\n");
    acquireLock(dir)();
  });
});

Deno.test("acquireLock() refuses a second lock on the same directory in the same process", () => {
  const dir = Deno.makeTempDirSync({ prefix: "maddpg-lock-" });
  try {
    const release = acquireLock(dir);
    try {
      assertRefused(dir, Deno.pid);
      assert.equal(Deno.readTextFileSync(`${dir}/${LOCK_FILE}`), `${Deno.pid}\n`, "still held");
    } finally {
      release();
    }
    acquireLock(dir)();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("acquireLock()'s release removes the file, once, and lets another process take the lock", async () => {
  await withDir(async (dir, start) => {
    const release = acquireLock(dir);
    release();
    assert.throws(() => Deno.statSync(`${dir}/${LOCK_FILE}`), Deno.errors.NotFound);
    release();
    const holder = start();
    assert.equal(await holder.line(), "locked");
    release();
    assertRefused(dir, holder.pid);
  });
});

Deno.test("acquireLock()'s release never removes a lock file that another process holds", async () => {
  await withDir(async (dir, start) => {
    const release = acquireLock(dir);
    // Someone removes our file and another process locks a new one at the same path.
    Deno.removeSync(`${dir}/${LOCK_FILE}`);
    const holder = start();
    assert.equal(await holder.line(), "locked");
    release();
    assert.equal(Deno.readTextFileSync(`${dir}/${LOCK_FILE}`), `${holder.pid}\n`);
    assertRefused(dir, holder.pid);
  });
});

Deno.test("acquireLock() lets exactly one of several racing processes take a stale lock", async () => {
  await withDir(async (dir, start) => {
    Deno.writeTextFileSync(`${dir}/${LOCK_FILE}`, `${await deadPid()}\n`);
    const contenders = Array.from({ length: 4 }, start);
    const lines = await Promise.all(contenders.map((c) => c.line()));
    const winners = contenders.filter((_, k) => lines[k] === "locked");
    assert.equal(winners.length, 1, lines.join("\n"));
    for (const line of lines.filter((l) => l !== "locked")) {
      assert.match(line, /^refused .* is in use by another training process \(pid (\d+|unknown), /);
    }
    assertRefused(dir, winners[0].pid);
  });
});
