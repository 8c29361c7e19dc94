/**
 * Training survives interruption: kill -9 at pseudo-random moments (one inside a checkpoint
 * write), SIGINT / SIGTERM, NaN, a second process, bad checkpoints and configs. Real
 * processes throughout.
 */
import assert from "node:assert/strict";
import { Pcg32 } from "../lib/rng.ts";
import { findState, loadState, stateDir } from "../lib/run_state.ts";
import { assertUsageError, ROOT, scriptCommand, snapshot } from "./_run.ts";
import type { Run } from "./_run.ts";

const SMALL = [
  "--episodes",
  "40",
  "--max-steps",
  "40",
  "--batch-size",
  "32",
  "--buffer-size",
  "2000",
  "--checkpoint-every",
  "3",
  "--quiet",
];
const work = await Deno.makeTempDir({ prefix: "maddpg-resume-" });
// Every test of this file works under `work`: remove it when the test process ends.
globalThis.addEventListener("unload", () => Deno.removeSync(work, { recursive: true }));

/** Longest a child process may run, in milliseconds: past it the test fails. */
const RUN_MS = 300_000;
/** Longest wait for a running child to reach a given point, in milliseconds. */
const WAIT_MS = 120_000;

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function command(args: string[], env: Record<string, string> = {}): Deno.Command {
  return scriptCommand("train", args, work, env);
}

/** A child process (stdout and stderr piped) and its output, collected as it runs. */
interface Child {
  process: Deno.ChildProcess;
  output: Promise<Deno.CommandOutput>;
  /** Whether it has ended. */
  done: boolean;
}

function track(process: Deno.ChildProcess): Child {
  const child: Child = { process, output: process.output(), done: false };
  const ended = () => {
    child.done = true;
  };
  child.output.then(ended, ended);
  return child;
}

/** Kills `child` with SIGKILL (when still running) and fails with `message` and its stderr. */
async function fail(child: Child, message: string): Promise<never> {
  try {
    child.process.kill("SIGKILL");
  } catch {
    // Already ended.
  }
  const { stderr } = await child.output;
  throw new Error(`${message}; the child's stderr:\n${decode(stderr)}`);
}

/**
 * Polls `ready` until it holds (true) or `child` ends (false); fails the test with the
 * child's stderr, after killing it, if neither happens within `ms`.
 */
async function waitUntil(
  child: Child,
  ready: () => boolean | Promise<boolean>,
  what: string,
  ms = WAIT_MS,
): Promise<boolean> {
  const deadline = performance.now() + ms;
  for (;;) {
    if (await ready()) return true;
    if (child.done) return false;
    if (performance.now() > deadline) return await fail(child, `No ${what} within ${ms} ms`);
    await sleep(5);
  }
}

/** Waits for `child` to end; fails the test with its stderr, after killing it, past `ms`. */
async function finish(child: Child, ms = RUN_MS): Promise<Deno.CommandOutput> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  const output = await Promise.race([child.output, timeout]);
  clearTimeout(timer);
  return output ?? await fail(child, `The child did not end within ${ms} ms`);
}

/** Starts `train` with `args`. */
function spawn(args: string[], env: Record<string, string> = {}): Child {
  return track(command(args, env).spawn());
}

/** Runs `train` to the end, within {@linkcode RUN_MS}. */
async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { code, stdout, stderr } = await finish(spawn(args, env));
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

/** Runs a helper command (`cp`, `mount`…) to the end, within a minute. */
function exec(name: string, args: string[]): Promise<Deno.CommandOutput> {
  return finish(
    track(new Deno.Command(name, { args, stdout: "piped", stderr: "piped" }).spawn()),
    60_000,
  );
}

/** metrics.csv and every final weights file of a run (of `agents` agents). */
async function outcome(dir: string, agents = 2): Promise<string[]> {
  const files = [`${dir}/metrics.csv`];
  for (let agent = 0; agent < agents; agent++) {
    for (const net of ["actor", "critic"]) {
      files.push(`${dir}/checkpoint/agent_${agent}/${net}/weights.bin`);
    }
  }
  return await Promise.all(files.map(async (f) => Array.from(await Deno.readFile(f)).join(",")));
}

const reference = `${work}/uninterrupted`;
const referenceRun = await run([...SMALL, "--out", reference]);
if (referenceRun.code !== 0) throw new Error(referenceRun.stderr);

Deno.test("a run killed with SIGKILL at several moments (one mid-checkpoint) and resumed equals the uninterrupted run", async () => {
  const dir = `${work}/killed`;
  const rng = new Pcg32(2024);
  // Kill points: after pseudo-random episodes (plus a few ms), and once inside a checkpoint write.
  const plan: ("checkpoint" | number)[] = [
    8 + rng.nextInt(6),
    "checkpoint",
    22 + rng.nextInt(6),
    33 + rng.nextInt(5),
  ];
  const rows = () => {
    try {
      return Deno.readTextFileSync(`${dir}/metrics.csv`).split("\n").length - 2;
    } catch {
      return 0;
    }
  };
  const inCheckpoint = () => {
    try {
      return [...Deno.readDirSync(`${dir}/checkpoint`)].some((e) =>
        /^state\.(tmp|old)-/.test(e.name)
      );
    } catch {
      return false;
    }
  };
  let kills = 0;
  for (let attempt = 0; attempt < 10; attempt++) {
    const args: string[] = attempt === 0 ? [...SMALL, "--out", dir] : ["--resume", dir, "--quiet"];
    const point = plan[kills];
    const env: Record<string, string> = point === "checkpoint"
      ? { MADDPG_TEST_CHECKPOINT_PAUSE_MS: "300" }
      : {};
    const child = spawn(args, env);
    if (point !== undefined) {
      await waitUntil(
        child,
        () => (point === "checkpoint" ? inCheckpoint() : rows() >= point),
        point === "checkpoint" ? "checkpoint write" : `${point} rows in metrics.csv`,
      );
      if (!child.done) {
        await sleep(rng.nextInt(30));
        child.process.kill("SIGKILL");
        kills++;
      }
    }
    const status = await finish(child);
    if (status.success) break;
    assert.equal(status.signal, "SIGKILL", decode(status.stderr));
  }
  assert.equal(kills, plan.length, `killed ${kills} times`);
  assert.deepEqual(await outcome(dir), await outcome(reference));
});

Deno.test("simple_tag_v3, continuous actions, maddpg with ddpg adversaries: killed with SIGKILL and resumed equals the uninterrupted run", async () => {
  const flags = [
    "--env",
    "simple_tag_v3",
    "--env-option",
    "continuous_actions=true",
    "--env-option",
    "max_cycles=10",
    "--algo",
    "maddpg",
    "--adversary-algo",
    "ddpg",
    "--episodes",
    "12",
    "--batch-size",
    "16",
    "--buffer-size",
    "500",
    "--actor-hidden",
    "8,8",
    "--critic-hidden",
    "8,8",
    "--checkpoint-every",
    "2",
    "--warmup-steps",
    "0",
    "--quiet",
  ];
  const agents = 4; // adversary_0..2, agent_0
  const tagReference = `${work}/tag-uninterrupted`;
  const uninterrupted = await run([...flags, "--out", tagReference]);
  assert.equal(uninterrupted.code, 0, uninterrupted.stderr);
  const { config } = JSON.parse(await Deno.readTextFile(`${tagReference}/config.json`));
  assert.equal(config.envOptions.continuous_actions, "true");
  assert.equal(config.adversaryAlgo, "ddpg");

  const dir = `${work}/tag-killed`;
  const rng = new Pcg32(77);
  // Kill points: after pseudo-random episodes (plus a few ms), each leaving episodes to run.
  const plan = [3 + rng.nextInt(3), 7 + rng.nextInt(3)];
  const rows = () => {
    try {
      return Deno.readTextFileSync(`${dir}/metrics.csv`).split("\n").length - 2;
    } catch {
      return 0;
    }
  };
  const resumedFrom: number[] = [];
  let kills = 0;
  for (let attempt = 0; attempt < 10; attempt++) {
    const args = attempt === 0 ? [...flags, "--out", dir] : ["--resume", dir, "--quiet"];
    const point = plan[kills];
    const child = spawn(args);
    if (point !== undefined) {
      await waitUntil(child, () => rows() >= point, `${point} rows in metrics.csv`);
      if (!child.done) {
        await sleep(rng.nextInt(30));
        child.process.kill("SIGKILL");
        kills++;
      }
    }
    const status = await finish(child);
    if (status.success) break;
    assert.equal(status.signal, "SIGKILL", decode(status.stderr));
    const state = await findState(dir);
    resumedFrom.push(state ? (await loadState(state)).episode : 0);
  }
  assert.equal(kills, plan.length, `killed ${kills} times`);
  assert.ok(
    resumedFrom.some((episode) => episode > 0 && episode < 12),
    `resumed from saved states after episodes ${resumedFrom.join(", ")}`,
  );
  assert.deepEqual(await outcome(dir, agents), await outcome(tagReference, agents));
});

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`${signal} saves the state, exits ${code}, and the resumed run equals the uninterrupted one`, async () => {
    const dir = `${work}/${signal}`;
    const child = spawn([...SMALL, "--out", dir]);
    // Wait for a few episodes.
    const started = await waitUntil(child, async () => {
      try {
        return (await Deno.readTextFile(`${dir}/metrics.csv`)).split("\n").length > 6;
      } catch {
        return false; // Not there yet.
      }
    }, "five episodes in metrics.csv");
    if (!started) await fail(child, "The run ended before five episodes");
    child.process.kill(signal);
    const status = await finish(child);
    const stderr = decode(status.stderr);
    assert.equal(status.code, code, stderr);
    assert.match(stderr, new RegExp(`Resume with: deno task train --resume ${dir}`));
    const resumed = await run(["--resume", dir, "--quiet"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(await outcome(dir), await outcome(reference));
  });
}

Deno.test("--resume may extend --episodes, and equals a run of that length", async () => {
  const dir = `${work}/extended`;
  const short = await run([
    ...SMALL.map((a) => (a === "40" ? "20" : a)).map((a, k) => (k === 3 ? "40" : a)),
    "--out",
    dir,
  ]);
  assert.equal(short.code, 0, short.stderr);
  const resumed = await run(["--resume", dir, "--episodes", "40", "--quiet"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(await outcome(dir), await outcome(reference));
});

Deno.test("a non-finite loss stops the run naming agent, network and episode, and leaves the previous checkpoint on disk untouched", async () => {
  const dir = `${work}/nan`;
  // Updates begin once the buffer holds 300 transitions (episode 8); with a critic learning
  // rate of 1e30 the first one is non-finite. Six good episodes first, saved as the state.
  const flags = [
    ...SMALL.map((a, k) => (SMALL[k - 1] === "--batch-size" ? "300" : a)),
    "--critic-lr",
    "1e30",
  ];
  const good = await run([...flags, "--episodes", "6", "--out", dir]);
  assert.equal(good.code, 0, good.stderr);
  const state = stateDir(dir);
  const before = await snapshot(state);
  assert.equal((await loadState(state)).episode, 6);

  const result = await run(["--resume", dir, "--episodes", "40", "--quiet"]);
  assert.equal(result.code, 1, result.stderr);
  const line = result.stderr.trim().split("\n").pop()!;
  const match =
    /^error: Non-finite (critic|actor) loss .* of agent \d in episode (\d+); the last good state is kept in (.*)$/
      .exec(line);
  assert.ok(match, line);
  const [, , episode, kept] = match;
  assert.equal(kept, state);
  // After the checkpoint of episode 6 and before the next one (every 3 episodes): the
  // episodes in between were trained, but none of them may reach the state on disk.
  const failed = Number(episode);
  assert.ok(failed > 6 && failed <= 9, `the loss became non-finite in episode ${failed}`);
  const rows = (await Deno.readTextFile(`${dir}/metrics.csv`)).trim().split("\n").length - 1;
  assert.equal(rows, failed - 1, "metrics.csv holds the episodes before the failure");

  assert.deepEqual(await snapshot(state), before, "the state files are those of episode 6");
  const leftovers = [...Deno.readDirSync(`${dir}/checkpoint`)]
    .map((e) => e.name)
    .filter((name) => name.startsWith("state."));
  assert.deepEqual(leftovers, [], "no half-written state");
  assert.equal(await findState(dir), state);
  const saved = await loadState(state);
  assert.equal(saved.episode, 6);
  assert.equal(saved.history.length, 6);
  // The kept state resumes: the same failure, in the same episode.
  const again = await run(["--resume", dir, "--episodes", "40", "--quiet"]);
  assert.equal(again.code, 1, again.stderr);
  assert.equal(again.stderr.trim().split("\n").pop(), line);
});

Deno.test("a second process on the same run is refused; a stale lock is taken over", async () => {
  const dir = `${work}/locked`;
  await Deno.mkdir(dir);
  // Another process holds the lock (an operating-system lock on .lock) until it is killed.
  const lock = new URL("../lib/lock.ts", import.meta.url).href;
  const live = track(
    new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "--no-config",
        `import { acquireLock } from ${JSON.stringify(lock)};
        acquireLock(${JSON.stringify(dir)});
        setTimeout(() => {}, ${RUN_MS});`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn(),
  );
  try {
    const locked = await waitUntil(live, async () => {
      try {
        return (await Deno.readTextFile(`${dir}/.lock`)) === `${live.process.pid}\n`;
      } catch {
        return false;
      }
    }, "lock taken by the other process");
    if (!locked) await fail(live, "The lock holder ended");
    assertUsageError(
      await run([...SMALL, "--out", dir, "--force"]),
      new RegExp(`in use by another training process \\(pid ${live.process.pid}`),
    );
  } finally {
    if (!live.done) live.process.kill("SIGKILL");
    await finish(live);
  }
  // The lock file still names the killed process, whose lock died with it: taken over.
  assert.equal(await Deno.readTextFile(`${dir}/.lock`), `${live.process.pid}\n`);
  const result = await run([...SMALL, "--episodes", "4", "--out", dir, "--force"]);
  assert.equal(result.code, 0, result.stderr);
  await assert.rejects(
    () => Deno.stat(`${dir}/.lock`),
    Deno.errors.NotFound,
    "released at the end",
  );
});

Deno.test("bad checkpoints and configs: one line naming the file and field, exit 2, run directory unchanged", async () => {
  const base = `${work}/bad`;
  const made = await run([...SMALL, "--episodes", "6", "--out", base]);
  assert.equal(made.code, 0, made.stderr);
  const copy = async (name: string) => {
    const dir = `${work}/${name}`;
    const copied = await exec("cp", ["-r", base, dir]);
    assert.ok(copied.success, decode(copied.stderr));
    return dir;
  };
  const cases: [string, (dir: string) => Promise<void>, string[], RegExp][] = [
    [
      "corrupt",
      async (d) => {
        const path = `${d}/checkpoint/state/arrays.bin`;
        const bytes = await Deno.readFile(path);
        bytes[100] ^= 0xff;
        await Deno.writeFile(path, bytes);
      },
      [],
      /arrays.bin does not match its checksum in manifest.json/,
    ],
    [
      "corrupt-block",
      async (d) => {
        const path = `${d}/checkpoint/state/buffer-0.bin`;
        const bytes = await Deno.readFile(path);
        bytes[8] ^= 0xff;
        await Deno.writeFile(path, bytes);
      },
      [],
      /buffer-0.bin does not match its checksum in manifest.json/,
    ],
    [
      "truncated",
      async (d) => {
        const path = `${d}/checkpoint/state/arrays.bin`;
        await Deno.writeFile(path, (await Deno.readFile(path)).subarray(0, 1000));
      },
      [],
      /arrays.bin holds 1000 bytes, the manifest says \d+/,
    ],
    [
      "no-manifest",
      (d) => Deno.remove(`${d}/checkpoint/state/manifest.json`),
      [],
      /manifest.json: the checkpoint is incomplete/,
    ],
    [
      "other-config",
      async (d) => {
        const record = JSON.parse(await Deno.readTextFile(`${d}/config.json`));
        record.config.gamma = 0.5;
        await Deno.writeTextFile(`${d}/config.json`, JSON.stringify(record));
      },
      [],
      /was saved by a run with another config/,
    ],
    [
      "unknown-key",
      async (d) => {
        const record = JSON.parse(await Deno.readTextFile(`${d}/config.json`));
        record.config.learningRate = 1;
        await Deno.writeTextFile(`${d}/config.json`, JSON.stringify(record));
      },
      [],
      /config.json: unknown config field "learningRate"/,
    ],
    [
      "wrong-type",
      async (d) => {
        const record = JSON.parse(await Deno.readTextFile(`${d}/config.json`));
        record.config.batchSize = "big";
        await Deno.writeTextFile(`${d}/config.json`, JSON.stringify(record));
      },
      [],
      /config.json: field "batchSize" must be a number, got "big"/,
    ],
    [
      "changed-flag",
      () => Promise.resolve(),
      ["--gamma", "0.5"],
      /--gamma 0.5 differs from the run's 0.99/,
    ],
    [
      "fewer-episodes",
      () => Promise.resolve(),
      ["--episodes", "3"],
      /--episodes 3 is fewer than the 6 already trained/,
    ],
    [
      "finished",
      () => Promise.resolve(),
      [],
      /has finished its 6 episodes: pass --episodes N \(more than 6\) to extend it/,
    ],
    [
      "finished-without-state",
      (d) => Deno.remove(`${d}/checkpoint`, { recursive: true }),
      [],
      /finished-without-state has finished \(summary\.json\) and keeps no saved state/,
    ],
    ["with-seeds", () => Promise.resolve(), ["--seeds", "0,1"], /drop --seeds 0,1/],
  ];
  for (const [name, damage, flags, pattern] of cases) {
    const dir = await copy(name);
    await damage(dir);
    const before = await snapshot(dir);
    assertUsageError(await run(["--resume", dir, ...flags]), pattern);
    assert.deepEqual(await snapshot(dir), before, `${name}: unchanged`);
  }
  assertUsageError(
    await run(["--resume", `${work}/nowhere`]),
    /Cannot read .*nowhere\/config.json/,
  );
  // --config files with the same faults.
  await Deno.writeTextFile(
    `${work}/unknown.json`,
    JSON.stringify({ algo: "maddpg", learningRate: 1 }),
  );
  assertUsageError(
    await run(["--config", `${work}/unknown.json`]),
    /unknown.json: unknown config field "learningRate"/,
  );
  await Deno.writeTextFile(`${work}/wrong.json`, JSON.stringify({ episodes: -1 }));
  assertUsageError(
    await run(["--config", `${work}/wrong.json`]),
    /wrong.json: field "episodes" must be a positive integer, got -1/,
  );
  await Deno.writeTextFile(`${work}/broken.json`, "{");
  assertUsageError(await run(["--config", `${work}/broken.json`]), /broken.json is not valid JSON/);
});

Deno.test("--config loads a preset and flags override it", async () => {
  const dir = `${work}/preset`;
  const result = await run([
    "--config",
    `${ROOT}configs/maddpg.json`,
    "--episodes",
    "3",
    "--max-steps",
    "20",
    "--batch-size",
    "16",
    "--buffer-size",
    "500",
    "--out",
    dir,
    "--quiet",
  ]);
  assert.equal(result.code, 0, result.stderr);
  const { config } = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  assert.equal(config.algo, "maddpg");
  assert.equal(config.actorLr, 0.001);
  assert.equal(config.actionSelection, "sample");
  assert.equal(config.episodes, 3);
});

/**
 * Whether this process may mount a file system (Linux, with CAP_SYS_ADMIN), found without
 * mounting anything.
 */
function canMount(): boolean {
  if (Deno.build.os !== "linux") return false;
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const effective = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    return effective !== undefined && (BigInt(`0x${effective}`) >> 21n & 1n) === 1n;
  } catch {
    return false;
  }
}

/** Mounts a small tmpfs on a new temporary directory and returns it. */
async function smallDisk(megabytes: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "maddpg-disk-" });
  const mounted = await exec("mount", ["-t", "tmpfs", "-o", `size=${megabytes}m`, "tmpfs", dir]);
  if (!mounted.success) {
    await Deno.remove(dir);
    throw new Error(`Cannot mount a tmpfs on ${dir}: ${decode(mounted.stderr)}`);
  }
  return dir;
}

Deno.test({
  name:
    "a full disk stops the run with one line, leaves no torn file, and the run resumes once there is room",
  // Needs the right to mount a small file system (root on Linux); CI runs as root.
  ignore: !canMount(),
  fn: async () => {
    const disk = await smallDisk(5);
    const dir = `${disk}/run`;
    try {
      const result = await run([...SMALL, "--out", dir]);
      assert.equal(result.code, 1, result.stderr);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0], /^error: No space left on device/);
      const leftovers: string[] = [];
      const walk = (path: string) => {
        for (const entry of Deno.readDirSync(path)) {
          if (entry.isDirectory) walk(`${path}/${entry.name}`);
          if (entry.name.includes(".tmp-")) leftovers.push(entry.name);
        }
      };
      walk(dir);
      assert.deepEqual(leftovers, [], "no half-written files");
      const rows = (await Deno.readTextFile(`${dir}/metrics.csv`)).split("\n");
      assert.equal(rows.pop(), "", "the file ends with a complete line");
      for (const row of rows) assert.equal(row.split(",").length, 16, row);
      // Room again: the run resumes from its last complete state and ends as if never stopped.
      const grown = await exec("mount", ["-o", "remount,size=64m", disk]);
      assert.ok(grown.success, decode(grown.stderr));
      const resumed = await run(["--resume", dir, "--quiet"]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.deepEqual(await outcome(dir), await outcome(reference));
    } finally {
      const unmounted = await exec("umount", [disk]);
      if (unmounted.success) await Deno.remove(disk, { recursive: true });
      assert.ok(unmounted.success, `umount ${disk}: ${decode(unmounted.stderr)}`);
    }
  },
});

Deno.test("a run saved in the previous state format (2: the buffer in arrays.bin) resumes exactly", async () => {
  // tests/fixtures/run_format2: `deno task train --episodes 3 --seed 7 --actor-hidden 8,8
  // --critic-hidden 8,8` by the version before format 3 (commit 99a1540).
  const dir = `${work}/format2`;
  const copied = await exec("cp", ["-r", `${ROOT}/tests/fixtures/run_format2`, dir]);
  assert.ok(copied.success, decode(copied.stderr));
  assert.equal(JSON.parse(await Deno.readTextFile(`${stateDir(dir)}/manifest.json`)).format, 2);
  const resumed = await run(["--resume", dir, "--episodes", "5"]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout + resumed.stderr, /Resuming .*format2 after episode 3/);
  const fresh = `${work}/format2-fresh`;
  const flags = ["--seed", "7", "--actor-hidden", "8,8", "--critic-hidden", "8,8", "--quiet"];
  const whole = await run([...flags, "--episodes", "5", "--out", fresh]);
  assert.equal(whole.code, 0, whole.stderr);
  assert.equal(
    await Deno.readTextFile(`${dir}/metrics.csv`),
    await Deno.readTextFile(`${fresh}/metrics.csv`),
  );
  const manifest = JSON.parse(await Deno.readTextFile(`${stateDir(dir)}/manifest.json`));
  assert.equal(manifest.format, 3, "saved again in today's format");
  assert.ok("buffer-0.bin" in manifest.files);
});
