/**
 * The notebook's MADDPG for discrete actions: per-agent actors on local observations,
 * per-agent centralized critics on all observations and one-hot joint actions.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs";
import { Adam, clipGradNorm } from "../nn/adam.ts";
import { Mlp, softUpdate } from "../nn/mlp.ts";
import { TfMlp } from "../nn/tf_mlp.ts";
import type { Batch } from "../replay_buffer.ts";
import type { Pcg32 } from "../rng.ts";

/** Options of {@linkcode MADDPGAgentManager}. */
export interface MaddpgOptions {
  /** Number of agents. */
  numAgents: number;
  /** Observation length of each agent. */
  observationDim: number;
  /** Number of discrete actions of each agent. */
  actionDim: number;
  /** Actor learning rate. @default 1e-4 */
  actorLr?: number;
  /** Critic learning rate. @default 1e-3 */
  criticLr?: number;
  /** Discount factor. @default 0.99 */
  gamma?: number;
  /** Soft-update rate of the target networks. @default 1e-3 */
  tau?: number;
  /** Maximum global gradient norm of each network's update. @default 1 */
  gradClip?: number;
  /** Hidden layer widths of every actor. @default [128, 128] */
  actorHidden?: readonly number[];
  /** Hidden layer widths of every critic. @default [256, 256] */
  criticHidden?: readonly number[];
}

/** Losses of one update round, per agent. */
export interface UpdateLosses {
  /** Critic MSE loss of each agent. */
  critic: number[];
  /** Actor loss of each agent. */
  actor: number[];
}

/** How actors choose actions. */
export type ActionMode = "greedy" | "sample";

/** Index of the largest value (the first one on ties, as `torch.argmax`). */
export function argmax(
  values: ArrayLike<number>,
  offset = 0,
  length = values.length - offset,
): number {
  let best = 0;
  for (let k = 1; k < length; k++) if (values[offset + k] > values[offset + best]) best = k;
  return best;
}

/**
 * Draws from the categorical distribution softmax(logits[offset .. offset+length]) with
 * one uniform number of `rng` (inverse CDF).
 */
export function sampleCategorical(
  logits: ArrayLike<number>,
  rng: Pcg32,
  offset = 0,
  length = logits.length - offset,
): number {
  let max = -Infinity;
  for (let k = 0; k < length; k++) max = Math.max(max, logits[offset + k]);
  let total = 0;
  for (let k = 0; k < length; k++) total += Math.exp(logits[offset + k] - max);
  const u = rng.nextFloat() * total;
  let cumulative = 0;
  for (let k = 0; k < length; k++) {
    cumulative += Math.exp(logits[offset + k] - max);
    if (u < cumulative) return k;
  }
  return length - 1; // u rounded up to the total
}

/**
 * Actors, critics, their target copies and optimizers of every agent, and the notebook's
 * update.
 *
 * One update round (see {@linkcode MADDPGAgentManager.update}) is, agent by agent:
 * - critic: `y = r_i + γ (1 − d) Q'_i(x', onehot(argmax μ'_j(o'_j)) ∀j)`, MSE, clip to norm 1, Adam;
 * - actor: `a_j ~ π_j(o_j)` for every agent j from the current actors, then
 *   `loss = −mean(log π_i(a_i|o_i) · Q_i(x, a))` with Q held constant, clip, Adam (the
 *   notebook's shapes broadcast that product to [B, B], which makes it
 *   `−mean(log π_i) · mean(Q_i)`; reproduced as such);
 * then every target network is soft-updated with τ.
 *
 * @example
 * ```ts
 * import { MADDPGAgentManager } from "./maddpg.ts";
 * import { Pcg32 } from "../rng.ts";
 * const manager = new MADDPGAgentManager({ numAgents: 2, observationDim: 6, actionDim: 4 }, new Pcg32(42));
 * const actions = manager.selectActions([new Float32Array(6), new Float32Array(6)], "greedy");
 * if (actions.length !== 2) throw new Error("one action per agent");
 * manager.dispose();
 * ```
 */
export class MADDPGAgentManager {
  /** Number of agents. */
  readonly numAgents: number;
  /** Observation length of each agent. */
  readonly observationDim: number;
  /** Number of actions of each agent. */
  readonly actionDim: number;
  /** Discount factor. */
  readonly gamma: number;
  /** Soft-update rate. */
  readonly tau: number;
  /** Gradient clipping norm. */
  readonly gradClip: number;
  /** Each agent's actor (observation → action logits). */
  readonly actors: Mlp[];
  /** Each agent's centralized critic (all observations ++ one-hot joint action → Q). */
  readonly critics: Mlp[];
  /** Target copies of the actors. */
  readonly targetActors: Mlp[];
  /** Target copies of the critics. */
  readonly targetCritics: Mlp[];
  /** Each actor's optimizer. */
  readonly actorOptimizers: Adam[];
  /** Each critic's optimizer. */
  readonly criticOptimizers: Adam[];

  readonly #tf: Map<Mlp, TfMlp> = new Map();
  readonly #actorGrads: Float32Array;
  readonly #criticGrads: Float32Array;

  /** Builds every network, initialised from `rng` agent by agent (actor, then critic). */
  constructor(options: MaddpgOptions, rng: Pcg32) {
    const {
      numAgents,
      observationDim,
      actionDim,
      actorLr = 1e-4,
      criticLr = 1e-3,
      gamma = 0.99,
      tau = 1e-3,
      gradClip = 1,
      actorHidden = [128, 128],
      criticHidden = [256, 256],
    } = options;
    this.numAgents = numAgents;
    this.observationDim = observationDim;
    this.actionDim = actionDim;
    this.gamma = gamma;
    this.tau = tau;
    this.gradClip = gradClip;
    const criticInput = numAgents * (observationDim + actionDim);
    this.actors = [];
    this.critics = [];
    for (let i = 0; i < numAgents; i++) {
      this.actors.push(Mlp.init([observationDim, ...actorHidden, actionDim], rng));
      this.critics.push(Mlp.init([criticInput, ...criticHidden, 1], rng));
    }
    this.targetActors = this.actors.map((net) => net.clone());
    this.targetCritics = this.critics.map((net) => net.clone());
    this.actorOptimizers = this.actors.map((net) => new Adam(net.size, { lr: actorLr }));
    this.criticOptimizers = this.critics.map((net) => new Adam(net.size, { lr: criticLr }));
    this.#actorGrads = new Float32Array(this.actors[0].size);
    this.#criticGrads = new Float32Array(this.critics[0].size);
  }

  /** Width of a critic's input: all observations then all one-hot actions. */
  get criticInputDim(): number {
    return this.numAgents * (this.observationDim + this.actionDim);
  }

  /**
   * Decentralized action selection: actor i sees only `observations[i]`. `greedy` takes
   * the argmax, `sample` draws from the actor's categorical distribution (needs `rng`).
   */
  selectActions(observations: readonly Float32Array[], mode: ActionMode, rng?: Pcg32): number[] {
    return this.actors.map((actor, i) => {
      const logits = actor.forward(observations[i]);
      if (mode === "greedy") return argmax(logits);
      if (!rng) throw new Error("Sampling actions needs a random number generator");
      return sampleCategorical(logits, rng);
    });
  }

  #tfOf(net: Mlp): TfMlp {
    let tfNet = this.#tf.get(net);
    if (!tfNet) {
      tfNet = new TfMlp(net);
      this.#tf.set(net, tfNet);
    }
    tfNet.sync();
    return tfNet;
  }

  /** Each agent's `[rows, observationDim]` slice of joint observations `[rows, N·obs]`. */
  #agentColumns(joint: Float32Array, rows: number): Float32Array[] {
    const { numAgents, observationDim } = this;
    const jointWidth = numAgents * observationDim;
    return Array.from({ length: numAgents }, (_, i) => {
      const out = new Float32Array(rows * observationDim);
      for (let b = 0; b < rows; b++) {
        out.set(
          joint.subarray(
            b * jointWidth + i * observationDim,
            b * jointWidth + (i + 1) * observationDim,
          ),
          b * observationDim,
        );
      }
      return out;
    });
  }

  /** Critic input rows: joint observations then one-hot joint actions. */
  #criticInput(joint: Float32Array, actions: Int32Array, rows: number): tf.Tensor2D {
    const { numAgents, observationDim, actionDim } = this;
    const jointWidth = numAgents * observationDim;
    const width = this.criticInputDim;
    const data = new Float32Array(rows * width);
    for (let b = 0; b < rows; b++) {
      data.set(joint.subarray(b * jointWidth, (b + 1) * jointWidth), b * width);
      for (let i = 0; i < numAgents; i++) {
        data[b * width + jointWidth + i * actionDim + actions[b * numAgents + i]] = 1;
      }
    }
    return tf.tensor2d(data, [rows, width]);
  }

  /**
   * One update round on a batch: every agent's critic and actor in turn (the notebook's
   * `update(batch, i)` for i = 0..N−1), then the soft update of all targets.
   */
  update(batch: Batch, rng: Pcg32): UpdateLosses {
    const { numAgents } = this;
    const rows = batch.size;
    const losses: UpdateLosses = { critic: [], actor: [] };
    const observations = this.#agentColumns(batch.observations, rows);
    const nextObservations = this.#agentColumns(batch.nextObservations, rows);
    const observationTensors = observations.map((data) =>
      tf.tensor2d(data, [rows, this.observationDim])
    );
    // Target actions are the same for every agent's update: the targets only move after all.
    const nextActions = new Int32Array(rows * numAgents);
    for (let j = 0; j < numAgents; j++) {
      const logits = tf.tidy(() =>
        this.#tfOf(this.targetActors[j]).forward(tf.tensor2d(nextObservations[j], [
          rows,
          this.observationDim,
        ]))
      );
      const values = logits.dataSync();
      logits.dispose();
      for (let b = 0; b < rows; b++) {
        nextActions[b * numAgents + j] = argmax(values, b * this.actionDim, this.actionDim);
      }
    }
    const nextCriticInput = this.#criticInput(batch.nextObservations, nextActions, rows);
    const criticInput = this.#criticInput(batch.observations, batch.actions, rows);
    try {
      for (let i = 0; i < numAgents; i++) {
        losses.critic.push(this.#updateCritic(i, batch, criticInput, nextCriticInput));
        losses.actor.push(this.#updateActor(i, batch, observationTensors, rng));
      }
    } finally {
      nextCriticInput.dispose();
      criticInput.dispose();
      for (const t of observationTensors) t.dispose();
    }
    this.updateTargets();
    return losses;
  }

  #updateCritic(
    agent: number,
    batch: Batch,
    criticInput: tf.Tensor2D,
    nextInput: tf.Tensor2D,
  ): number {
    const rows = batch.size, { numAgents } = this;
    const nextQ = tf.tidy(() => this.#tfOf(this.targetCritics[agent]).forward(nextInput));
    const nextValues = nextQ.dataSync();
    nextQ.dispose();
    const critic = this.#tfOf(this.critics[agent]);
    const activations = critic.forwardTrace(criticInput);
    const q = activations[activations.length - 1].dataSync();
    const outputGrad = new Float32Array(rows);
    let loss = 0;
    for (let b = 0; b < rows; b++) {
      const y = batch.rewards[b * numAgents + agent] +
        this.gamma * (1 - batch.dones[b]) * nextValues[b];
      const error = q[b] - y;
      loss += error * error;
      outputGrad[b] = 2 * error / rows;
    }
    const gradTensor = tf.tensor2d(outputGrad, [rows, 1]);
    critic.backward(activations, gradTensor, this.#criticGrads);
    gradTensor.dispose();
    for (let l = 1; l < activations.length; l++) activations[l].dispose();
    clipGradNorm(this.#criticGrads, this.gradClip);
    this.criticOptimizers[agent].step(this.critics[agent].params, this.#criticGrads);
    this.critics[agent].touch();
    return loss / rows;
  }

  #updateActor(agent: number, batch: Batch, observations: tf.Tensor2D[], rng: Pcg32): number {
    const rows = batch.size, { numAgents, actionDim } = this;
    const sampled = new Int32Array(rows * numAgents);
    let trace: tf.Tensor2D[] = [];
    let agentLogits: ArrayLike<number> = [];
    for (let j = 0; j < numAgents; j++) {
      const actor = this.#tfOf(this.actors[j]);
      let logits: ArrayLike<number>;
      if (j === agent) {
        trace = actor.forwardTrace(observations[j]);
        logits = trace[trace.length - 1].dataSync();
        agentLogits = logits;
      } else {
        const out = tf.tidy(() => actor.forward(observations[j]));
        logits = out.dataSync();
        out.dispose();
      }
      for (let b = 0; b < rows; b++) {
        sampled[b * numAgents + j] = sampleCategorical(logits, rng, b * actionDim, actionDim);
      }
    }
    const input = this.#criticInput(batch.observations, sampled, rows);
    const qTensor = tf.tidy(() => this.#tfOf(this.critics[agent]).forward(input));
    const q = qTensor.dataSync();
    qTensor.dispose();
    input.dispose();
    // The notebook multiplies log_prob ([B]) by Q ([B, 1]): broadcasting makes that a
    // [B, B] matrix, so its loss is −mean(log π(a_b|o_b)) · mean(Q) (kept: it is the spec).
    // Hence dloss/dlogits_b = −mean(Q)/B · (onehot(a_b) − softmax(logits_b)).
    let meanQ = 0;
    for (let b = 0; b < rows; b++) meanQ += q[b];
    meanQ /= rows;
    const logitsGrad = new Float32Array(rows * actionDim);
    const scale = -meanQ / rows;
    let meanLogProb = 0;
    for (let b = 0; b < rows; b++) {
      const offset = b * actionDim;
      let max = -Infinity;
      for (let k = 0; k < actionDim; k++) max = Math.max(max, agentLogits[offset + k]);
      let total = 0;
      for (let k = 0; k < actionDim; k++) total += Math.exp(agentLogits[offset + k] - max);
      const action = sampled[b * numAgents + agent];
      meanLogProb += agentLogits[offset + action] - max - Math.log(total);
      for (let k = 0; k < actionDim; k++) {
        const probability = Math.exp(agentLogits[offset + k] - max) / total;
        logitsGrad[offset + k] = scale * ((k === action ? 1 : 0) - probability);
      }
    }
    const loss = -(meanLogProb / rows) * meanQ;
    const gradTensor = tf.tensor2d(logitsGrad, [rows, actionDim]);
    this.#tfOf(this.actors[agent]).backward(trace, gradTensor, this.#actorGrads);
    gradTensor.dispose();
    for (let l = 1; l < trace.length; l++) trace[l].dispose();
    clipGradNorm(this.#actorGrads, this.gradClip);
    this.actorOptimizers[agent].step(this.actors[agent].params, this.#actorGrads);
    this.actors[agent].touch();
    return loss;
  }

  /** Soft-updates every target network towards its online network. */
  updateTargets(): void {
    for (let i = 0; i < this.numAgents; i++) {
      softUpdate(this.targetCritics[i], this.critics[i], this.tau);
      softUpdate(this.targetActors[i], this.actors[i], this.tau);
    }
  }

  /** Frees every uploaded tensor. */
  dispose(): void {
    for (const tfNet of this.#tf.values()) tfNet.dispose();
    this.#tf.clear();
  }
}
