import assert from "node:assert/strict";
import { initBackend } from "../lib/backend.ts";
import { mlpArtifacts, saveMlp } from "../lib/checkpoint.ts";
import { DEFAULT_TRAIN_CONFIG } from "../lib/config.ts";
import type { TrainConfig } from "../lib/config.ts";
import { Mlp } from "../lib/nn/mlp.ts";
import { Pcg32 } from "../lib/rng.ts";
import { trainingLoop } from "../lib/train/loop.ts";
import type { EpisodeMetrics } from "../lib/train/episode_log.ts";
import { MetricsFile } from "../lib/train/metrics_file.ts";
import { runDirectoryFiles } from "../lib/train/run_files.ts";
import { TrainingSession } from "../lib/train/session.ts";
import { evaluate } from "../scripts/evaluate.ts";

await initBackend("wasm");

Deno.test("mlpArtifacts() is byte for byte what saveMlp() writes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const net = Mlp.init([6, 16, 4], new Pcg32(5));
    await saveMlp(net, dir, "actor_0");
    const { modelJson, weights } = await mlpArtifacts(net, "actor_0");
    assert.equal(modelJson, await Deno.readTextFile(`${dir}/model.json`));
    assert.deepEqual(weights, await Deno.readFile(`${dir}/weights.bin`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runDirectoryFiles() of an inline session is a run directory evaluate accepts", async () => {
  const config: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG,
    algo: "maddpg",
    episodes: 3,
    maxSteps: 20,
    batchSize: 16,
    bufferSize: 1000,
    actorHidden: [16],
    criticHidden: [16],
    testEpisodes: 1,
  };
  const session = TrainingSession.inline(config);
  const dir = await Deno.makeTempDir();
  try {
    await trainingLoop(session);
    const { result, algorithm } = await session.finishSession();
    const files = await runDirectoryFiles({
      config,
      history: session.history,
      summary: { episodes: config.episodes, ...result },
      algorithm,
      runtime: { runtime: "test" },
    });
    assert.deepEqual(Object.keys(files).sort(), [
      "checkpoint/agent_0/actor/model.json",
      "checkpoint/agent_0/actor/weights.bin",
      "checkpoint/agent_0/critic/model.json",
      "checkpoint/agent_0/critic/weights.bin",
      "checkpoint/agent_1/actor/model.json",
      "checkpoint/agent_1/actor/weights.bin",
      "checkpoint/agent_1/critic/model.json",
      "checkpoint/agent_1/critic/weights.bin",
      "config.json",
      "metrics.csv",
      "summary.json",
    ]);
    for (const [path, bytes] of Object.entries(files)) {
      const slash = path.lastIndexOf("/");
      if (slash > 0) await Deno.mkdir(`${dir}/${path.slice(0, slash)}`, { recursive: true });
      await Deno.writeFile(`${dir}/${path}`, bytes);
    }
    const lines = (await Deno.readTextFile(`${dir}/metrics.csv`)).trimEnd().split("\n");
    assert.equal(lines.length, 1 + 3);
    assert.match(lines[0], /^episode,steps,total_steps,reward,/);
    lines.slice(1).forEach((line, i) => assert.match(line, new RegExp(`^${i + 1},`)));
    // The grid world's agents share the reward: each return is the episode's reward.
    assert.match(lines[0], /,return_0,return_1$/);
    for (const line of lines.slice(1)) {
      const fields = line.split(",").map(Number);
      assert.equal(fields.at(-1), fields[3]);
      assert.equal(fields.at(-2), fields[3]);
    }
    const record = await evaluate(dir, { episodes: 1, policy: "greedy" });
    assert.equal(record.episodes.length, 1);
    assert.equal(record.maxSteps, 20);
    // The saved actors are the session's final ones.
    for (let i = 0; i < 2; i++) {
      const saved = await Deno.readFile(`${dir}/checkpoint/agent_${i}/actor/weights.bin`);
      assert.deepEqual(
        new Float32Array(saved.buffer, saved.byteOffset, saved.byteLength / 4),
        algorithm.actors[i].params,
      );
    }
  } finally {
    await session.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** An episode's metrics with made-up values, with or without the agents' returns. */
function episodeMetrics(episode: number, returns?: number[]): EpisodeMetrics {
  return {
    episode,
    steps: 25,
    totalSteps: 25 * episode,
    reward: -1.5,
    criticLoss: 0.25,
    actorLoss: 2,
    epsilon: 0,
    success: false,
    criticLosses: [0.25, 0.25],
    actorLosses: [2, 2],
    greedyReward: -1,
    greedySuccess: false,
    greedyMeasures: { collisions: 3 },
    ...(returns ? { returns } : {}),
  };
}

Deno.test("metrics.csv ends with each agent's return, unless a resumed history lacks them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const columns = { numAgents: 2, measureNames: ["collisions"] };
    const read = async () => (await Deno.readTextFile(`${dir}/metrics.csv`)).trimEnd().split("\n");
    const fresh = await MetricsFile.open(dir, columns, [episodeMetrics(1, [-1, -2])]);
    fresh.append(episodeMetrics(2, [-0.5, -2.5]));
    fresh.close();
    const lines = await read();
    assert.equal(lines[0].split(",").slice(-3).join(","), "greedy_collisions,return_0,return_1");
    assert.deepEqual(lines.slice(1).map((l) => l.split(",").slice(-2).join(",")), [
      "-1,-2",
      "-0.5,-2.5",
    ]);
    // A run saved before the columns existed keeps its header when it resumes.
    const old = await MetricsFile.open(dir, columns, [episodeMetrics(1)]);
    old.append(episodeMetrics(2, [-0.5, -2.5]));
    old.close();
    const oldLines = await read();
    assert.ok(oldLines[0].endsWith(",greedy_collisions"), oldLines[0]);
    for (const line of oldLines) assert.equal(line.split(",").length, 15);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
