/**
 * Training survives interruption: kill -9 at pseudo-random moments (one inside a checkpoint
 * write), SIGINT / SIGTERM, NaN, a second process, bad checkpoints and configs. Real
 * processes throughout.
 */
import assert from "node:assert/strict";
import { Pcg32 } from "../lib/rng.ts";
import { assertUsageError, ROOT, runScript, scriptCommand, snapshot } from "./_run.ts";
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

function command(args: string[], env: Record<string, string> = {}): Deno.Command {
  return scriptCommand("train", args, work, env);
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return runScript("train", args, work, env);
}

/** metrics.csv and every final weights file of a run. */
async function outcome(dir: string): Promise<string[]> {
  const files = [`${dir}/metrics.csv`];
  for (const agent of [0, 1]) {
    for (const net of ["actor", "critic"]) {
      files.push(`${dir}/checkpoint/agent_${agent}/${net}/weights.bin`);
    }
  }
  return await Promise.all(files.map(async (f) => Array.from(await Deno.readFile(f)).join(",")));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
    const child: Deno.ChildProcess = command(args, env).spawn();
    const output = child.output();
    let finished = false;
    output.then(() => (finished = true));
    if (point !== undefined) {
      while (!finished && !(point === "checkpoint" ? inCheckpoint() : rows() >= point)) {
        await sleep(5);
      }
      if (!finished) {
        await sleep(rng.nextInt(30));
        child.kill("SIGKILL");
        kills++;
      }
    }
    const status: Deno.CommandOutput = await output;
    if (status.success) break;
    assert.equal(status.signal, "SIGKILL", new TextDecoder().decode(status.stderr));
  }
  assert.equal(kills, plan.length, `killed ${kills} times`);
  assert.deepEqual(await outcome(dir), await outcome(reference));
});

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`${signal} saves the state, exits ${code}, and the resumed run equals the uninterrupted one`, async () => {
    const dir = `${work}/${signal}`;
    const child = command([...SMALL, "--out", dir]).spawn();
    // Wait for a few episodes.
    for (;;) {
      await sleep(50);
      try {
        if ((await Deno.readTextFile(`${dir}/metrics.csv`)).split("\n").length > 6) break;
      } catch {
        // Not there yet.
      }
    }
    child.kill(signal);
    const status: Deno.CommandOutput = await child.output();
    const stderr = new TextDecoder().decode(status.stderr);
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

Deno.test("a non-finite loss stops the run naming agent, network and episode; the last good state is kept", async () => {
  const dir = `${work}/nan`;
  const result = await run([...SMALL, "--critic-lr", "1e30", "--out", dir]);
  assert.equal(result.code, 1, result.stderr);
  const line = result.stderr.trim().split("\n").pop()!;
  assert.match(
    line,
    /^error: Non-finite (critic|actor) loss .* of agent \d in episode \d+; the last good state is kept in .*checkpoint\/state/,
  );
});

Deno.test("a second process on the same run is refused; a stale lock is taken over", async () => {
  const dir = `${work}/locked`;
  await Deno.mkdir(dir);
  const live = new Deno.Command("sleep", { args: ["30"] }).spawn();
  await Deno.writeTextFile(`${dir}/.lock`, `${live.pid}\n`);
  assertUsageError(
    await run([...SMALL, "--out", dir, "--force"]),
    new RegExp(`in use by another training process \\(pid ${live.pid}`),
  );
  live.kill();
  await live.status;
  // Now the lock names a dead process: taken over.
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
    await new Deno.Command("cp", { args: ["-r", base, dir] }).output();
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

/** Mounts a small tmpfs (root on Linux); undefined where that is not allowed. */
async function smallDisk(megabytes: number): Promise<string | undefined> {
  const dir = await Deno.makeTempDir({ prefix: "maddpg-disk-" });
  const { success } = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", `size=${megabytes}m`, "tmpfs", dir],
    stderr: "null",
  }).output();
  return success ? dir : undefined;
}

const disk = Deno.build.os === "linux" ? await smallDisk(5) : undefined;

Deno.test({
  name:
    "a full disk stops the run with one line, leaves no torn file, and the run resumes once there is room",
  // Needs root to mount a small file system; CI runs as root.
  ignore: disk === undefined,
  fn: async () => {
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
      for (const row of rows) assert.equal(row.split(",").length, 14, row);
      // Room again: the run resumes from its last complete state and ends as if never stopped.
      await new Deno.Command("mount", { args: ["-o", "remount,size=64m", disk!] }).output();
      const resumed = await run(["--resume", dir, "--quiet"]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.deepEqual(await outcome(dir), await outcome(reference));
    } finally {
      await new Deno.Command("umount", { args: [disk!] }).output();
    }
  },
});
