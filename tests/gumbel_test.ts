import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../lib/backend.ts";
import { GumbelMaddpg, smoothLogits } from "../lib/agent/gumbel_learner.ts";
import type { GumbelOptions, GumbelRound } from "../lib/agent/gumbel_learner.ts";
import type { AgentShape } from "../lib/agent/algorithm.ts";
import type { Adam } from "../lib/nn/adam.ts";
import type { Mlp } from "../lib/nn/mlp.ts";
import { concatRows, concatTensor, oneHot, withColumns } from "../lib/agent/_inputs.ts";
import { gumbelSoftmax, gumbelSoftmaxBackward } from "../lib/nn/gumbel.ts";
import { allocateBatch } from "../lib/replay_buffer.ts";
import type { Batch } from "../lib/replay_buffer.ts";
import { Pcg32 } from "../lib/rng.ts";
import {
  adamStep64,
  assertAllClose,
  clipGradNorm64,
  finiteDifferences,
  forward64,
  referenceGumbelSoftmax,
} from "./_reference.ts";

await initBackend();

const SHAPE: AgentShape = { observationSize: 3, actionKind: "discrete", actionSize: 3 };

const TINY = {
  agents: [SHAPE, SHAPE],
  actorHidden: [5, 4],
  criticHidden: [6, 5],
  gamma: 0.9,
  tau: 0.1,
} as const;

/**
 * A random batch of two agents (3 observations, 3 actions), drawn in the order of the former
 * joint layout (`[B, 2, 3]` observations interleaved with the next ones, then `[B, 2]`
 * actions, then rewards). Row b terminates both agents when b % 4 = 0 and agent 1 alone
 * when b % 4 = 2; rows with b % 4 = 1 are truncated only, which must not stop the bootstrap.
 */
function randomBatch(rows: number, rng: Pcg32): Batch {
  const batch = allocateBatch(rows, { observationSizes: [3, 3], actionSizes: [1, 1] });
  for (let k = 0; k < rows * 2 * 3; k++) {
    const b = Math.floor(k / 6), j = Math.floor(k / 3) % 2, d = k % 3;
    batch.observations[j][b * 3 + d] = rng.nextFloat();
    batch.nextObservations[j][b * 3 + d] = rng.nextFloat();
  }
  for (let k = 0; k < rows * 2; k++) batch.actions[k % 2][Math.floor(k / 2)] = rng.nextInt(3);
  for (let b = 0; b < rows; b++) {
    batch.rewards[2 * b] = batch.rewards[2 * b + 1] = rng.uniform(-1, 1);
    for (const i of [0, 1]) {
      batch.terminations[2 * b + i] = b % 4 === 0 || (b % 4 === 2 && i === 1) ? 1 : 0;
      batch.truncations[2 * b + i] = b % 4 === 1 ? 1 : 0;
    }
  }
  return batch;
}

// Accessors of the batch layout, so the references below read transitions one way only.
const obsOf = (batch: Batch, b: number, j: number) =>
  Array.from(batch.observations[j].subarray(b * 3, (b + 1) * 3));
const nextObsOf = (batch: Batch, b: number, j: number) =>
  Array.from(batch.nextObservations[j].subarray(b * 3, (b + 1) * 3));
const rewardOf = (batch: Batch, b: number, i: number) => batch.rewards[b * 2 + i];
const termOf = (batch: Batch, b: number, i: number) => batch.terminations[b * 2 + i];
const actionOf = (batch: Batch, b: number, i: number) => batch.actions[i][b];
const oneHot3 = (k: number) => [0, 1, 2].map((j) => (j === k ? 1 : 0));

/** What {@linkcode GumbelMaddpg.actorGradient} reads of a round; free with `tf.dispose`. */
function actorRound(
  batch: Batch,
): Pick<GumbelRound, "batch" | "observationTensors" | "bufferActions"> {
  return {
    batch,
    observationTensors: batch.observations.map((o) => tf.tensor2d(o, [batch.size, 3])),
    bufferActions: batch.actions.map((a) => oneHot(a, 3)),
  };
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
  const { sample } = gumbelSoftmax(rows, uniforms, { n: 4, temperature: 0.5, hard: true });
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
  const hard = gumbelSoftmax(logits, uniforms, { n: 3, temperature, hard: true });
  const soft = gumbelSoftmax(logits, uniforms, { n: 3, temperature, hard: false });
  assert.deepEqual(hard.soft, soft.sample);
  for (let b = 0; b < 2; b++) {
    const rows = [b * 3, b * 3 + 3] as const;
    const expected = referenceGumbelSoftmax(
      logits.subarray(...rows),
      uniforms.subarray(...rows),
      temperature,
    );
    assertAllClose(soft.sample.subarray(...rows), expected.soft, 1e-6, 1e-7);
    assert.deepEqual(Array.from(hard.sample.subarray(...rows)), expected.hard);
  }
  for (let b = 0; b < 2; b++) {
    const row = Array.from(hard.sample.subarray(b * 3, b * 3 + 3));
    assert.deepEqual(row.sort(), [0, 0, 1]);
  }
  // Backward vs finite differences of Σ w · soft(z).
  const w = [0.3, -1.2, 0.8, 1, 0.5, -0.4];
  const grad = gumbelSoftmaxBackward(hard.soft, w, { n: 3, temperature });
  const fd = finiteDifferences(
    (z) =>
      gumbelSoftmax(z, uniforms, { n: 3, temperature, hard: false }).sample.reduce(
        (s, v, k) => s + v * w[k],
        0,
      ),
    logits,
    1e-3,
  );
  assertAllClose(grad, fd, 2e-3, 1e-4);
});

Deno.test("GumbelMaddpg (matd3) targets take the minimum of the twin target critics", () => {
  const rng = new Pcg32(7);
  const agents = new GumbelMaddpg({ ...TINY, variant: "matd3" }, rng);
  // Make the twins disagree.
  for (const net of agents.targetCritics2) {
    for (let k = 0; k < net.size; k++) net.params[k] += rng.uniform(-0.5, 0.5);
    net.touch();
  }
  const rows = 6;
  const batch = randomBatch(rows, rng);
  const width = agents.criticInputSize(0);
  assert.equal(width, 2 * (3 + 3));
  assert.equal(agents.criticInputSize(1), width);
  const inputData = Float32Array.from({ length: rows * width }, () => rng.nextFloat());
  const input = tf.tensor2d(inputData, [rows, width]);
  const rowOf = (b: number) => inputData.subarray(b * width, (b + 1) * width);
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
      const x = rowOf(b);
      const q1 =
        forward64(agents.targetCritics[agent].sizes, agents.targetCritics[agent].params, x)[0];
      const q2 =
        forward64(agents.targetCritics2[agent].sizes, agents.targetCritics2[agent].params, x)[0];
      if (q1 < q2) firstSmaller++;
      else secondSmaller++;
      const expected = rewardOf(batch, b, agent) +
        0.9 * (1 - termOf(batch, b, agent)) * Math.min(q1, q2);
      assert.ok(Math.abs(y[b] - expected) < 1e-5, `${y[b]} vs ${expected}`);
    }
  }
  assert.ok(firstSmaller > 0 && secondSmaller > 0, "both twins were the minimum somewhere");
  input.dispose();
  agents.dispose();
});

Deno.test("GumbelMaddpg (matd3) updates actors and targets every policyDelay critic updates", () => {
  const rng = new Pcg32(8);
  const agents = new GumbelMaddpg({ ...TINY, variant: "matd3", policyDelay: 3 }, rng);
  const batch = randomBatch(8, rng);
  const snapshot = () =>
    [...agents.actors, ...agents.targetActors, ...agents.targetCritics].map((n) =>
      n.params.slice()
    );
  for (let round = 1; round <= 6; round++) {
    const before = snapshot();
    const critic = agents.critics[0].params.slice();
    const losses = agents.update(batch, agents.drawUniforms(batch.size, rng));
    assert.notDeepEqual(agents.critics[0].params, critic, "critics learn every round");
    const changed = snapshot().map((p, k) => p.some((v, i) => v !== before[k][i]));
    const policyRound = round % 3 === 0;
    assert.deepEqual(changed, new Array(changed.length).fill(policyRound), `round ${round}`);
    // Critic losses every round; actor losses only on rounds that update the actors, NaN
    // (not the previous round's loss) on the others.
    assert.ok(losses.critic.every(Number.isFinite), `round ${round}: ${losses.critic}`);
    assert.equal(losses.actor.length, 2);
    for (const loss of losses.actor) {
      if (policyRound) assert.ok(Number.isFinite(loss), `round ${round}: ${loss}`);
      else assert.ok(Number.isNaN(loss), `round ${round}: ${loss}`);
    }
  }
  assert.equal(agents.rounds, 6);
  assert.deepEqual(agents.getState().counters, { rounds: [6] });
  // The same through updateOne(): round 7 (index 6) does not update the actors, round 9 does.
  for (const policyRound of [false, false, true]) {
    const actors = agents.actors.map((net) => net.params.slice());
    const round = agents.beginRound(batch, agents.drawUniforms(batch.size, rng));
    assert.equal(round.policyRound, policyRound);
    try {
      for (const i of [0, 1]) {
        const { critic, actor } = agents.updateOne(round, i);
        assert.ok(Number.isFinite(critic));
        assert.equal(Number.isNaN(actor), !policyRound, `actor loss ${actor}`);
        assert.equal(agents.actors[i].params.some((v, k) => v !== actors[i][k]), policyRound);
      }
    } finally {
      agents.endRound(round);
    }
    agents.finishRound(round);
  }
  assert.deepEqual(agents.getState().counters, { rounds: [9] });
  agents.dispose();
});

Deno.test("GumbelMaddpg (iddpg) critics take only their own agent's observation and action", () => {
  const iddpg = new GumbelMaddpg({ ...TINY, variant: "iddpg" }, new Pcg32(9));
  assert.equal(iddpg.criticInputSize(0), 3 + 3);
  assert.equal(iddpg.criticInputSize(1), 3 + 3);
  assert.equal(iddpg.critics[0].sizes[0], 6);
  assert.equal(iddpg.critics[1].sizes[0], 6);
  const maddpg = new GumbelMaddpg({ ...TINY, variant: "maddpg" }, new Pcg32(9));
  assert.equal(maddpg.criticInputSize(0), 2 * (3 + 3));
  assert.equal(maddpg.critics[0].sizes[0], 12);
  // And an update runs on those local inputs.
  const critics = iddpg.critics.map((net) => net.params.slice());
  const losses = iddpg.update(randomBatch(5, new Pcg32(1)), iddpg.drawUniforms(5, new Pcg32(2)));
  for (const loss of [...losses.critic, ...losses.actor]) assert.ok(Number.isFinite(loss));
  iddpg.critics.forEach((net, i) => assert.notDeepEqual(net.params, critics[i]));
  iddpg.dispose();
  maddpg.dispose();
});

Deno.test("GumbelMaddpg.actorGradient() matches finite differences through the critic", () => {
  for (const variant of ["maddpg", "iddpg"] as const) {
    const options: GumbelOptions = {
      ...TINY,
      variant,
      temperature: 0.8,
      logitsRegularization: 0.05,
    };
    const rng = new Pcg32(10);
    const agents = new GumbelMaddpg(options, rng);
    const rows = 5, a = 3;
    const batch = randomBatch(rows, rng);
    const noise = Float64Array.from({ length: rows * a }, () => rng.nextFloat());
    const round = actorRound(batch);
    for (const agent of [0, 1]) {
      const { loss, grads } = agents.actorGradient(agent, round, noise);
      // Independent: −mean_b Q_i(x_b, a_b with a_i = softGumbel(actor(o_i))) + c · mean(z²).
      const actorLoss = (params: Float64Array) => {
        let q = 0, squares = 0;
        for (let b = 0; b < rows; b++) {
          const z = forward64(
            agents.actors[agent].sizes,
            params,
            obsOf(batch, b, agent),
          );
          for (const v of z) squares += v * v;
          const y = referenceGumbelSoftmax(z, noise.subarray(b * a, (b + 1) * a), 0.8).soft;
          let input: number[];
          if (variant === "maddpg") {
            const acts = [0, 1].flatMap((j) => (j === agent ? y : oneHot3(actionOf(batch, b, j))));
            input = [...obsOf(batch, b, 0), ...obsOf(batch, b, 1), ...acts];
          } else {
            input = [...obsOf(batch, b, agent), ...y];
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
      // With the round's shared input given, the agent's actions are swapped into a copy of
      // it: the same loss and gradient, bit for bit.
      const jointInput = concatRows([...batch.observations, ...round.bufferActions], rows);
      const swapped = agents.actorGradient(agent, { ...round, jointInput }, noise);
      assert.equal(swapped.loss, loss);
      assert.deepEqual(swapped.grads, grads);
    }
    tf.dispose(round.observationTensors);
    agents.dispose();
  }
});

Deno.test("concatRows() / concatTensor() lay blocks side by side row by row; oneHot() one-hot rows; withColumns() swaps columns", () => {
  const t = concatTensor([Float32Array.of(1, 2, 3, 4), Float32Array.of(9, 8)], 2);
  assert.deepEqual(t.shape, [2, 3]);
  assert.deepEqual(Array.from(t.dataSync()), [1, 2, 9, 3, 4, 8]);
  t.dispose();
  // Blocks of widths 2, 3 and 1 (and one-hot actions): observations then actions per row.
  const rows = concatRows([
    Float32Array.of(1, 2, 3, 4),
    Float32Array.of(5, 6, 7, 8, 9, 10),
    Float32Array.of(-1, -2),
    oneHot([2, 0], 3),
  ], 2);
  assert.deepEqual(Array.from(rows), [1, 2, 5, 6, 7, -1, 0, 0, 1, 3, 4, 8, 9, 10, -2, 1, 0, 0]);
  assert.deepEqual(Array.from(oneHot(Float32Array.of(1, 0, 3), 4)), [
    0,
    1,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
  ]);
  // withColumns(): a copy with some columns of every row replaced; misfits are refused.
  const source = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]); // 2 rows of 4
  const swapped = withColumns(source, {
    rows: 2,
    from: 2,
    values: Float32Array.of(-1, -2, -3, -4),
  });
  assert.deepEqual(Array.from(swapped), [1, 2, -1, -2, 5, 6, -3, -4]);
  assert.deepEqual(Array.from(source), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.throws(
    () => withColumns(source, { rows: 2, from: 3, values: Float32Array.of(1, 2, 3, 4) }),
    /Cannot put 4 values in columns from 3 of 2 rows of 4/,
  );
});

Deno.test("GumbelMaddpg frees every tensor: numTensors is the same after 50 and 500 rounds", () => {
  for (const variant of ["matd3", "iddpg"] as const) {
    const rng = new Pcg32(30);
    const agents = new GumbelMaddpg({ ...TINY, variant }, rng);
    const batch = randomBatch(16, rng);
    for (let k = 0; k < 50; k++) agents.update(batch, agents.drawUniforms(16, rng));
    const after50 = tf.memory().numTensors;
    for (let k = 50; k < 500; k++) agents.update(batch, agents.drawUniforms(16, rng));
    assert.equal(tf.memory().numTensors, after50, variant);
    agents.dispose();
  }
});

/** Adam moments of a run in progress (step 10), so that a step's size depends on the gradient. */
function midRunAdam(optimizers: readonly Adam[], rng: Pcg32): { m: number[]; v: number[] }[] {
  return optimizers.map((optimizer) => {
    const size = optimizer.getState().m.length;
    const m = Float32Array.from({ length: size }, () => rng.uniform(-0.01, 0.01));
    const v = Float32Array.from({ length: size }, () => rng.uniform(1e-4, 1e-3));
    optimizer.setState({ step: 10, m, v });
    return { m: Array.from(m), v: Array.from(v) };
  });
}

Deno.test("GumbelMaddpg (iddpg) update() matches an independent float64 update of local critics and actors", () => {
  const [gamma, tau, temperature, c, lr] = [0.9, 0.1, 0.8, 0.05, 0.05];
  const options: GumbelOptions = {
    ...TINY,
    variant: "iddpg",
    temperature,
    logitsRegularization: c,
    actorLr: lr,
    criticLr: lr,
  };
  const rng = new Pcg32(14);
  const agents = new GumbelMaddpg(options, rng);
  for (const net of [...agents.targetActors, ...agents.targetCritics]) {
    for (let k = 0; k < net.size; k++) net.params[k] += rng.uniform(-0.1, 0.1);
    net.touch();
  }
  const criticMoments = midRunAdam(agents.criticOptimizers, rng);
  const actorMoments = midRunAdam(agents.actorOptimizers, rng);
  const rows = 6, a = 3, block = 2 * rows * a;
  const batch = randomBatch(rows, rng);
  const uniforms = agents.drawUniforms(rows, rng);
  assert.equal(uniforms.length, 2 * block, "target noise then actor noise");
  const params = (nets: Mlp[]) => nets.map((net) => Array.from(net.params));
  const [actors, critics] = [params(agents.actors), params(agents.critics)];
  const [targetActors, targetCritics] = [params(agents.targetActors), params(agents.targetCritics)];
  const { sizes: actorSizes } = agents.actors[0], { sizes: criticSizes } = agents.critics[0];
  assert.equal(criticSizes[0], 3 + 3, "a local critic: its agent's observation and action");

  const losses = agents.update(batch, uniforms);

  for (const i of [0, 1]) {
    // Critic i: y = r_i + γ (1 − term_i) Q'_i(o'_i, gumbel(μ'_i(o'_i))), MSE on (o_i, a_i) only.
    const y = Array.from({ length: rows }, (_, b) => {
      const z = forward64(actorSizes, targetActors[i], nextObsOf(batch, b, i));
      const noise = uniforms.subarray((i * rows + b) * a, (i * rows + b + 1) * a);
      const next = referenceGumbelSoftmax(z, noise, temperature).soft;
      const q = forward64(criticSizes, targetCritics[i], [...nextObsOf(batch, b, i), ...next])[0];
      return rewardOf(batch, b, i) + gamma * (1 - termOf(batch, b, i)) * q;
    });
    const inputs = Array.from(
      { length: rows },
      (_, b) => [...obsOf(batch, b, i), ...oneHot3(actionOf(batch, b, i))],
    );
    const mse = (p: ArrayLike<number>) =>
      inputs.reduce((s, x, b) => s + (forward64(criticSizes, p, x)[0] - y[b]) ** 2, 0) / rows;
    const criticGrad = clipGradNorm64(finiteDifferences(mse, critics[i]), 1);
    const { m: cm, v: cv } = criticMoments[i];
    const newCritic = adamStep64(critics[i], criticGrad, cm, cv, 11, lr);
    // Actor i, through the critic just updated: −mean Q_i(o_i, gumbel(μ_i(o_i))) + c·mean(z²).
    const actorLoss = (p: ArrayLike<number>) => {
      let q = 0, squares = 0;
      for (let b = 0; b < rows; b++) {
        const z = forward64(actorSizes, p, obsOf(batch, b, i));
        for (const v of z) squares += v * v;
        const offset = block + (i * rows + b) * a;
        const action = referenceGumbelSoftmax(
          z,
          uniforms.subarray(offset, offset + a),
          temperature,
        );
        q += forward64(criticSizes, newCritic, [...obsOf(batch, b, i), ...action.soft])[0];
      }
      return -q / rows + c * squares / (rows * a);
    };
    const actorGrad = clipGradNorm64(finiteDifferences(actorLoss, actors[i]), 1);
    const { m: am, v: av } = actorMoments[i];
    const newActor = adamStep64(actors[i], actorGrad, am, av, 11, lr);

    assert.ok(Math.abs(losses.critic[i] - mse(critics[i])) < 1e-5, `critic loss ${i}`);
    assert.ok(Math.abs(losses.actor[i] - actorLoss(actors[i])) < 1e-5, `actor loss ${i}`);
    // The parameter changes (a few 1e-3, in proportion to the gradients) agree to 0.2 %.
    const change = (after: ArrayLike<number>, before: number[]) =>
      before.map((p, k) => after[k] - p);
    assertAllClose(
      change(agents.critics[i].params, critics[i]),
      change(newCritic, critics[i]),
      2e-3,
      2e-7,
    );
    assertAllClose(
      change(agents.actors[i].params, actors[i]),
      change(newActor, actors[i]),
      2e-3,
      2e-7,
    );
    assert.ok(Math.max(...change(newCritic, critics[i]).map(Math.abs)) > 1e-3, "critics moved");
    assert.ok(Math.max(...change(newActor, actors[i]).map(Math.abs)) > 1e-3, "actors moved");
    // Targets: τ · new + (1 − τ) · old, after the update.
    assertAllClose(
      agents.targetCritics[i].params,
      targetCritics[i].map((t, k) => tau * newCritic[k] + (1 - tau) * t),
      1e-5,
      1e-6,
    );
    assertAllClose(
      agents.targetActors[i].params,
      targetActors[i].map((t, k) => tau * newActor[k] + (1 - tau) * t),
      1e-5,
      1e-6,
    );
  }
  agents.dispose();
});

Deno.test("GumbelMaddpg (matd3) target smoothing adds Gaussian noise to target logits, clipped to ±targetNoiseClip", () => {
  const temperature = 0.7, rows = 4, a = 3, block = 2 * rows * a;
  const agents = new GumbelMaddpg(
    { ...TINY, variant: "matd3", temperature, targetNoise: 10, targetNoiseClip: 0.05 },
    new Pcg32(15),
  );
  const rng = new Pcg32(16);
  const batch = randomBatch(rows, rng);
  const uniforms = agents.drawUniforms(rows, rng);
  assert.equal(uniforms.length, 4 * block, "Gumbel, 2 per target-logit noise, actors' Gumbel");
  // Box–Muller inputs per target logit: u1 = 1/2 gives the radius √(2 ln 2) ≈ 1.18, so
  // u2 = 0 → noise 10 · 1.18 (clipped to +0.05), u2 = 1/2 → −11.8 (clipped to −0.05),
  // u2 = 0.2499 → 10 · 1.18 · cos(2π · 0.2499) ≈ +0.0074 (inside the clip, kept).
  const u2 = [0, 0.5, 0.2499];
  const radius = Math.sqrt(2 * Math.LN2);
  const kept = 10 * radius * Math.cos(2 * Math.PI * 0.2499);
  assert.ok(kept > 0.007 && kept < 0.008);
  const clipped = [0.05, -0.05, kept], unclipped = [10 * radius, -10 * radius, kept];
  const choice = (k: number) => (k + Math.floor(k / a)) % 3; // varies along rows and actions
  for (let k = 0; k < block; k++) {
    uniforms[block + 2 * k] = 0.5;
    uniforms[block + 2 * k + 1] = u2[choice(k)];
  }
  // smoothLogits() alone: z + clip(std · ε) from two uniforms per logit.
  const z = Float32Array.of(0.1, -0.2, 0.3, 0.4, 0, -1);
  const smoothed = z.slice();
  smoothLogits(smoothed, uniforms.subarray(block, block + 2 * z.length), {
    std: 10,
    clip: 0.05,
  });
  assertAllClose(smoothed, Array.from(z, (v, k) => v + clipped[choice(k)]), 0, 1e-7);
  // Expected next critic input: o'_0, o'_1, then each target actor's Gumbel-Softmax sample of
  // its logits plus noise[k] (k over agent j's [rows, actions] logits).
  const expectedInput = (noise: number[]) =>
    Array.from({ length: rows }, (_, b) => {
      const actions = [0, 1].flatMap((j) => {
        const z = forward64(
          agents.targetActors[j].sizes,
          agents.targetActors[j].params,
          nextObsOf(batch, b, j),
        ).map((v, k) => v + noise[choice((j * rows + b) * a + k)]);
        const gumbel = uniforms.subarray((j * rows + b) * a, (j * rows + b + 1) * a);
        return referenceGumbelSoftmax(z, gumbel, temperature).soft;
      });
      return [...nextObsOf(batch, b, 0), ...nextObsOf(batch, b, 1), ...actions];
    });
  const round = agents.beginRound(batch, uniforms);
  try {
    const actual = Array.from(round.nextInputs[0].dataSync());
    assert.deepEqual(round.nextInputs[0].shape, [rows, 12]);
    assertAllClose(actual, expectedInput(clipped).flat(), 1e-5, 1e-6);
    // The clip and the noise matter here: without either the inputs are far off.
    const gap = (other: number[][]) =>
      Math.max(...other.flat().map((v, k) => Math.abs(v - actual[k])));
    assert.ok(gap(expectedInput(unclipped)) > 0.1, "unclipped noise");
    assert.ok(gap(expectedInput([0, 0, 0])) > 2e-3, "no noise");
    // And targetValues() on them: r + γ (1 − term) min(Q'_1, Q'_2) at the expected inputs.
    const inputs = expectedInput(clipped);
    for (const agent of [0, 1]) {
      const y = agents.targetValues(agent, batch, round.nextInputs[agent]);
      inputs.forEach((x, b) => {
        const [one, two] = [agents.targetCritics[agent], agents.targetCritics2[agent]];
        const q = Math.min(
          forward64(one.sizes, one.params, x)[0],
          forward64(two.sizes, two.params, x)[0],
        );
        const expected = rewardOf(batch, b, agent) + 0.9 * (1 - termOf(batch, b, agent)) * q;
        assert.ok(Math.abs(y[b] - expected) < 1e-5, `${y[b]} vs ${expected}`);
      });
    }
  } finally {
    agents.endRound(round);
    agents.dispose();
  }
});

Deno.test("GumbelMaddpg.actorGradient() with hard: one-hot actions forward, the soft sample's gradient backward", () => {
  const temperature = 0.8, c = 0.05, rows = 5, a = 3;
  for (const variant of ["maddpg", "iddpg"] as const) {
    const base: GumbelOptions = { ...TINY, variant, temperature, logitsRegularization: c };
    const hardAgents = new GumbelMaddpg({ ...base, hard: true }, new Pcg32(17));
    const softAgents = new GumbelMaddpg({ ...base, hard: false }, new Pcg32(17));
    const rng = new Pcg32(18);
    const batch = randomBatch(rows, rng);
    const noise = Float64Array.from({ length: rows * a }, () => rng.nextFloat());
    const round = actorRound(batch);
    const noiseOf = (b: number) => noise.subarray(b * a, (b + 1) * a);
    for (const agent of [0, 1]) {
      const { sizes: actorSizes, params: actorParams } = hardAgents.actors[agent];
      const { sizes: criticSizes, params: criticParams } = hardAgents.critics[agent];
      // The critic input of row b with agent `agent`'s action replaced by `action`.
      const criticInput = (b: number, action: ArrayLike<number>) =>
        variant === "maddpg"
          ? [
            ...obsOf(batch, b, 0),
            ...obsOf(batch, b, 1),
            ...[0, 1].flatMap((j) =>
              j === agent ? Array.from(action) : oneHot3(actionOf(batch, b, j))
            ),
          ]
          : [...obsOf(batch, b, agent), ...Array.from(action)];
      const logits = (p: ArrayLike<number>, b: number) =>
        forward64(actorSizes, p, obsOf(batch, b, agent));
      const samples = Array.from(
        { length: rows },
        (_, b) => referenceGumbelSoftmax(logits(actorParams, b), noiseOf(b), temperature),
      );
      // Forward: Q at the one-hot samples.
      let expectedLoss = 0;
      for (let b = 0; b < rows; b++) {
        const z = logits(actorParams, b);
        expectedLoss += -forward64(criticSizes, criticParams, criticInput(b, samples[b].hard))[0] /
            rows + c * z.reduce((s, v) => s + v * v, 0) / (rows * a);
      }
      // Backward: w_b = ∂(−mean Q)/∂a at the one-hot sample, carried into the actor by the
      // soft sample: the gradient of Σ_b w_b · soft_b(θ) + c · mean(z²).
      const w = samples.map((sample, b) =>
        finiteDifferences(
          (action) => -forward64(criticSizes, criticParams, criticInput(b, action))[0] / rows,
          sample.hard,
        )
      );
      const surrogate = (p: Float64Array) => {
        let total = 0;
        for (let b = 0; b < rows; b++) {
          const z = logits(p, b);
          const soft = referenceGumbelSoftmax(z, noiseOf(b), temperature).soft;
          total += soft.reduce((s, y, k) => s + w[b][k] * y, 0);
          total += c * z.reduce((s, v) => s + v * v, 0) / (rows * a);
        }
        return total;
      };
      const expectedGrads = finiteDifferences(surrogate, actorParams);
      const hard = hardAgents.actorGradient(agent, round, noise);
      const soft = softAgents.actorGradient(agent, round, noise);
      assert.ok(
        Math.abs(hard.loss - expectedLoss) < 1e-6,
        `${variant}: ${hard.loss} vs ${expectedLoss}`,
      );
      assertAllClose(hard.grads, expectedGrads, 2e-3, 1e-6);
      // Not the soft path: with soft actions the loss and the gradient are others, by more
      // than these tolerances (the smallest loss gap here is 6.6e-5).
      assert.ok(Math.abs(soft.loss - expectedLoss) > 2e-5, `${variant}: soft loss ${soft.loss}`);
      assert.throws(() => assertAllClose(soft.grads, expectedGrads, 2e-3, 1e-6), variant);
    }
    tf.dispose(round.observationTensors);
    hardAgents.dispose();
    softAgents.dispose();
  }
});

Deno.test("GumbelMaddpg.targetValues(): a terminated row's target is its reward, a truncated row bootstraps", () => {
  const rng = new Pcg32(20);
  const agents = new GumbelMaddpg({ ...TINY, variant: "maddpg" }, rng);
  // Shift the target critics' output so that Q' is far from 0 and the bootstrap shows.
  for (const net of agents.targetCritics) {
    net.params[net.size - 1] += 1;
    net.touch();
  }
  const rows = 3, width = agents.criticInputSize(0);
  const batch = allocateBatch(rows, { observationSizes: [3, 3], actionSizes: [1, 1] });
  batch.rewards.set([0.5, -0.25, 1, 2, -1, 0.75]);
  // Row 0: both agents terminated. Row 1: both truncated only. Row 2: agent 1 terminated,
  // agent 0 truncated.
  batch.terminations.set([1, 1, 0, 0, 0, 1]);
  batch.truncations.set([0, 0, 1, 1, 1, 0]);
  const inputData = Float32Array.from({ length: rows * width }, () => rng.nextFloat());
  const nextInput = tf.tensor2d(inputData, [rows, width]);
  try {
    for (const agent of [0, 1]) {
      const y = agents.targetValues(agent, batch, nextInput);
      const { sizes, params } = agents.targetCritics[agent];
      const nextQ = (b: number) =>
        forward64(sizes, params, inputData.subarray(b * width, (b + 1) * width))[0];
      // Terminated: the reward alone, exactly.
      assert.equal(y[0], rewardOf(batch, 0, agent), `agent ${agent}, row 0`);
      // Truncated only: r + γ Q', and Q' matters.
      for (const b of [1, 2]) assert.ok(Math.abs(0.9 * nextQ(b)) > 0.1, `Q' = ${nextQ(b)}`);
      const expected1 = rewardOf(batch, 1, agent) + 0.9 * nextQ(1);
      assert.ok(
        Math.abs(y[1] - expected1) < 1e-5,
        `agent ${agent}, row 1: ${y[1]} vs ${expected1}`,
      );
      // Row 2 depends on the agent's own termination.
      const expected2 = agent === 1
        ? rewardOf(batch, 2, agent)
        : rewardOf(batch, 2, agent) + 0.9 * nextQ(2);
      if (agent === 1) assert.equal(y[2], expected2);
      assert.ok(
        Math.abs(y[2] - expected2) < 1e-5,
        `agent ${agent}, row 2: ${y[2]} vs ${expected2}`,
      );
    }
  } finally {
    nextInput.dispose();
    agents.dispose();
  }
});

Deno.test("GumbelMaddpg with agents of different sizes: network sizes, critic inputs and an update", () => {
  const shapes: AgentShape[] = [
    { observationSize: 8, actionKind: "discrete", actionSize: 3 },
    { observationSize: 10, actionKind: "discrete", actionSize: 5 },
  ];
  const hidden = { actorHidden: [7, 6], criticHidden: [9, 4] };
  const iddpg = new GumbelMaddpg({ variant: "iddpg", agents: shapes, ...hidden }, new Pcg32(23));
  assert.deepEqual(iddpg.actors.map((net) => net.sizes), [[8, 7, 6, 3], [10, 7, 6, 5]]);
  assert.deepEqual(iddpg.critics.map((net) => net.sizes), [[8 + 3, 9, 4, 1], [10 + 5, 9, 4, 1]]);
  iddpg.dispose();

  const rng = new Pcg32(24);
  const agents = new GumbelMaddpg({ variant: "maddpg", agents: shapes, ...hidden }, rng);
  assert.deepEqual(agents.actors.map((net) => net.sizes), [[8, 7, 6, 3], [10, 7, 6, 5]]);
  assert.deepEqual(agents.critics.map((net) => net.sizes), [[26, 9, 4, 1], [26, 9, 4, 1]]);
  assert.deepEqual([agents.criticInputSize(0), agents.criticInputSize(1)], [26, 26]);
  assert.deepEqual(agents.targetActors.map((net) => net.sizes), [[8, 7, 6, 3], [10, 7, 6, 5]]);
  const rows = 7;
  const batch = allocateBatch(rows, { observationSizes: [8, 10], actionSizes: [1, 1] });
  for (const j of [0, 1]) {
    batch.observations[j].forEach((_, k) => (batch.observations[j][k] = rng.uniform(-1, 1)));
    batch.nextObservations[j].forEach((
      _,
      k,
    ) => (batch.nextObservations[j][k] = rng.uniform(-1, 1)));
    for (let b = 0; b < rows; b++) batch.actions[j][b] = rng.nextInt(shapes[j].actionSize);
  }
  batch.rewards.forEach((_, k) => (batch.rewards[k] = rng.uniform(-1, 1)));
  batch.terminations[2 * 3 + 1] = 1;
  batch.truncations[2 * 5] = batch.truncations[2 * 5 + 1] = 1;
  const uniforms = agents.drawUniforms(rows, rng);
  assert.equal(uniforms.length, 2 * rows * (3 + 5), "target noise then actor noise, [N][B][A_i]");
  // The critic input: o_0 (8), o_1 (10), one-hot a_0 (3), one-hot a_1 (5), row by row.
  const round = agents.beginRound(batch, uniforms);
  try {
    assert.deepEqual(round.inputs[0].shape, [rows, 26]);
    assert.equal(round.inputs[1], round.inputs[0], "one shared centralized input");
    assert.deepEqual(round.nextInputs[0].shape, [rows, 26]);
    const expected = Array.from({ length: rows }, (_, b) => [
      ...batch.observations[0].subarray(b * 8, (b + 1) * 8),
      ...batch.observations[1].subarray(b * 10, (b + 1) * 10),
      ...[0, 1, 2].map((k) => (k === batch.actions[0][b] ? 1 : 0)),
      ...[0, 1, 2, 3, 4].map((k) => (k === batch.actions[1][b] ? 1 : 0)),
    ]).flat();
    assert.deepEqual(Array.from(round.inputs[0].dataSync()), expected);
    // The next input starts with the next observations; each target action is a
    // distribution over that agent's actions.
    const next = round.nextInputs[0].dataSync();
    for (let b = 0; b < rows; b++) {
      const row = next.subarray(b * 26, (b + 1) * 26);
      assert.deepEqual(
        Array.from(row.subarray(0, 8)),
        Array.from(batch.nextObservations[0].subarray(b * 8, (b + 1) * 8)),
      );
      assert.deepEqual(
        Array.from(row.subarray(8, 18)),
        Array.from(batch.nextObservations[1].subarray(b * 10, (b + 1) * 10)),
      );
      for (const [from, to] of [[18, 21], [21, 26]]) {
        const sum = Array.from(row.subarray(from, to)).reduce((s, v) => s + v, 0);
        assert.ok(Math.abs(sum - 1) < 1e-5, `row ${b}: ${sum}`);
      }
    }
  } finally {
    agents.endRound(round);
  }
  const networks = [
    ...agents.actors,
    ...agents.critics,
    ...agents.targetActors,
    ...agents.targetCritics,
  ];
  const before = networks.map((net) => net.params.slice());
  const losses = agents.update(batch, uniforms);
  assert.equal(losses.critic.length, 2);
  assert.equal(losses.actor.length, 2);
  for (const loss of [...losses.critic, ...losses.actor]) {
    assert.ok(Number.isFinite(loss), `${loss}`);
  }
  networks.forEach((net, k) =>
    assert.ok(net.params.some((v, i) => v !== before[k][i]), `network ${k} changed`)
  );
  assert.equal(agents.rounds, 1);
  agents.dispose();
});
