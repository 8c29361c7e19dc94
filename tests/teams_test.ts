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
import { competitiveTeams } from "../lib/env/teams.ts";
import { notebookProgressLine } from "../lib/train/progress.ts";

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

Deno.test("notebookProgressLine() ends with each team's mean return per agent in a competitive world", () => {
  const history = Array.from({ length: 50 }, (_, k) => ({
    episode: k + 1,
    steps: 25,
    totalSteps: 25 * (k + 1),
    reward: 0,
    criticLoss: 0.5,
    actorLoss: -0.25,
    epsilon: 0,
    success: false,
    criticLosses: [],
    actorLosses: [],
    greedyReward: 0,
    greedySuccess: false,
    returns: [k % 2 === 0 ? 10 : 20, -5, -7],
  }));
  const line = notebookProgressLine(
    history,
    100,
    competitiveTeams(["adversary_0", "agent_0", "agent_1"]),
  );
  assert.equal(
    line,
    "Ep 50/100 | Steps: 1250 | Avg Reward: 0.00 | Avg C_Loss: 0.5000 | Avg A_Loss: -0.2500 | " +
      "Eps: 0.000 | adversaries: 15.00 | good agents: -6.00",
  );
  assert.equal(
    notebookProgressLine(history, 100, competitiveTeams(["agent_0", "agent_1", "agent_2"])),
    line!.split(" | adversaries")[0],
    "a cooperative world keeps the notebook's line",
  );
  assert.equal(notebookProgressLine(history.slice(0, 49), 100), undefined);
});
