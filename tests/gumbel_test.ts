import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../lib/backend.ts";
import { GumbelMADDPG } from "../lib/agent/gumbel_maddpg.ts";
import type { GumbelMaddpgOptions } from "../lib/agent/gumbel_maddpg.ts";
import { agentColumns, concatColumns, oneHotActions } from "../lib/agent/_inputs.ts";
import { gumbelSoftmax, gumbelSoftmaxBackward } from "../lib/nn/gumbel.ts";
import { allocateBatch } from "../lib/replay_buffer.ts";
import type { Batch } from "../lib/replay_buffer.ts";
import { Pcg32 } from "../lib/rng.ts";
import { assertAllClose, finiteDifferences, forward64 } from "./_reference.ts";

await initBackend();

const TINY = {
  numAgents: 2,
  observationDim: 3,
  actionDim: 3,
  actorHidden: [5, 4],
  criticHidden: [6, 5],
  gamma: 0.9,
  tau: 0.1,
} as const;

function randomBatch(rows: number, rng: Pcg32): Batch {
  const batch = allocateBatch(rows, 2, 3);
  for (let k = 0; k < batch.observations.length; k++) {
    batch.observations[k] = rng.nextFloat();
    batch.nextObservations[k] = rng.nextFloat();
  }
  for (let k = 0; k < batch.actions.length; k++) batch.actions[k] = rng.nextInt(3);
  for (let b = 0; b < rows; b++) {
    batch.rewards[2 * b] = batch.rewards[2 * b + 1] = rng.uniform(-1, 1);
    batch.dones[b] = b % 4 === 0 ? 1 : 0;
  }
  return batch;
}

function softmax(z: number[]): number[] {
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

Deno.test("gumbelSoftmax() hard samples follow softmax(logits) (Gumbel-max)", () => {
  const logits = [1.2, -0.3, 0.4, 0];
  const draws = 40_000;
  const rng = new Pcg32(5);
  const rows = new Float32Array(draws * 4);
  for (let b = 0; b < draws; b++) rows.set(logits, b * 4);
  const uniforms = Float64Array.from({ length: rows.length }, () => rng.nextFloat());
  // The temperature does not change the argmax, so any temperature samples softmax(z).
  const { sample } = gumbelSoftmax(rows, uniforms, 4, 0.5, true);
  const counts = [0, 0, 0, 0];
  for (let b = 0; b < draws; b++) {
    let ones = 0;
    for (let k = 0; k < 4; k++) {
      counts[k] += sample[b * 4 + k];
      ones += sample[b * 4 + k];
    }
    assert.equal(ones, 1, "one-hot");
  }
  const p = softmax(logits);
  counts.forEach((c, k) => {
    const sd = Math.sqrt(draws * p[k] * (1 - p[k]));
    assert.ok(Math.abs(c - draws * p[k]) < 4 * sd, `action ${k}: ${c} vs ${draws * p[k]}`);
  });
});

Deno.test("gumbelSoftmax() straight-through: one-hot forward, the soft sample's gradient backward", () => {
  const logits = Float32Array.of(0.5, -1, 2, 0.1, 0.2, 0.3);
  const uniforms = Float64Array.of(0.3, 0.8, 0.1, 0.5, 0.9, 0.2);
  const temperature = 0.7;
  const hard = gumbelSoftmax(logits, uniforms, 3, temperature, true);
  const soft = gumbelSoftmax(logits, uniforms, 3, temperature, false);
  assert.deepEqual(hard.soft, soft.sample);
  for (let b = 0; b < 2; b++) {
    const row = Array.from(hard.sample.subarray(b * 3, b * 3 + 3));
    assert.deepEqual(row.sort(), [0, 0, 1]);
  }
  // Backward vs finite differences of Σ w · soft(z).
  const w = [0.3, -1.2, 0.8, 1, 0.5, -0.4];
  const grad = gumbelSoftmaxBackward(hard.soft, w, 3, temperature);
  const fd = finiteDifferences(
    (z) =>
      gumbelSoftmax(z, uniforms, 3, temperature, false).sample.reduce((s, v, k) => s + v * w[k], 0),
    logits,
    1e-3,
  );
  assertAllClose(grad, fd, 2e-3, 1e-4);
});

Deno.test("GumbelMADDPG (matd3) targets take the minimum of the twin target critics", () => {
  const rng = new Pcg32(7);
  const agents = new GumbelMADDPG({ ...TINY, variant: "matd3" }, rng);
  // Make the twins disagree.
  for (const net of agents.targetCritics2) {
    for (let k = 0; k < net.size; k++) net.params[k] += rng.uniform(-0.5, 0.5);
    net.touch();
  }
  const rows = 6;
  const batch = randomBatch(rows, rng);
  const inputData = Float32Array.from(
    { length: rows * agents.criticInputDim },
    () => rng.nextFloat(),
  );
  const input = tf.tensor2d(inputData, [rows, agents.criticInputDim]);
  const rowOf = (b: number) =>
    inputData.subarray(b * agents.criticInputDim, (b + 1) * agents.criticInputDim);
  // Shift each second twin's output bias so the twins cross: each is the minimum somewhere.
  for (const agent of [0, 1]) {
    const [one, two] = [agents.targetCritics[agent], agents.targetCritics2[agent]];
    const gaps = Array.from(
      { length: rows },
      (_, b) =>
        forward64(one.sizes, one.params, rowOf(b))[0] -
        forward64(two.sizes, two.params, rowOf(b))[0],
    ).sort((x, y) => x - y);
    two.params[two.size - 1] += (gaps[2] + gaps[3]) / 2;
    two.touch();
  }
  let firstSmaller = 0, secondSmaller = 0;
  for (const agent of [0, 1]) {
    const y = agents.targetValues(agent, batch, input);
    for (let b = 0; b < rows; b++) {
      const x = inputData.subarray(b * agents.criticInputDim, (b + 1) * agents.criticInputDim);
      const q1 =
        forward64(agents.targetCritics[agent].sizes, agents.targetCritics[agent].params, x)[0];
      const q2 =
        forward64(agents.targetCritics2[agent].sizes, agents.targetCritics2[agent].params, x)[0];
      if (q1 < q2) firstSmaller++;
      else secondSmaller++;
      const expected = batch.rewards[2 * b + agent] + 0.9 * (1 - batch.dones[b]) * Math.min(q1, q2);
      assert.ok(Math.abs(y[b] - expected) < 1e-5, `${y[b]} vs ${expected}`);
    }
  }
  assert.ok(firstSmaller > 0 && secondSmaller > 0, "both twins were the minimum somewhere");
  input.dispose();
  agents.dispose();
});

Deno.test("GumbelMADDPG (matd3) updates actors and targets every policyDelay critic updates", () => {
  const rng = new Pcg32(8);
  const agents = new GumbelMADDPG({ ...TINY, variant: "matd3", policyDelay: 3 }, rng);
  const batch = randomBatch(8, rng);
  const snapshot = () =>
    [...agents.actors, ...agents.targetActors, ...agents.targetCritics].map((n) =>
      n.params.slice()
    );
  for (let round = 1; round <= 6; round++) {
    const before = snapshot();
    const critic = agents.critics[0].params.slice();
    agents.update(batch, rng);
    assert.notDeepEqual(agents.critics[0].params, critic, "critics learn every round");
    const changed = snapshot().map((p, k) => p.some((v, i) => v !== before[k][i]));
    assert.deepEqual(changed, new Array(changed.length).fill(round % 3 === 0), `round ${round}`);
  }
  assert.equal(agents.rounds, 6);
  agents.dispose();
});

Deno.test("GumbelMADDPG (iddpg) critics take only their own agent's observation and action", () => {
  const iddpg = new GumbelMADDPG({ ...TINY, variant: "iddpg" }, new Pcg32(9));
  assert.equal(iddpg.criticInputDim, 3 + 3);
  assert.equal(iddpg.critics[0].sizes[0], 6);
  const maddpg = new GumbelMADDPG({ ...TINY, variant: "maddpg" }, new Pcg32(9));
  assert.equal(maddpg.criticInputDim, 2 * (3 + 3));
  iddpg.update(randomBatch(5, new Pcg32(1)), new Pcg32(2));
  iddpg.dispose();
  maddpg.dispose();
});

Deno.test("GumbelMADDPG.actorGradient() matches finite differences through the critic", () => {
  for (const variant of ["maddpg", "iddpg"] as const) {
    const options: GumbelMaddpgOptions = {
      ...TINY,
      variant,
      temperature: 0.8,
      logitsRegularization: 0.05,
    };
    const rng = new Pcg32(10);
    const agents = new GumbelMADDPG(options, rng);
    const rows = 5, o = 3, a = 3, n = 2;
    const batch = randomBatch(rows, rng);
    const observations = agentColumns(batch.observations, rows, n, o);
    const bufferActions = oneHotActions(batch.actions, rows, n, a);
    const noise = Float64Array.from({ length: rows * a }, () => rng.nextFloat());
    for (const agent of [0, 1]) {
      const obsTensor = tf.tensor2d(observations[agent], [rows, o]);
      const { loss, grads } = agents.actorGradient(
        agent,
        obsTensor,
        bufferActions,
        observations[agent],
        batch.observations,
        noise,
      );
      obsTensor.dispose();
      // Independent: −mean_b Q_i(x_b, a_b with a_i = softGumbel(actor(o_i))) + c · mean(z²).
      const actorLoss = (params: Float64Array) => {
        let q = 0, squares = 0;
        for (let b = 0; b < rows; b++) {
          const z = forward64(
            agents.actors[agent].sizes,
            params,
            observations[agent].subarray(b * o, (b + 1) * o),
          );
          for (const v of z) squares += v * v;
          const y =
            gumbelSoftmax(Float64Array.from(z), noise.subarray(b * a, (b + 1) * a), a, 0.8, false)
              .sample;
          let input: number[];
          if (variant === "maddpg") {
            const acts = Array.from(bufferActions.subarray(b * n * a, (b + 1) * n * a));
            for (let k = 0; k < a; k++) acts[agent * a + k] = y[k];
            input = [...batch.observations.subarray(b * n * o, (b + 1) * n * o), ...acts];
          } else {
            input = [...observations[agent].subarray(b * o, (b + 1) * o), ...y];
          }
          q += forward64(agents.critics[agent].sizes, agents.critics[agent].params, input)[0];
        }
        return -q / rows + 0.05 * squares / (rows * a);
      };
      assert.ok(
        Math.abs(loss - actorLoss(Float64Array.from(agents.actors[agent].params))) < 1e-4,
        variant,
      );
      assertAllClose(
        grads,
        finiteDifferences(actorLoss, agents.actors[agent].params, 1e-4),
        5e-3,
        1e-5,
      );
    }
    agents.dispose();
  }
});

Deno.test("concatColumns() lays observations then actions out row by row", () => {
  const t = concatColumns(Float32Array.of(1, 2, 3, 4), 2, Float32Array.of(9, 8), 1, 2);
  assert.deepEqual(Array.from(t.dataSync()), [1, 2, 9, 3, 4, 8]);
  t.dispose();
});

Deno.test("GumbelMADDPG frees every tensor: numTensors is the same after 50 and 500 rounds", () => {
  for (const variant of ["matd3", "iddpg"] as const) {
    const rng = new Pcg32(30);
    const agents = new GumbelMADDPG({ ...TINY, variant }, rng);
    const batch = randomBatch(16, rng);
    for (let k = 0; k < 50; k++) agents.update(batch, rng);
    const after50 = tf.memory().numTensors;
    for (let k = 50; k < 500; k++) agents.update(batch, rng);
    assert.equal(tf.memory().numTensors, after50, variant);
    agents.dispose();
  }
});
