/**
 * Smoke and bad-input tests of the real scripts, run as subprocesses. Every test works in
 * its own temp directory, removed when the test ends (pass or fail), and makes the runs it
 * needs itself: no test depends on another's.
 */
import assert from "node:assert/strict";
import { assertUsageError, runScript, snapshot } from "./_run.ts";
import type { Run } from "./_run.ts";
import { coresPerRun } from "../lib/sweep.ts";
import { learnerThreads } from "../lib/train/run.ts";

const TINY = [
  "--episodes",
  "4",
  "--max-steps",
  "30",
  "--batch-size",
  "16",
  "--buffer-size",
  "1000",
  "--test-episodes",
  "2",
];

/** The smallest run that still updates once (20 steps, batch 16, an update every 4 steps). */
const SMALL = [
  "--episodes",
  "2",
  "--max-steps",
  "10",
  "--batch-size",
  "16",
  "--buffer-size",
  "100",
  "--test-episodes",
  "1",
];

function run(script: string, args: string[], cwd: string): Promise<Run> {
  return runScript(script, args, cwd);
}

/** Runs `body` in a fresh temp directory that is removed afterwards, whatever happens. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "maddpg-scripts-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Trains a {@linkcode SMALL} run into `<work>/<name>` and returns that directory. */
async function smallRun(work: string, name = "run", extra: string[] = []): Promise<string> {
  const dir = `${work}/${name}`;
  const result = await run("train", [...SMALL, ...extra, "--out", dir], work);
  assert.equal(result.code, 0, result.stderr);
  return dir;
}

Deno.test("train writes config, metrics, summary and a Layers checkpoint into results/<algo>-seed<seed>", () =>
  inTempDir(async (work) => {
    const result = await run("train", TINY, work);
    assert.equal(result.code, 0, result.stderr);
    const dir = `${work}/results/notebook-seed42`;
    const lines = (await Deno.readTextFile(`${dir}/metrics.csv`)).trim().split("\n");
    assert.equal(
      lines[0],
      "episode,steps,total_steps,reward,critic_loss,actor_loss,epsilon,success,critic_loss_0,critic_loss_1,actor_loss_0,actor_loss_1,greedy_reward,greedy_success,return_0,return_1",
    );
    assert.equal(lines.length, 5);
    const rows = lines.slice(1).map((line) => line.split(",").map(Number));
    rows.forEach((row, i) => {
      assert.equal(row[0], i + 1);
      assert.equal(row.length, 16);
      assert.ok(row.every(Number.isFinite));
      // The grid world's reward is shared: each agent's return is the episode's reward.
      assert.deepEqual(row.slice(14), [row[3], row[3]]);
    });
    assert.ok(rows.some((row) => row[4] > 0), "some episode ran updates");
    const record = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    assert.equal(record.config.seed, 42);
    assert.equal(record.config.batchSize, 16);
    assert.equal(record.runtime.backend, "wasm");
    assert.equal(record.runtime.tfjs, "4.22.0");
    const summary = JSON.parse(await Deno.readTextFile(`${dir}/summary.json`));
    assert.equal(summary.episodes, 4);
    assert.equal(summary.test.sample.episodes.length, 2);
    assert.equal(summary.test.greedy.episodes.length, 2);
    for (const agent of [0, 1]) {
      for (const net of ["actor", "critic"]) {
        const model = JSON.parse(
          await Deno.readTextFile(`${dir}/checkpoint/agent_${agent}/${net}/model.json`),
        );
        assert.equal(model.format, "layers-model");
        assert.deepEqual(model.weightsManifest[0].paths, ["weights.bin"]);
      }
    }
    // A second run with the same seed goes to the next free suffix, with identical metrics.
    const again = await run("train", [...TINY, "--threads", "0"], work);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(
      await Deno.readTextFile(`${work}/results/notebook-seed42-2/metrics.csv`),
      await Deno.readTextFile(`${dir}/metrics.csv`),
    );
  }));

Deno.test("train with another seed gives other metrics", () =>
  inTempDir(async (work) => {
    const seed42 = await smallRun(work, "seed42", ["--seed", "42"]);
    const seed7 = await smallRun(work, "seed7", ["--seed", "7"]);
    const metrics42 = await Deno.readTextFile(`${seed42}/metrics.csv`);
    assert.equal(metrics42.trim().split("\n").length, 3, "header and 2 episodes");
    assert.notEqual(await Deno.readTextFile(`${seed7}/metrics.csv`), metrics42);
  }));

Deno.test("train prints the notebook's progress line every 50 episodes", () =>
  inTempDir(async (work) => {
    const result = await run("train", [
      "--episodes",
      "50",
      "--max-steps",
      "5",
      "--batch-size",
      "8",
      "--buffer-size",
      "100",
      "--test-episodes",
      "1",
      "--out",
      `${work}/fifty`,
    ], work);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^Ep 50\/50 \| Steps: 250 \| Avg Reward: -?\d+\.\d\d \| Avg C_Loss: \d+\.\d{4} \| Avg A_Loss: -?\d+\.\d{4} \| Eps: 0\.995$/m,
    );
    assert.match(result.stdout, /--- Testing Complete\. Average Reward: -?\d+\.\d\d ---/);
  }));

Deno.test("train --help lists every flag with its default", () =>
  inTempDir(async (work) => {
    const result = await run("train", ["--help"], work);
    assert.equal(result.code, 0);
    for (
      const flag of [
        "--seed",
        "--episodes",
        "--batch-size",
        "--buffer-size",
        "--actor-lr",
        "--epsilon-decay",
        "--threads",
        "--out",
        "--force",
      ]
    ) {
      assert.match(result.stdout, new RegExp(`^  ${flag} `, "m"));
    }
    assert.match(result.stdout, /--batch-size +.*\[256\]/);
    assert.deepEqual([...Deno.readDirSync(work)], [], "--help writes nothing");
  }));

Deno.test("evaluate runs greedy and sampled episodes and writes eval.json", () =>
  inTempDir(async (work) => {
    const dir = await smallRun(work);
    const greedy = await run("evaluate", ["--run", dir, "--episodes", "3"], work);
    assert.equal(greedy.code, 0, greedy.stderr);
    assert.equal(greedy.stdout.match(/^Episode \d: Reward = /gm)?.length, 3);
    assert.match(greedy.stdout, /Average Reward: -?\d+\.\d\d/);
    const record = JSON.parse(await Deno.readTextFile(`${dir}/eval.json`));
    assert.equal(record.policy, "greedy");
    assert.equal(record.episodes.length, 3);
    const sample = await run("evaluate", ["--run", dir, "--policy", "sample", "--seed", "3"], work);
    assert.equal(sample.code, 0, sample.stderr);
    const sampled = JSON.parse(await Deno.readTextFile(`${dir}/eval.json`));
    assert.equal(sampled.policy, "sample");
    assert.equal(sampled.episodes.length, 5);
  }));

Deno.test("train refuses bad flags with one line, exit code 2, and writes nothing", () =>
  inTempDir(async (empty) => {
    const cases: [string[], RegExp][] = [
      [["--bogus"], /bogus/],
      [["--episodes", "abc"], /--episodes must be a number, got "abc"/],
      [["--episodes", "0"], /--episodes must be a positive integer, got "0"/],
      [["--episodes", "-3"], /--episodes must be a positive integer, got "-3"/],
      [["--seed", "-1"], /--seed must be a non-negative integer, got "-1"/],
      [["--out", "-x"], /--out got "-x": a value starting with "-" is written --out=-x/],
      [["--batch-size", "2.5"], /--batch-size must be a positive integer, got "2.5"/],
      [["--gamma", "1.5"], /--gamma must be a number in \[0, 1\], got "1.5"/],
      [
        ["--batch-size", "2000", "--buffer-size", "1000"],
        /--batch-size 2000 is larger than --buffer-size 1000/,
      ],
      [["--threads", "3"], /--threads must be auto, 0, 1 or 2, got "3"/],
      [["--algo", "ppo"], /--algo must be one of notebook, maddpg, matd3, iddpg, got "ppo"/],
      [["--policy-delay", "3"], /--policy-delay applies to matd3, not to --algo notebook/],
      [["--algo", "maddpg", "--hard", "yes"], /--hard must be true or false, got "yes"/],
      [
        ["--share-actors"],
        /--share-actors applies to maddpg, matd3, iddpg, not to --algo notebook/,
      ],
      [
        ["--algo", "maddpg", "--env", "simple_spread_v3", "--share-actors", "--threads", "2"],
        /--threads 2 runs a worker per agent; agents sharing an actor \(--share-actors\) need/,
      ],
      [
        ["--action-selection", "best"],
        /--action-selection must be one of argmax, sample, got "best"/,
      ],
      [
        ["--env-option", "grid_size=4", "--grid-size", "6"],
        /--env-option grid_size of grid_world is set with --grid-size/,
      ],
      [
        ["--env-option", "maxSteps=9"],
        /--env-option maxSteps of grid_world is set with --max-steps/,
      ],
      [["extra"], /extra/],
    ];
    for (const [args, pattern] of cases) {
      assertUsageError(await run("train", args, empty), pattern);
    }
    assert.deepEqual([...Deno.readDirSync(empty)], [], "nothing written");
  }));

Deno.test("train never overwrites an --out that holds results, unless --force", () =>
  inTempDir(async (work) => {
    const dir = await smallRun(work);
    const before = await snapshot(dir);
    assert.ok(before.has(`${dir}/metrics.csv`));
    assertUsageError(
      await run("train", [...SMALL, "--seed", "7", "--out", dir], work),
      /already holds results.*--force/,
    );
    for (const out of [`${dir}/metrics.csv`, `${dir}/metrics.csv/sub`]) {
      assertUsageError(
        await run("train", [...SMALL, "--seed", "7", "--out", out], work),
        /--out .*metrics\.csv.* (exists and )?is not a directory/,
      );
    }
    assert.deepEqual(await snapshot(dir), before);
  }));

Deno.test("evaluate refuses bad input with one line, exit code 2, and changes nothing", () =>
  inTempDir(async (work) => {
    const dir = await smallRun(work);
    assertUsageError(await run("evaluate", [], work), /--run DIR is required/);
    assertUsageError(
      await run("evaluate", ["--run", `${work}/missing`], work),
      /missing\/config.json/,
    );
    assertUsageError(
      await run("evaluate", ["--run", dir, "--policy", "best"], work),
      /--policy must be greedy or sample, got "best"/,
    );
    assertUsageError(
      await run("evaluate", ["--run", dir, "--episodes", "0"], work),
      /--episodes must be a positive integer, got "0"/,
    );
    assertUsageError(
      await run("evaluate", ["--run", dir, "--episodes", "1e12"], work),
      /--episodes must be at most 1000000, got 1000000000000/,
    );
    // A checkpoint with a truncated weights file, then a missing one.
    const broken = `${work}/broken`;
    await Deno.mkdir(broken);
    for await (const entry of Deno.readDir(dir)) {
      if (entry.name === "checkpoint" || entry.name === "config.json") {
        await new Deno.Command("cp", { args: ["-r", `${dir}/${entry.name}`, broken] }).output();
      }
    }
    const weights = `${broken}/checkpoint/agent_1/actor/weights.bin`;
    await Deno.writeFile(weights, (await Deno.readFile(weights)).subarray(0, 100));
    const before = await snapshot(broken);
    assertUsageError(
      await run("evaluate", ["--run", broken], work),
      /agent_1\/actor\/weights.bin holds 100 bytes/,
    );
    await Deno.remove(weights);
    assertUsageError(
      await run("evaluate", ["--run", broken], work),
      /Cannot read .*agent_1\/actor\/weights.bin/,
    );
    before.delete(weights);
    assert.deepEqual(await snapshot(broken), before);
    await Deno.writeTextFile(`${broken}/config.json`, JSON.stringify({ config: { seed: "x" } }));
    assertUsageError(
      await run("evaluate", ["--run", broken], work),
      /config.json: field "seed" must be a number/,
    );
  }));

for (const algo of ["maddpg", "matd3", "iddpg"]) {
  Deno.test(`train --algo ${algo} runs and is deterministic per seed`, () =>
    inTempDir(async (work) => {
      const args = [...TINY, "--algo", algo, "--action-selection", "sample", "--seed", "3"];
      const first = await run("train", [...args, "--out", `${work}/${algo}-a`], work);
      assert.equal(first.code, 0, first.stderr);
      const second = await run("train", [...args, "--out", `${work}/${algo}-b`], work);
      assert.equal(second.code, 0, second.stderr);
      const metrics = await Deno.readTextFile(`${work}/${algo}-a/metrics.csv`);
      assert.equal(await Deno.readTextFile(`${work}/${algo}-b/metrics.csv`), metrics);
      const rows = metrics.trim().split("\n").slice(1).map((line) => line.split(",").map(Number));
      assert.ok(rows.some((row) => row[4] > 0 && row[5] !== 0), "updates ran");
      const record = JSON.parse(await Deno.readTextFile(`${work}/${algo}-a/config.json`));
      assert.equal(record.config.algo, algo);
      const evaluation = await run("evaluate", ["--run", `${work}/${algo}-a`], work);
      assert.equal(evaluation.code, 0, evaluation.stderr);
    }));
}

Deno.test("train --seeds runs one process per seed, each identical to the single run", () =>
  inTempDir(async (work) => {
    const result = await run("train", [
      ...SMALL,
      "--seeds",
      "5,6",
      "--workers",
      "2",
      "--out",
      `${work}/multi`,
    ], work);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^5 \| -?\d+\.\d\d \| /m);
    for (const seed of [5, 6]) {
      const single = await run("train", [
        ...SMALL,
        "--seed",
        String(seed),
        "--out",
        `${work}/single-${seed}`,
      ], work);
      assert.equal(single.code, 0, single.stderr);
      assert.equal(
        await Deno.readTextFile(`${work}/multi/seed_${seed}/metrics.csv`),
        await Deno.readTextFile(`${work}/single-${seed}/metrics.csv`),
      );
      // Two runs at once: each decides --threads auto on its share of the cores.
      const { runtime } = JSON.parse(
        await Deno.readTextFile(`${work}/multi/seed_${seed}/config.json`),
      );
      assert.equal(
        runtime.learnerThreads,
        learnerThreads("auto", { agents: 2, cores: coresPerRun(2) }),
      );
    }
    assertUsageError(
      await run("train", ["--seeds", "1,x"], work),
      /--seeds must list non-negative integers/,
    );
    assertUsageError(await run("train", ["--seeds", "1,1"], work), /--seeds lists a seed twice/);
    assertUsageError(
      await run("train", ["--seeds", "1", "--workers", "0"], work),
      /--workers must be a positive integer/,
    );
  }));
