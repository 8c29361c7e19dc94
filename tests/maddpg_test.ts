import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../lib/backend.ts";
import { InlineLearner } from "../lib/agent/learner.ts";
import { NotebookMaddpg } from "../lib/agent/notebook.ts";
import type { NotebookOptions } from "../lib/agent/notebook.ts";
import type { AgentShape } from "../lib/agent/algorithm.ts";
import { ParallelLearner } from "../lib/agent/parallel.ts";
import { createAlgorithm } from "../lib/agent/catalogue.ts";
import { DEFAULT_TRAIN_CONFIG } from "../lib/config.ts";
import { allocateBatch } from "../lib/replay_buffer.ts";
import type { Batch } from "../lib/replay_buffer.ts";
import { Pcg32 } from "../lib/rng.ts";
import { epsilonAt } from "../lib/train/exploration.ts";
import { epsilonAt as trainerEpsilonAt } from "../lib/trainer.ts";
import {
  assertAllClose,
  finiteDifferences,
  forward64,
  logSoftmax,
  referenceCategorical,
} from "./_reference.ts";

await initBackend();

const SHAPE_3: AgentShape = { observationSize: 3, actionKind: "discrete", actionSize: 3 };
const SHAPE_6: AgentShape = { observationSize: 6, actionKind: "discrete", actionSize: 4 };

const TINY: NotebookOptions = {
  agents: [SHAPE_3, SHAPE_3],
  actorHidden: [5, 4],
  criticHidden: [6, 5],
  gamma: 0.9,
  tau: 0.1,
};

/**
 * A random batch for agents of one size, drawn in the order of the former joint layout
 * (`[B, N, O]` observations interleaved with the next ones, then `[B, N]` actions, then
 * rewards). Row b terminates every agent when b % 3 = 0 and agent 1 alone when b % 3 = 2;
 * rows with b % 3 = 1 are truncated only, which must not stop the bootstrap.
 */
function randomBatch(rows: number, options: { agents: readonly AgentShape[] }, rng: Pcg32): Batch {
  const n = options.agents.length;
  const { observationSize: o, actionSize } = options.agents[0];
  const batch = allocateBatch(rows, {
    observationSizes: options.agents.map((a) => a.observationSize),
    actionSizes: options.agents.map(() => 1),
  });
  for (let k = 0; k < rows * n * o; k++) {
    const b = Math.floor(k / (n * o)), j = Math.floor(k / o) % n, d = k % o;
    batch.observations[j][b * o + d] = rng.nextFloat();
    batch.nextObservations[j][b * o + d] = rng.nextFloat();
  }
  for (let k = 0; k < rows * n; k++) {
    batch.actions[k % n][Math.floor(k / n)] = rng.nextInt(actionSize);
  }
  for (let b = 0; b < rows; b++) {
    const r = rng.uniform(-2, 1);
    for (let i = 0; i < n; i++) {
      batch.rewards[b * n + i] = r;
      batch.terminations[b * n + i] = b % 3 === 0 || (b % 3 === 2 && i === 1) ? 1 : 0;
      batch.truncations[b * n + i] = b % 3 === 1 ? 1 : 0;
    }
  }
  return batch;
}

function oneHot(action: number, n: number): number[] {
  return Array.from({ length: n }, (_, k) => (k === action ? 1 : 0));
}

/** Critic input of a row: all observations then one-hot actions (float64). */
function criticRow(obs: readonly ArrayLike<number>[], actions: number[], n: number): number[] {
  return [...obs.flatMap((o) => Array.from(o)), ...actions.flatMap((a) => oneHot(a, n))];
}

/** Agent j's observation (or next observation) at row b. */
const rowOf = (arrays: Float32Array[], b: number, j: number, o: number) =>
  arrays[j].subarray(b * o, (b + 1) * o);

Deno.test("criticGradient() matches an independent float64 computation of the notebook's critic loss", () => {
  const rng = new Pcg32(11);
  const manager = new NotebookMaddpg(TINY, rng);
  // Make targets differ from the online networks.
  for (const net of [...manager.targetActors, ...manager.targetCritics]) {
    for (let k = 0; k < net.size; k++) net.params[k] += rng.uniform(-0.1, 0.1);
    net.touch();
  }
  const rows = 6, o = 3, n = 3;
  const batch = randomBatch(rows, TINY, rng);
  const round = manager.beginRound(batch, manager.drawUniforms(rows, rng));
  for (const agent of [0, 1]) {
    const grads = new Float32Array(manager.critics[agent].size);
    const loss = manager.criticGradient(round, agent, grads);
    // y = r_i + γ (1 − term_i) Q'_i(x', onehot(argmax μ'_j(o'_j))), then MSE.
    const targets: number[] = [];
    const inputs: number[][] = [];
    for (let b = 0; b < rows; b++) {
      const next = [0, 1].map((j) => rowOf(batch.nextObservations, b, j, o));
      const nextActions = [0, 1].map((j) => {
        const z = forward64(
          manager.targetActors[j].sizes,
          manager.targetActors[j].params,
          next[j],
        );
        return z.indexOf(Math.max(...z)); // the first maximum, as torch.argmax
      });
      const nextQ = forward64(
        manager.targetCritics[agent].sizes,
        manager.targetCritics[agent].params,
        criticRow(next, nextActions, n),
      )[0];
      const term = batch.terminations[b * 2 + agent];
      targets.push(batch.rewards[b * 2 + agent] + 0.9 * (1 - term) * nextQ);
      inputs.push(
        criticRow([0, 1].map((j) => rowOf(batch.observations, b, j, o)), [
          batch.actions[0][b],
          batch.actions[1][b],
        ], n),
      );
    }
    const mse = (params: Float64Array) =>
      inputs.reduce(
        (s, x, b) => s + (forward64(manager.critics[agent].sizes, params, x)[0] - targets[b]) ** 2,
        0,
      ) / rows;
    assert.ok(Math.abs(loss - mse(Float64Array.from(manager.critics[agent].params))) < 1e-5);
    assertAllClose(grads, finiteDifferences(mse, manager.critics[agent].params), 1e-3, 1e-5);
  }
  manager.endRound(round);
  manager.dispose();
});

Deno.test("critic targets: a terminated row's target is its reward, a truncated row bootstraps", () => {
  const rng = new Pcg32(19);
  const manager = new NotebookMaddpg(TINY, rng);
  // Shift the target critics' output so that Q' is far from 0 and the bootstrap shows.
  for (const net of manager.targetCritics) {
    net.params[net.size - 1] += 1;
    net.touch();
  }
  const rows = 3, o = 3, n = 3;
  const batch = allocateBatch(rows, { observationSizes: [3, 3], actionSizes: [1, 1] });
  for (let j = 0; j < 2; j++) {
    for (let k = 0; k < rows * o; k++) {
      batch.observations[j][k] = rng.nextFloat();
      batch.nextObservations[j][k] = rng.nextFloat();
    }
    for (let b = 0; b < rows; b++) batch.actions[j][b] = (b + j) % n;
  }
  batch.rewards.set([0.5, -0.25, 1, 2, -1, 0.75]);
  // Row 0: both agents terminated. Row 1: both truncated only. Row 2: agent 1 terminated,
  // agent 0 truncated.
  batch.terminations.set([1, 1, 0, 0, 0, 1]);
  batch.truncations.set([0, 0, 1, 1, 1, 0]);
  const round = manager.beginRound(batch, manager.drawUniforms(rows, rng));
  try {
    for (const agent of [0, 1]) {
      const y = manager.criticTargets(round, agent);
      const nextQ = (b: number) => {
        const next = [0, 1].map((j) => rowOf(batch.nextObservations, b, j, o));
        const actions = [0, 1].map((j) => {
          const z = forward64(
            manager.targetActors[j].sizes,
            manager.targetActors[j].params,
            next[j],
          );
          return z.indexOf(Math.max(...z));
        });
        const { sizes, params } = manager.targetCritics[agent];
        return forward64(sizes, params, criticRow(next, actions, n))[0];
      };
      const reward = (b: number) => batch.rewards[b * 2 + agent];
      // Terminated: the reward alone, exactly.
      assert.equal(y[0], reward(0), `agent ${agent}, row 0`);
      // Truncated only: r + γ Q'(x', a'), and Q' matters.
      assert.ok(Math.abs(0.9 * nextQ(1)) > 0.1, `Q' = ${nextQ(1)}`);
      assert.ok(Math.abs(y[1] - (reward(1) + 0.9 * nextQ(1))) < 1e-5, `${y[1]}`);
      // Row 2 depends on the agent's own termination.
      const expected2 = agent === 1 ? reward(2) : reward(2) + 0.9 * nextQ(2);
      assert.ok(Math.abs(0.9 * nextQ(2)) > 0.1, `Q' = ${nextQ(2)}`);
      if (agent === 1) assert.equal(y[2], expected2, "terminated: the reward alone, exactly");
      assert.ok(
        Math.abs(y[2] - expected2) < 1e-5,
        `agent ${agent}, row 2: ${y[2]} vs ${expected2}`,
      );
      // criticGradient() regresses towards these targets.
      const grads = new Float32Array(manager.critics[agent].size);
      const loss = manager.criticGradient(round, agent, grads);
      const { sizes, params } = manager.critics[agent];
      const expectedLoss = [0, 1, 2].reduce((sum, b) => {
        const obs = [0, 1].map((j) => rowOf(batch.observations, b, j, o));
        const q = forward64(
          sizes,
          params,
          criticRow(obs, [0, 1].map((j) => batch.actions[j][b]), n),
        )[0];
        const target = b === 0 || (b === 2 && agent === 1) ? reward(b) : reward(b) + 0.9 * nextQ(b);
        return sum + (q - target) ** 2;
      }, 0) / rows;
      assert.ok(Math.abs(loss - expectedLoss) < 1e-5, `${loss} vs ${expectedLoss}`);
    }
  } finally {
    manager.endRound(round);
    manager.dispose();
  }
});

Deno.test("actorGradient() matches the notebook's broadcast loss −mean over [B, B] of log π · Q", () => {
  const rng = new Pcg32(12);
  const manager = new NotebookMaddpg(TINY, rng);
  const rows = 5, o = 3, n = 3;
  const batch = randomBatch(rows, TINY, rng);
  const uniforms = manager.drawUniforms(rows, rng);
  const round = manager.beginRound(batch, uniforms);
  for (const agent of [0, 1]) {
    const prepared = manager.prepareActor(round, agent);
    const { loss, grads } = manager.actorGradient(round, prepared);
    // Independent: sample every agent's actions from float64 logits with the same uniforms.
    const obsOf = (b: number, j: number) => rowOf(batch.observations, b, j, o);
    const actions = Array.from({ length: rows }, (_, b) =>
      [0, 1].map((j) => {
        const logits = forward64(manager.actors[j].sizes, manager.actors[j].params, obsOf(b, j));
        return referenceCategorical(logits, uniforms[(agent * 2 + j) * rows + b]);
      }));
    const q = actions.map((a, b) =>
      forward64(
        manager.critics[agent].sizes,
        manager.critics[agent].params,
        criticRow([obsOf(b, 0), obsOf(b, 1)], a, n),
      )[0]
    );
    // The notebook: (log_prob [B] * Q [B, 1]).mean() broadcasts to a [B, B] matrix.
    const notebookLoss = (params: Float64Array) => {
      let total = 0;
      for (let a = 0; a < rows; a++) {
        for (let b = 0; b < rows; b++) {
          total += logSoftmax(
            forward64(manager.actors[agent].sizes, params, obsOf(b, agent)),
            actions[b][agent],
          ) * q[a];
        }
      }
      return -total / (rows * rows);
    };
    assert.deepEqual(Array.from(prepared.actions), actions.map((a) => a[agent]));
    assert.ok(
      Math.abs(loss - notebookLoss(Float64Array.from(manager.actors[agent].params))) < 1e-5,
    );
    assertAllClose(
      grads,
      finiteDifferences(notebookLoss, manager.actors[agent].params),
      1e-3,
      1e-6,
    );
  }
  manager.endRound(round);
  manager.dispose();
});

Deno.test("update() soft-updates every target once, after all agents are updated", () => {
  const rng = new Pcg32(13);
  const manager = new NotebookMaddpg(TINY, rng);
  const targetsBefore = [...manager.targetActors, ...manager.targetCritics].map((net) =>
    net.params.slice()
  );
  const batch = randomBatch(4, TINY, rng);
  const losses = manager.update(batch, manager.drawUniforms(batch.size, rng));
  for (const loss of [...losses.critic, ...losses.actor]) assert.ok(Number.isFinite(loss));
  const online = [...manager.actors, ...manager.critics];
  [...manager.targetActors, ...manager.targetCritics].forEach((target, k) => {
    const expected = targetsBefore[k].map((t, i) => 0.1 * online[k].params[i] + 0.9 * t);
    assertAllClose(target.params, expected, 1e-6, 1e-7);
  });
  manager.dispose();
});

const PARALLEL_CASES = [
  ["notebook", 1],
  ["maddpg", 1],
  ["matd3", 1],
  ["iddpg", 1],
  ["matd3", 2], // a batch per agent (--batch-per-agent)
] as const;
for (const [algo, draws] of PARALLEL_CASES) {
  const what = draws === 1 ? algo : `${algo}, a batch per agent`;
  Deno.test(`ParallelLearner gives bit-identical states and losses to InlineLearner (${what})`, async () => {
    const config = { ...DEFAULT_TRAIN_CONFIG, algo };
    const agents = [SHAPE_6, SHAPE_6];
    const options = { agents };
    const inlineCore = createAlgorithm(config, agents, new Pcg32(21));
    const inline = new InlineLearner(inlineCore);
    const parallel = await ParallelLearner.start(
      createAlgorithm(config, agents, new Pcg32(21)),
      config,
      agents,
    );
    const rng = new Pcg32(22);
    for (let round = 0; round < 6; round++) {
      const batches = Array.from({ length: draws }, () => randomBatch(64, options, rng));
      const uniforms = batches.map(() => inlineCore.drawUniforms(64, rng));
      inline.submit(batches, uniforms);
      parallel.submit(batches, uniforms);
    }
    assert.deepEqual(await parallel.flush(), await inline.flush());
    const a = (await inline.collect()).getState(), b = (await parallel.collect()).getState();
    assert.deepEqual(Object.keys(b.nets).sort(), Object.keys(a.nets).sort());
    for (const name of Object.keys(a.nets)) assert.deepEqual(b.nets[name], a.nets[name], name);
    assert.deepEqual(b.optimizers, a.optimizers);
    assert.deepEqual(b.counters, a.counters);
    await inline.close();
    await parallel.close();
  });
}

Deno.test("update() frees every tensor: numTensors is the same after 50 and 500 rounds", () => {
  const options: NotebookOptions = { agents: [SHAPE_6, SHAPE_6] };
  const rng = new Pcg32(31);
  const manager = new NotebookMaddpg(options, rng);
  const batch = randomBatch(32, options, rng);
  for (let k = 0; k < 50; k++) manager.update(batch, manager.drawUniforms(32, rng));
  const after50 = tf.memory().numTensors;
  for (let k = 50; k < 500; k++) manager.update(batch, manager.drawUniforms(32, rng));
  assert.equal(tf.memory().numTensors, after50);
  manager.dispose();
});

Deno.test("epsilonAt() decays linearly per step from epsilonStart to the epsilonEnd floor", () => {
  assert.equal(trainerEpsilonAt, epsilonAt, "lib/trainer.ts re-exports the same function");
  // Values chosen so that the results at 0, 250, 500 and from 1000 on are exact in binary.
  const config = { ...DEFAULT_TRAIN_CONFIG, epsilonStart: 1, epsilonEnd: 0.25, epsilonDecay: 1000 };
  const at = (steps: number) => epsilonAt(config, steps);
  assert.equal(at(0), 1);
  const near = (actual: number, expected: number) =>
    assert.ok(Math.abs(actual - expected) < 1e-15, `${actual} vs ${expected}`);
  near(at(1), 0.99925);
  assert.equal(at(250), 0.8125);
  assert.equal(at(500), 0.625);
  near(at(999), 0.25075);
  assert.equal(at(1000), 0.25);
  assert.equal(at(1001), 0.25);
  assert.equal(at(1_000_000), 0.25);
  // The notebook's schedule: 1 → 0.05 over 50 000 steps (its 250-step progress line shows 0.995).
  const notebook = (steps: number) => epsilonAt(DEFAULT_TRAIN_CONFIG, steps);
  assert.equal(DEFAULT_TRAIN_CONFIG.epsilonDecay, 50_000);
  assert.equal(notebook(0), 1);
  near(notebook(250), 0.99525);
  near(notebook(25_000), 0.525);
  near(notebook(50_000), 0.05);
  assert.equal(notebook(50_001), 0.05);
  assert.equal(notebook(10 ** 9), 0.05);
  // A start equal to the floor stays there.
  assert.equal(epsilonAt({ ...config, epsilonStart: 0.25 }, 400), 0.25);
});
