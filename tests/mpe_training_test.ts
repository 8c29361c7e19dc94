/**
 * Smoke training on every particle world: each scenario × action type (discrete, continuous)
 * × algorithm that supports it, through `train()` with a tiny budget; the notebook's refusal
 * of continuous actions; determinism (same seed, and learner threads 0 vs 2); teams of two
 * algorithms; the heterogeneous actor sizes of speaker_listener.
 */
import assert from "node:assert/strict";
import { ALGORITHMS } from "../lib/agent/catalogue.ts";
import { GumbelMaddpg, gumbelOptions } from "../lib/agent/gumbel_learner.ts";
import { initBackend } from "../lib/backend.ts";
import type { LearnerThreads } from "../lib/config.ts";
import { DEFAULT_TRAIN_CONFIG } from "../lib/config_fields.ts";
import type { AlgorithmName, TrainConfig } from "../lib/config_fields.ts";
import "../lib/env/builtin.ts";
import { envIds, makeEnv } from "../lib/env/registry.ts";
import { UsageError } from "../lib/errors.ts";
import { Pcg32 } from "../lib/rng.ts";
import { fusesMultiplyAdds } from "../lib/nn/wasm_gemm.ts";
import { learnerThreads } from "../lib/train/run.ts";
import { agentShapes, measureNames } from "../lib/train/session.ts";
import { train } from "../lib/trainer.ts";
import type { TrainSummary } from "../lib/trainer.ts";

await initBackend();

const MPE = envIds().filter((id) => id !== "grid_world");
const ACTION_TYPES = ["discrete", "continuous"] as const;
type ActionType = (typeof ACTION_TYPES)[number];

const EPISODES = 2;
const MAX_STEPS = 10;

/** The tiny config of one smoke run. */
function tiny(
  env: string,
  type: ActionType,
  algo: AlgorithmName,
  extra: Partial<TrainConfig> = {},
): TrainConfig {
  return {
    ...DEFAULT_TRAIN_CONFIG,
    algo,
    env,
    envOptions: {
      max_cycles: String(MAX_STEPS),
      ...(type === "continuous" ? { continuous_actions: "true" } : {}),
    },
    seed: 5,
    episodes: EPISODES,
    maxSteps: MAX_STEPS,
    bufferSize: 200,
    batchSize: 8,
    actorHidden: [8],
    criticHidden: [8],
    testEpisodes: 1,
    checkpointEvery: 0,
    ...extra,
  };
}

const root = await Deno.makeTempDir({ prefix: "maddpg-mpe-training-" });
globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
let runs = 0;

/** Trains `config` into a new directory under `root`; its directory and summary. */
async function trainTiny(
  config: TrainConfig,
  threads: LearnerThreads = 0,
): Promise<{ dir: string; summary: TrainSummary }> {
  const dir = `${root}/${config.env}-${config.algo}-${runs++}`;
  const summary = await train(config, { outDir: dir, threads });
  return { dir, summary };
}

/** Checks a finished smoke run's files: rows, finite losses, the greedy test's measures. */
async function checkRun(
  config: TrainConfig,
  dir: string,
  summary: TrainSummary,
  what: string,
): Promise<void> {
  const lines = (await Deno.readTextFile(`${dir}/metrics.csv`)).split("\n");
  assert.equal(lines.pop(), "", `${what}: metrics.csv ends with a newline`);
  assert.equal(lines.length, EPISODES + 1, `${what}: header + ${EPISODES} rows`);
  const header = lines[0].split(",");
  assert.equal(new Set(header).size, header.length, `${what}: no column repeats`);
  const rows = lines.slice(1).map((line) => line.split(","));
  for (const row of rows) {
    assert.equal(row.length, header.length, `${what}: ${row.join(",")}`);
    for (const [k, cell] of row.entries()) {
      assert.ok(Number.isFinite(Number(cell)), `${what}: ${header[k]} = ${cell}`);
    }
  }
  assert.deepEqual(rows.map((r) => Number(r[header.indexOf("steps")])), [MAX_STEPS, MAX_STEPS]);
  // Updates start once the buffer holds more than a batch: the second episode trains.
  const critic = header.flatMap((name, k) => (name.startsWith("critic_loss_") ? [k] : []));
  assert.ok(critic.length > 0, `${what}: per-agent critic losses`);
  for (const k of critic) {
    const loss = Number(rows[1][k]);
    assert.ok(loss > 0, `${what}: episode 2 ${header[k]} = ${rows[1][k]}`);
  }
  const finite = (value: unknown) => typeof value === "number" && Number.isFinite(value);
  assert.ok(finite(summary.final50.criticLoss), `${what}: final50.criticLoss`);
  assert.ok(finite(summary.final50.actorLoss), `${what}: final50.actorLoss`);
  const written: TrainSummary = JSON.parse(await Deno.readTextFile(`${dir}/summary.json`));
  assert.equal(written.episodes, EPISODES);
  assert.equal(written.totalSteps, EPISODES * MAX_STEPS);
  assert.ok(written.updateRounds > 0, `${what}: update rounds ran`);
  const measures = written.test.greedy.measures;
  const expected = measureNames(makeEnv(config.env, config.envOptions));
  assert.ok(expected.length > 0, `${what}: the scenario has measures`);
  assert.ok(measures, `${what}: summary.json test.greedy.measures`);
  assert.deepEqual(Object.keys(measures), expected, `${what}: measure names`);
  for (const [name, value] of Object.entries(measures)) {
    assert.ok(finite(value), `${what}: measure ${name} = ${value}`);
  }
}

for (const env of MPE) {
  for (const type of ACTION_TYPES) {
    const algos = Object.values(ALGORITHMS)
      .filter((spec) => spec.supports[type])
      .map((spec) => spec.name);
    Deno.test(`${env} (${type}): ${algos.join(", ")} train 2 tiny episodes`, async () => {
      for (const algo of algos) {
        const config = tiny(env, type, algo);
        const kinds = makeEnv(env, config.envOptions).actionSpaces.map((space) => space.kind);
        assert.ok(kinds.every((kind) => kind === (type === "discrete" ? "discrete" : "box")));
        const { dir, summary } = await trainTiny(config);
        await checkRun(config, dir, summary, `${env} ${type} ${algo}`);
      }
    });
  }
}

Deno.test("notebook refuses continuous actions, naming the algorithm and the agent", async () => {
  const config = tiny("simple_spread_v3", "continuous", "notebook");
  const dir = `${root}/refused`;
  await assert.rejects(
    () => train(config, { outDir: dir, threads: 0 }),
    (error: Error) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.equal(
        error.message,
        "--algo notebook does not support continuous actions (simple_spread_v3: agent_0)",
      );
      return true;
    },
  );
  await assert.rejects(() => Deno.stat(`${dir}/metrics.csv`), Deno.errors.NotFound);
});

/** One scenario per action type for the determinism checks (two agents: two workers). */
const DETERMINISM: [string, ActionType, AlgorithmName][] = [
  ["simple_push_v3", "discrete", "maddpg"],
  ["simple_speaker_listener_v4", "continuous", "matd3"],
];

for (const [env, type, algo] of DETERMINISM) {
  Deno.test(`${env} (${type}, ${algo}): the same seed twice, and threads 1 and 2, give byte-identical metrics.csv`, async () => {
    const config = tiny(env, type, algo, { seed: 11 });
    const metrics = async (threads: LearnerThreads) => {
      const { dir, summary } = await trainTiny(config, threads);
      await checkRun(config, dir, summary, `${env} ${type} ${algo} threads ${threads}`);
      const { runtime } = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
      assert.equal(runtime.learnerThreads, threads);
      return await Deno.readFile(`${dir}/metrics.csv`);
    };
    const first = await metrics(0);
    assert.deepEqual(await metrics(0), first, "the same seed again");
    assert.deepEqual(await metrics(1), first, "threads: 1");
    assert.deepEqual(await metrics(2), first, "threads: 2");
    const other = await trainTiny({ ...config, seed: 12 });
    assert.notDeepEqual(await Deno.readFile(`${other.dir}/metrics.csv`), first, "another seed");
  });
}

Deno.test("threads 1: a helper thread shares the rows of products at the paper's sizes, and metrics.csv stays byte-identical", async () => {
  // Batch 512 and 64 hidden units: most products are above SPLIT_MIN_MULTIPLY_ADDS.
  const config = tiny("simple_spread_v3", "continuous", "maddpg", {
    seed: 9,
    episodes: 70,
    bufferSize: 1000,
    batchSize: 512,
    updateEvery: 50,
    actorHidden: [64, 64],
    criticHidden: [64, 64],
  });
  const metrics = async (threads: LearnerThreads) => {
    const { dir, summary } = await trainTiny(config, threads);
    assert.equal(summary.totalSteps, 70 * MAX_STEPS);
    assert.ok(summary.updateRounds >= 2, `${summary.updateRounds} update rounds`);
    assert.ok(Number.isFinite(summary.final50.criticLoss) && summary.final50.criticLoss > 0);
    const { runtime } = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    assert.equal(runtime.learnerThreads, threads);
    return await Deno.readFile(`${dir}/metrics.csv`);
  };
  assert.deepEqual(await metrics(1), await metrics(0));
});

Deno.test("--fused-multiply-add: threads 0, 1 and 2 give byte-identical metrics.csv, unlike the exact products where the machine fuses", async () => {
  const config = tiny("simple_push_v3", "discrete", "maddpg", { seed: 4, fusedMultiplyAdd: true });
  const metrics = async (threads: LearnerThreads, overrides: Partial<TrainConfig> = {}) => {
    const { dir, summary } = await trainTiny({ ...config, ...overrides }, threads);
    await checkRun(config, dir, summary, `fused multiply-adds, threads ${threads}`);
    const record = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    assert.equal(record.config.fusedMultiplyAdd, overrides.fusedMultiplyAdd ?? true);
    assert.equal(record.runtime.fusedMultiplyAdds, fusesMultiplyAdds(), "whether they fuse here");
    return await Deno.readFile(`${dir}/metrics.csv`);
  };
  const fused = await metrics(0);
  assert.deepEqual(await metrics(0), fused, "the same seed again");
  assert.deepEqual(await metrics(1), fused, "threads: 1");
  assert.deepEqual(await metrics(2), fused, "threads: 2 (a worker per agent)");
  const exact = await metrics(0, { fusedMultiplyAdd: false });
  if (fusesMultiplyAdds()) assert.notDeepEqual(exact, fused, "the exact products");
  else assert.deepEqual(exact, fused, "a machine that does not fuse");
});

Deno.test("--batch-per-agent: threads 0 and 2 give byte-identical metrics.csv, unlike one shared batch", async () => {
  const config = tiny("simple_spread_v3", "continuous", "maddpg", { seed: 5, batchPerAgent: true });
  const metrics = async (threads: LearnerThreads) => {
    const { dir, summary } = await trainTiny(config, threads);
    await checkRun(config, dir, summary, `batch per agent, threads ${threads}`);
    return await Deno.readFile(`${dir}/metrics.csv`);
  };
  const inline = await metrics(0);
  assert.deepEqual(await metrics(2), inline, "threads: 2 (a worker per agent)");
  const shared = await trainTiny({ ...config, batchPerAgent: false });
  assert.notDeepEqual(await Deno.readFile(`${shared.dir}/metrics.csv`), inline);
});

Deno.test("--share-actors: predators share an actor, reruns are byte-identical, and it changes what is learned", async () => {
  const config = tiny("simple_tag_v3", "continuous", "maddpg", {
    seed: 3,
    shareActors: true,
    adversaryAlgo: "ddpg",
  });
  const metrics = async (overrides: Partial<TrainConfig>) => {
    const { dir, summary } = await trainTiny({ ...config, ...overrides }, "auto");
    await checkRun(config, dir, summary, `share actors ${JSON.stringify(overrides)}`);
    const { runtime } = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    const threads = learnerThreads("auto", {
      agents: 4,
      cores: navigator.hardwareConcurrency,
      shareActors: true,
    });
    assert.equal(runtime.learnerThreads, threads, "no worker per agent for shared actors");
    assert.notEqual(threads, 2);
    return await Deno.readFile(`${dir}/metrics.csv`);
  };
  const shared = await metrics({});
  assert.deepEqual(await metrics({}), shared, "the same seed again");
  assert.notDeepEqual(await metrics({ shareActors: false }), shared, "actors of their own");
  const shapes = makeEnv("simple_tag_v3", config.envOptions);
  const learner = new GumbelMaddpg(
    gumbelOptions("maddpg", agentShapes(shapes), config),
    new Pcg32(1),
  );
  assert.deepEqual(learner.actorOwner, [0, 0, 0, 3], "three predators (DDPG) share; the prey not");
  learner.dispose();
});

Deno.test("--action-noise-after-warmup: the noise holds through the warm-up, then decays", async () => {
  const noise = {
    epsilonStart: 0, // no random actions: every action is the actor's plus the noise
    epsilonEnd: 0,
    actionNoise: 0.3,
    actionNoiseEnd: 0.01,
    actionNoiseDecay: 10,
  };
  const metrics = async (overrides: Partial<TrainConfig>) => {
    const config = tiny("simple_spread_v3", "continuous", "maddpg", { ...noise, ...overrides });
    const { dir, summary } = await trainTiny(config);
    await checkRun(config, dir, summary, JSON.stringify(overrides));
    return await Deno.readFile(`${dir}/metrics.csv`);
  };
  const after = { actionNoiseAfterWarmup: true };
  // Without a warm-up the two schedules are one; with one, they differ.
  assert.deepEqual(await metrics({ ...after, warmupSteps: 0 }), await metrics({ warmupSteps: 0 }));
  assert.notDeepEqual(
    await metrics({ ...after, warmupSteps: 5 }),
    await metrics({ warmupSteps: 5 }),
  );
});

Deno.test("--lr-decay-updates: threads 0 and 2 give byte-identical metrics.csv, unlike a constant rate", async () => {
  const config = tiny("simple_spread_v3", "continuous", "matd3", {
    seed: 3,
    lrDecayUpdates: 4,
    lrEndFactor: 0.25,
  });
  const metrics = async (threads: LearnerThreads) => {
    const { dir, summary } = await trainTiny(config, threads);
    await checkRun(config, dir, summary, `lr decay, threads ${threads}`);
    return await Deno.readFile(`${dir}/metrics.csv`);
  };
  const inline = await metrics(0);
  assert.deepEqual(await metrics(2), inline, "threads: 2 (a worker per agent)");
  const constant = await trainTiny({ ...config, lrDecayUpdates: 0 });
  assert.notDeepEqual(await Deno.readFile(`${constant.dir}/metrics.csv`), inline);
  // Every optimizer carries the schedule: MATD3's critics step every round, its actors every
  // second one, each at its own count.
  const algorithm = new GumbelMaddpg(
    gumbelOptions("matd3", [{ observationSize: 2, actionKind: "discrete", actionSize: 2 }], config),
    new Pcg32(1),
  );
  for (const adam of [algorithm.actorOptimizers[0], algorithm.criticOptimizers2[0]]) {
    assert.deepEqual([adam.lrDecaySteps, adam.lrEndFactor], [4, 0.25]);
  }
  algorithm.dispose();
});

for (const type of ACTION_TYPES) {
  Deno.test(`simple_tag_v3 (${type}): maddpg with --adversary-algo ddpg trains`, async () => {
    const config = tiny("simple_tag_v3", type, "maddpg", { adversaryAlgo: "ddpg" });
    const { dir, summary } = await trainTiny(config);
    await checkRun(config, dir, summary, `simple_tag_v3 ${type} team`);
    const { config: saved } = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    assert.equal(saved.adversaryAlgo, "ddpg");
    // The same seed without the team trains differently: the adversaries' critics differ.
    const same = await trainTiny({ ...config, adversaryAlgo: "same" });
    assert.notDeepEqual(
      await Deno.readFile(`${same.dir}/metrics.csv`),
      await Deno.readFile(`${dir}/metrics.csv`),
    );
  });
}

/** Layer sizes of a saved network, from its model.json's weights manifest. */
async function savedSizes(dir: string): Promise<number[]> {
  const model = JSON.parse(await Deno.readTextFile(`${dir}/model.json`));
  const weights: { shape: number[] }[] = model.weightsManifest[0].weights;
  const kernels = weights.filter((w) => w.shape.length === 2);
  return [kernels[0].shape[0], ...kernels.map((w) => w.shape[1])];
}

for (const algo of ["notebook", "maddpg"] as const) {
  Deno.test(`simple_speaker_listener_v4 (${algo}): each agent's actor has its own sizes`, async () => {
    const config = tiny("simple_speaker_listener_v4", "discrete", algo, { actorHidden: [6, 4] });
    const { dir } = await trainTiny(config);
    // speaker_0: obs 3, Discrete(3); listener_0: obs 11, Discrete(5).
    assert.deepEqual(await savedSizes(`${dir}/checkpoint/agent_0/actor`), [3, 6, 4, 3]);
    assert.deepEqual(await savedSizes(`${dir}/checkpoint/agent_1/actor`), [11, 6, 4, 5]);
  });
}
