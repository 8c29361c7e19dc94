/** Teams: adversaries learning with another algorithm than the good agents, and evaluation across runs. */
import assert from "node:assert/strict";
import { createAlgorithm } from "../lib/agent/catalogue.ts";
import type { GumbelMaddpg } from "../lib/agent/gumbel_learner.ts";
import { initBackend } from "../lib/backend.ts";
import { DEFAULT_TRAIN_CONFIG } from "../lib/config_fields.ts";
import { allocateBatch } from "../lib/replay_buffer.ts";
import { Pcg32 } from "../lib/rng.ts";
import { agentShapes, makeTrainingEnv } from "../lib/train/session.ts";
import { train } from "../lib/trainer.ts";
import { evaluate } from "../scripts/evaluate.ts";

await initBackend();

const TEAM = {
  ...DEFAULT_TRAIN_CONFIG,
  algo: "maddpg" as const,
  adversaryAlgo: "ddpg" as const,
  env: "simple_adversary_v3",
  actorHidden: [8],
  criticHidden: [8],
};

Deno.test("--adversary-algo ddpg: the adversary's critic sees itself, the good agents' see all", () => {
  const env = makeTrainingEnv(TEAM);
  const shapes = agentShapes(env);
  assert.deepEqual(shapes.map((s) => s.adversary), [true, false, false]);
  const learner = createAlgorithm(TEAM, shapes, new Pcg32(1)) as GumbelMaddpg;
  try {
    assert.deepEqual(learner.centralized, [false, true, true]);
    // adversary_0: 8 observations + 5 actions; good agents: 8 + 10 + 10 + 3 × 5.
    assert.deepEqual(learner.critics.map((c) => c.sizes[0]), [13, 43, 43]);
    const rows = 4, rng = new Pcg32(2);
    const batch = allocateBatch(rows, { observationSizes: [8, 10, 10], actionSizes: [1, 1, 1] });
    for (const a of [...batch.observations, ...batch.nextObservations]) {
      a.forEach((_, k) => (a[k] = rng.uniform(-1, 1)));
    }
    for (const a of batch.actions) a.forEach((_, k) => (a[k] = rng.nextInt(5)));
    const before = learner.critics.map((c) => c.params.slice());
    const losses = learner.update(batch, learner.drawUniforms(rows, rng));
    assert.ok([...losses.critic, ...losses.actor].every(Number.isFinite));
    learner.critics.forEach((c, i) =>
      assert.notDeepEqual(c.params, before[i], `critic ${i} moved`)
    );
  } finally {
    learner.dispose();
  }
});

Deno.test("a team run trains, and evaluate pits its agents against another run's adversaries", async () => {
  const root = await Deno.makeTempDir();
  try {
    const small = { ...TEAM, episodes: 3, batchSize: 16, testEpisodes: 1, checkpointEvery: 0 };
    await train(small, { outDir: `${root}/team` });
    await train({ ...small, adversaryAlgo: "same", seed: 7 }, { outDir: `${root}/other` });
    const alone = await evaluate(`${root}/team`, { episodes: 1, policy: "greedy", seed: 3 });
    const mixed = await evaluate(`${root}/team`, {
      episodes: 1,
      policy: "greedy",
      seed: 3,
      adversariesFrom: `${root}/other`,
    });
    assert.equal(alone.episodes[0].length, 25);
    assert.notDeepEqual(mixed.episodes[0].returns, alone.episodes[0].returns);
    await assert.rejects(
      () => evaluate(`${root}/team`, { episodes: 1, policy: "greedy", adversariesFrom: root }),
      /Cannot read .*config\.json/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
