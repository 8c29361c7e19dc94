import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../lib/backend.ts";
import { InlineLearner } from "../lib/agent/learner.ts";
import { argmax, MADDPGAgentManager, sampleCategorical } from "../lib/agent/maddpg.ts";
import type { MaddpgOptions } from "../lib/agent/maddpg.ts";
import { ParallelLearner } from "../lib/agent/parallel.ts";
import { createAgents, maddpgOptions } from "../lib/agent/algorithms.ts";
import { DEFAULT_TRAIN_CONFIG } from "../lib/config.ts";
import { allocateBatch } from "../lib/replay_buffer.ts";
import type { Batch } from "../lib/replay_buffer.ts";
import { Pcg32 } from "../lib/rng.ts";
import { assertAllClose, finiteDifferences, forward64, logSoftmax } from "./_reference.ts";

await initBackend();

const TINY: MaddpgOptions = {
  numAgents: 2,
  observationDim: 3,
  actionDim: 3,
  actorHidden: [5, 4],
  criticHidden: [6, 5],
  gamma: 0.9,
  tau: 0.1,
};

function randomBatch(rows: number, options: MaddpgOptions, rng: Pcg32): Batch {
  const batch = allocateBatch(rows, options.numAgents, options.observationDim);
  for (let k = 0; k < batch.observations.length; k++) {
    batch.observations[k] = rng.nextFloat();
    batch.nextObservations[k] = rng.nextFloat();
  }
  for (let k = 0; k < batch.actions.length; k++) batch.actions[k] = rng.nextInt(options.actionDim);
  for (let b = 0; b < rows; b++) {
    const r = rng.uniform(-2, 1);
    batch.rewards[b * 2] = r;
    batch.rewards[b * 2 + 1] = r;
    batch.dones[b] = b % 3 === 0 ? 1 : 0;
  }
  return batch;
}

function oneHot(action: number, n: number): number[] {
  return Array.from({ length: n }, (_, k) => (k === action ? 1 : 0));
}

/** Critic input of row b: all observations then one-hot actions (float64). */
function criticRow(obs: ArrayLike<number>, actions: number[], n: number): number[] {
  return [...Array.from(obs), ...actions.flatMap((a) => oneHot(a, n))];
}

Deno.test("criticGradient() matches an independent float64 computation of the notebook's critic loss", () => {
  const rng = new Pcg32(11);
  const manager = new MADDPGAgentManager(TINY, rng);
  // Make targets differ from the online networks.
  for (const net of [...manager.targetActors, ...manager.targetCritics]) {
    for (let k = 0; k < net.size; k++) net.params[k] += rng.uniform(-0.1, 0.1);
    net.touch();
  }
  const rows = 6, { observationDim: o, actionDim: n } = TINY;
  const batch = randomBatch(rows, TINY, rng);
  const round = manager.beginRound(batch, manager.drawUniforms(rows, rng));
  for (const agent of [0, 1]) {
    const grads = new Float32Array(manager.critics[agent].size);
    const loss = manager.criticGradient(round, agent, grads);
    // y = r_i + γ (1 − d) Q'_i(x', onehot(argmax μ'_j(o'_j))), then MSE.
    const targets: number[] = [];
    const inputs: number[][] = [];
    for (let b = 0; b < rows; b++) {
      const next = batch.nextObservations.subarray(b * 2 * o, (b + 1) * 2 * o);
      const nextActions = [0, 1].map((j) =>
        argmax(
          forward64(
            manager.targetActors[j].sizes,
            manager.targetActors[j].params,
            next.subarray(j * o, (j + 1) * o),
          ),
        )
      );
      const nextQ = forward64(
        manager.targetCritics[agent].sizes,
        manager.targetCritics[agent].params,
        criticRow(next, nextActions, n),
      )[0];
      targets.push(batch.rewards[b * 2 + agent] + 0.9 * (1 - batch.dones[b]) * nextQ);
      inputs.push(
        criticRow(batch.observations.subarray(b * 2 * o, (b + 1) * 2 * o), [
          batch.actions[b * 2],
          batch.actions[b * 2 + 1],
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

Deno.test("actorGradient() matches the notebook's broadcast loss −mean over [B, B] of log π · Q", () => {
  const rng = new Pcg32(12);
  const manager = new MADDPGAgentManager(TINY, rng);
  const rows = 5, { observationDim: o, actionDim: n } = TINY;
  const batch = randomBatch(rows, TINY, rng);
  const uniforms = manager.drawUniforms(rows, rng);
  const round = manager.beginRound(batch, uniforms);
  for (const agent of [0, 1]) {
    const prepared = manager.prepareActor(round, agent);
    const { loss, grads } = manager.actorGradient(round, prepared);
    // Independent: sample every agent's actions from float64 logits with the same uniforms.
    const obsOf = (b: number, j: number) =>
      batch.observations.subarray(b * 2 * o + j * o, b * 2 * o + (j + 1) * o);
    const actions = Array.from({ length: rows }, (_, b) =>
      [0, 1].map((j) => {
        const logits = forward64(manager.actors[j].sizes, manager.actors[j].params, obsOf(b, j));
        return sampleCategorical(logits, uniforms[(agent * 2 + j) * rows + b]);
      }));
    const q = actions.map((a, b) =>
      forward64(
        manager.critics[agent].sizes,
        manager.critics[agent].params,
        criticRow(batch.observations.subarray(b * 2 * o, (b + 1) * 2 * o), a, n),
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
  const manager = new MADDPGAgentManager(TINY, rng);
  const targetsBefore = [...manager.targetActors, ...manager.targetCritics].map((net) =>
    net.params.slice()
  );
  manager.update(randomBatch(4, TINY, rng), rng);
  const online = [...manager.actors, ...manager.critics];
  [...manager.targetActors, ...manager.targetCritics].forEach((target, k) => {
    const expected = targetsBefore[k].map((t, i) => 0.1 * online[k].params[i] + 0.9 * t);
    assertAllClose(target.params, expected, 1e-6, 1e-7);
  });
  manager.dispose();
});

for (const algo of ["notebook", "maddpg", "matd3", "iddpg"] as const) {
  Deno.test(`ParallelLearner gives bit-identical states and losses to InlineLearner (${algo})`, async () => {
    const config = { ...DEFAULT_TRAIN_CONFIG, algo };
    const shape = { numAgents: 2, observationDim: 6, actionDim: 4 };
    const options = maddpgOptions(config, shape);
    const inlineCore = createAgents(config, options, new Pcg32(21));
    const inline = new InlineLearner(inlineCore);
    const parallel = await ParallelLearner.start(
      createAgents(config, options, new Pcg32(21)),
      config,
      shape,
    );
    const rng = new Pcg32(22);
    for (let round = 0; round < 6; round++) {
      const batch = randomBatch(64, options, rng);
      const uniforms = inlineCore.drawUniforms(64, rng);
      inline.submit(batch, uniforms);
      parallel.submit(batch, uniforms);
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
  const options: MaddpgOptions = { numAgents: 2, observationDim: 6, actionDim: 4 };
  const rng = new Pcg32(31);
  const manager = new MADDPGAgentManager(options, rng);
  const batch = randomBatch(32, options, rng);
  for (let k = 0; k < 50; k++) manager.update(batch, rng);
  const after50 = tf.memory().numTensors;
  for (let k = 50; k < 500; k++) manager.update(batch, rng);
  assert.equal(tf.memory().numTensors, after50);
  manager.dispose();
});
