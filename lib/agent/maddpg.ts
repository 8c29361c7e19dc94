/**
 * The notebook's MADDPG for discrete actions: per-agent actors on local observations,
 * per-agent centralized critics on all observations and one-hot joint actions.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { Adam, clipGradNorm } from "../nn/adam.ts";
import { Mlp, softUpdate } from "../nn/mlp.ts";
import { agentColumns, concatColumns, oneHotActions, TfCache } from "./_inputs.ts";
import { collectState, restoreState } from "./algorithms.ts";
import type { LearnerState } from "./algorithms.ts";
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

/** An actor update half done: see {@linkcode MADDPGAgentManager.prepareActor}. */
export interface PreparedActor {
  /** The agent. */
  agent: number;
  /** Its sampled actions, one per batch row. */
  actions: Int32Array;
  /** mean over the batch of log π(a|o). */
  meanLogProb: number;
  /** ∇ of that mean with respect to the actor's parameters (flat). */
  logProbGrad: Float32Array;
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
 * Draws from the categorical distribution softmax(logits[offset .. offset+length]) by
 * inverse CDF, given one number `u` uniform in [0, 1).
 */
export function sampleCategorical(
  logits: ArrayLike<number>,
  u: number,
  offset = 0,
  length = logits.length - offset,
): number {
  let max = -Infinity;
  for (let k = 0; k < length; k++) max = Math.max(max, logits[offset + k]);
  let total = 0;
  for (let k = 0; k < length; k++) total += Math.exp(logits[offset + k] - max);
  const threshold = u * total;
  let cumulative = 0;
  for (let k = 0; k < length; k++) {
    cumulative += Math.exp(logits[offset + k] - max);
    if (threshold < cumulative) return k;
  }
  return length - 1; // u · total rounded up to the total
}

/**
 * Decentralized action selection: actor i sees only `observations[i]`. `greedy` takes the
 * argmax of its logits, `sample` draws from its categorical distribution (needs `rng`).
 */
export function selectActions(
  actors: readonly Mlp[],
  observations: readonly Float32Array[],
  mode: ActionMode,
  rng?: Pcg32,
): number[] {
  return actors.map((actor, i) => {
    const logits = actor.forward(observations[i]);
    if (mode === "greedy") return argmax(logits);
    if (!rng) throw new Error("Sampling actions needs a random number generator");
    return sampleCategorical(logits, rng.nextFloat());
  });
}

/**
 * The tensors of one update round that every agent's update shares: each agent's
 * observations, the critics' inputs, and the target actors' next actions.
 */
export interface Round {
  /** The batch. */
  batch: Batch;
  /** Each agent's observations, `[B, observationDim]`. */
  observations: tf.Tensor2D[];
  /** Critic input of the stored transitions, `[B, criticInputDim]`. */
  criticInput: tf.Tensor2D;
  /** Critic input of the next observations with the target actors' greedy actions. */
  nextCriticInput: tf.Tensor2D;
  /** The uniform numbers of the actor updates, `[agent i][agent j][row b]` flat. */
  uniforms: Float64Array;
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

  readonly #tf = new TfCache();
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
    return selectActions(this.actors, observations, mode, rng);
  }

  /** Critic input rows: joint observations then one-hot joint actions. */
  #criticInput(joint: Float32Array, actions: Int32Array, rows: number): tf.Tensor2D {
    const { numAgents, observationDim, actionDim } = this;
    return concatColumns(
      joint,
      numAgents * observationDim,
      oneHotActions(actions, rows, numAgents, actionDim),
      numAgents * actionDim,
      rows,
    );
  }

  /** Number of uniform draws one update round needs (see {@linkcode Round.uniforms}). */
  uniformsPerRound(batchSize: number): number {
    return this.numAgents * this.numAgents * batchSize;
  }

  /**
   * One update round on a batch: every agent's critic and actor in turn (the notebook's
   * `update(batch, i)` for i = 0..N−1), then the soft update of all targets. The random
   * draws of the actor updates are taken from `rng` up front, in the order the notebook
   * makes them (agent i's update: agent j's actions, row by row).
   */
  update(batch: Batch, rng: Pcg32): UpdateLosses {
    return this.updateWithUniforms(batch, this.drawUniforms(batch.size, rng));
  }

  /** Draws the uniform numbers of one round's actor updates from `rng`. */
  drawUniforms(batchSize: number, rng: Pcg32): Float64Array {
    const uniforms = new Float64Array(this.uniformsPerRound(batchSize));
    for (let k = 0; k < uniforms.length; k++) uniforms[k] = rng.nextFloat();
    return uniforms;
  }

  /** {@linkcode MADDPGAgentManager.update} with the random draws given. */
  updateWithUniforms(batch: Batch, uniforms: Float64Array): UpdateLosses {
    const round = this.beginRound(batch, uniforms);
    const losses: UpdateLosses = { critic: [], actor: [] };
    try {
      for (let i = 0; i < this.numAgents; i++) {
        losses.critic.push(this.updateCritic(round, i));
        losses.actor.push(this.updateActor(round, i));
      }
    } finally {
      this.endRound(round);
    }
    this.updateTargets();
    return losses;
  }

  /**
   * Uploads a batch and computes what every agent's update shares. The target actors'
   * actions are computed once: targets only move after all agents are updated.
   * Free it with {@linkcode MADDPGAgentManager.endRound}.
   */
  beginRound(batch: Batch, uniforms: Float64Array): Round {
    const { numAgents, observationDim, actionDim } = this;
    const rows = batch.size;
    if (uniforms.length !== this.uniformsPerRound(rows)) {
      throw new RangeError(
        `A round needs ${this.uniformsPerRound(rows)} uniforms, got ${uniforms.length}`,
      );
    }
    const nextObservations = agentColumns(batch.nextObservations, rows, numAgents, observationDim);
    const nextActions = new Int32Array(rows * numAgents);
    for (let j = 0; j < numAgents; j++) {
      const logits = tf.tidy(() =>
        this.#tf.of(this.targetActors[j]).forward(
          tf.tensor2d(nextObservations[j], [rows, observationDim]),
        )
      );
      const values = logits.dataSync();
      logits.dispose();
      for (let b = 0; b < rows; b++) {
        nextActions[b * numAgents + j] = argmax(values, b * actionDim, actionDim);
      }
    }
    return {
      batch,
      uniforms,
      observations: agentColumns(batch.observations, rows, numAgents, observationDim).map((data) =>
        tf.tensor2d(data, [rows, observationDim])
      ),
      criticInput: this.#criticInput(batch.observations, batch.actions, rows),
      nextCriticInput: this.#criticInput(batch.nextObservations, nextActions, rows),
    };
  }

  /** Frees a round's tensors. */
  endRound(round: Round): void {
    round.criticInput.dispose();
    round.nextCriticInput.dispose();
    for (const t of round.observations) t.dispose();
  }

  /** Updates agent `agent`'s critic on the round's batch; returns its MSE loss. */
  updateCritic(round: Round, agent: number): number {
    const loss = this.criticGradient(round, agent, this.#criticGrads);
    clipGradNorm(this.#criticGrads, this.gradClip);
    this.criticOptimizers[agent].step(this.critics[agent].params, this.#criticGrads);
    this.critics[agent].touch();
    return loss;
  }

  /**
   * The critic loss `mean((Q_i(x, a) − y)²)`, `y = r_i + γ (1 − d) Q'_i(x', a')`, and its
   * gradient with respect to critic i's parameters (written into `grads`).
   */
  criticGradient(round: Round, agent: number, grads: Float32Array): number {
    const { batch, criticInput, nextCriticInput } = round;
    const rows = batch.size, { numAgents } = this;
    const nextQ = tf.tidy(() => this.#tf.of(this.targetCritics[agent]).forward(nextCriticInput));
    const nextValues = nextQ.dataSync();
    nextQ.dispose();
    const critic = this.#tf.of(this.critics[agent]);
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
    try {
      critic.backward(activations, gradTensor, grads);
    } finally {
      gradTensor.dispose();
      for (let l = 1; l < activations.length; l++) activations[l].dispose();
    }
    return loss / rows;
  }

  /**
   * Updates agent `agent`'s actor, sampling every agent's action from the current actors
   * (so agents updated earlier in the round act with their new weights). Returns its loss.
   */
  updateActor(round: Round, agent: number): number {
    return this.finishActor(round, this.prepareActor(round, agent));
  }

  /**
   * The part of an actor update that needs only this agent's own actor: its sampled
   * actions and the gradient of mean log π_i(a_i|o_i).
   *
   * The notebook multiplies log_prob ([B]) by Q ([B, 1]); broadcasting makes that a [B, B]
   * matrix, so its loss is −mean(log π_i(a_i|o_i)) · mean(Q_i) (kept: it is the spec). Its
   * gradient is −mean(Q_i) · ∇ mean(log π_i), and ∇ mean(log π_i) does not depend on the
   * other agents' actions: a worker computes it before the other actors arrive.
   */
  prepareActor(round: Round, agent: number): PreparedActor {
    const { batch, observations, uniforms } = round;
    const rows = batch.size, { numAgents, actionDim } = this;
    const actor = this.#tf.of(this.actors[agent]);
    const trace = actor.forwardTrace(observations[agent]);
    const logits = trace[trace.length - 1].dataSync();
    const actions = new Int32Array(rows);
    const logitsGrad = new Float32Array(rows * actionDim);
    let meanLogProb = 0;
    for (let b = 0; b < rows; b++) {
      const offset = b * actionDim;
      const u = uniforms[(agent * numAgents + agent) * rows + b];
      const action = sampleCategorical(logits, u, offset, actionDim);
      actions[b] = action;
      let max = -Infinity;
      for (let k = 0; k < actionDim; k++) max = Math.max(max, logits[offset + k]);
      let total = 0;
      for (let k = 0; k < actionDim; k++) total += Math.exp(logits[offset + k] - max);
      meanLogProb += logits[offset + action] - max - Math.log(total);
      // d mean(log softmax(z_b)[a_b]) / dz_b = (onehot(a_b) − softmax(z_b)) / B
      for (let k = 0; k < actionDim; k++) {
        const probability = Math.exp(logits[offset + k] - max) / total;
        logitsGrad[offset + k] = ((k === action ? 1 : 0) - probability) / rows;
      }
    }
    const gradTensor = tf.tensor2d(logitsGrad, [rows, actionDim]);
    const logProbGrad = new Float32Array(this.actors[agent].size);
    try {
      actor.backward(trace, gradTensor, logProbGrad);
    } finally {
      gradTensor.dispose();
      for (let l = 1; l < trace.length; l++) trace[l].dispose();
    }
    return { agent, actions, meanLogProb: meanLogProb / rows, logProbGrad };
  }

  /**
   * The rest of an actor update: the other agents' actions from their current actors,
   * mean Q_i of the joint action, then the clipped Adam step. Returns the actor loss.
   */
  finishActor(round: Round, prepared: PreparedActor): number {
    const { loss, grads } = this.actorGradient(round, prepared);
    clipGradNorm(grads, this.gradClip);
    this.actorOptimizers[prepared.agent].step(this.actors[prepared.agent].params, grads);
    this.actors[prepared.agent].touch();
    return loss;
  }

  /**
   * The actor loss `−mean(log π_i(a_i|o_i)) · mean(Q_i(x, a))` and its gradient, given
   * {@linkcode MADDPGAgentManager.prepareActor}'s part (whose gradient array it reuses).
   */
  actorGradient(round: Round, prepared: PreparedActor): { loss: number; grads: Float32Array } {
    const { batch, observations, uniforms } = round;
    const rows = batch.size, { numAgents, actionDim } = this;
    const { agent } = prepared;
    const sampled = new Int32Array(rows * numAgents);
    for (let j = 0; j < numAgents; j++) {
      if (j === agent) {
        for (let b = 0; b < rows; b++) sampled[b * numAgents + j] = prepared.actions[b];
        continue;
      }
      const out = tf.tidy(() => this.#tf.of(this.actors[j]).forward(observations[j]));
      const logits = out.dataSync();
      out.dispose();
      for (let b = 0; b < rows; b++) {
        const u = uniforms[(agent * numAgents + j) * rows + b];
        sampled[b * numAgents + j] = sampleCategorical(logits, u, b * actionDim, actionDim);
      }
    }
    const input = this.#criticInput(batch.observations, sampled, rows);
    const qTensor = tf.tidy(() => this.#tf.of(this.critics[agent]).forward(input));
    const q = qTensor.dataSync();
    qTensor.dispose();
    input.dispose();
    let meanQ = 0;
    for (let b = 0; b < rows; b++) meanQ += q[b];
    meanQ /= rows;
    const grads = prepared.logProbGrad;
    for (let k = 0; k < grads.length; k++) grads[k] *= -meanQ;
    return { loss: -prepared.meanLogProb * meanQ, grads };
  }

  /**
   * Soft-updates target networks towards their online networks: every target actor, and
   * the target critics of `criticsOf` (default: every agent).
   */
  updateTargets(criticsOf?: readonly number[]): void {
    for (let i = 0; i < this.numAgents; i++) {
      if (!criticsOf || criticsOf.includes(i)) {
        softUpdate(this.targetCritics[i], this.critics[i], this.tau);
      }
      softUpdate(this.targetActors[i], this.actors[i], this.tau);
    }
  }

  #stateLayout(): { nets: Record<string, Mlp[]>; optimizers: Record<string, Adam[]> } {
    return {
      nets: {
        actor: this.actors,
        critic: this.critics,
        target_actor: this.targetActors,
        target_critic: this.targetCritics,
      },
      optimizers: { actor: this.actorOptimizers, critic: this.criticOptimizers },
    };
  }

  /** Every network and optimizer (see {@linkcode UpdateCore.getState}). */
  getState(): LearnerState {
    const { nets, optimizers } = this.#stateLayout();
    return collectState(nets, optimizers);
  }

  /** Restores {@linkcode MADDPGAgentManager.getState}'s result. */
  setState(state: LearnerState): void {
    const { nets, optimizers } = this.#stateLayout();
    restoreState(state, nets, optimizers);
  }

  /** Frees every uploaded tensor. */
  dispose(): void {
    this.#tf.dispose();
  }
}
