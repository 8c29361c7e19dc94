import assert from "node:assert/strict";
import { initBackend } from "../lib/backend.ts";
import { mlpArtifacts, saveMlp } from "../lib/checkpoint.ts";
import { DEFAULT_TRAIN_CONFIG } from "../lib/config.ts";
import type { TrainConfig } from "../lib/config.ts";
import { Mlp } from "../lib/nn/mlp.ts";
import { Pcg32 } from "../lib/rng.ts";
import { trainingLoop } from "../lib/train/loop.ts";
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
