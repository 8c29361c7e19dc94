/**
 * The critic regression step every algorithm shares: one MSE gradient step of a critic
 * towards fixed targets, clipped and applied with Adam.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { clipGradNorm } from "../nn/adam.ts";
import type { Adam } from "../nn/adam.ts";
import type { Mlp } from "../nn/mlp.ts";
import type { TfMlp } from "../nn/tf_mlp.ts";

/**
 * The loss `mean((Q(x) − y)²)` of `critic` on `input` and its gradient with respect to the
 * critic's parameters (written into `grads`). Returns the loss.
 */
export function mseGradient(
  critic: TfMlp,
  { input, targets, grads }: { input: tf.Tensor2D; targets: Float64Array; grads: Float32Array },
): number {
  const rows = targets.length;
  const trace = critic.forwardTrace(input);
  const q = trace[trace.length - 1].dataSync();
  const outputGrad = new Float32Array(rows);
  let loss = 0;
  for (let b = 0; b < rows; b++) {
    const error = q[b] - targets[b];
    loss += error * error;
    outputGrad[b] = 2 * error / rows;
  }
  const gradTensor = tf.tensor2d(outputGrad, [rows, 1]);
  try {
    critic.backward(trace, gradTensor, grads);
  } finally {
    gradTensor.dispose();
    tf.dispose(trace.slice(1));
  }
  return loss / rows;
}

/** One step of `critic` towards `targets`: MSE gradient, clip to `gradClip`, Adam. */
export function regressCritic(
  options: { critic: Mlp; tfCritic: TfMlp; optimizer: Adam; gradClip: number },
  input: tf.Tensor2D,
  targets: Float64Array,
): number {
  const { critic, tfCritic, optimizer, gradClip } = options;
  const grads = new Float32Array(critic.size);
  const loss = mseGradient(tfCritic, { input, targets, grads });
  clipGradNorm(grads, gradClip);
  optimizer.step(critic.params, grads);
  critic.touch();
  return loss;
}

/**
 * TD targets `y_b = r_b,i + γ (1 − term_b,i) next_b` of agent `agent` (terminations stop the
 * bootstrap; truncations do not).
 */
export function tdTargets(
  batch: { size: number; rewards: Float32Array; terminations: Float32Array },
  options: { agent: number; numAgents: number; gamma: number },
  nextValues: ArrayLike<number>,
): Float64Array {
  const { agent, numAgents, gamma } = options;
  const y = new Float64Array(batch.size);
  for (let b = 0; b < batch.size; b++) {
    const k = b * numAgents + agent;
    y[b] = batch.rewards[k] + gamma * (1 - batch.terminations[k]) * nextValues[b];
  }
  return y;
}
