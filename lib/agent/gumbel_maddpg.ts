/**
 * MADDPG for discrete actions as in Lowe et al. 2017 and its reference implementation
 * (Gumbel-Softmax actions, the actor's gradient flowing through the critic), and the two
 * relatives built from the same pieces: MATD3 (twin critics, delayed policy updates,
 * target-policy smoothing) and independent DDPG learners (each critic sees only its own
 * agent).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { Adam, clipGradNorm } from "../nn/adam.ts";
import { gumbelSoftmax, gumbelSoftmaxBackward, normalFromUniforms } from "../nn/gumbel.ts";
import { Mlp, softUpdate } from "../nn/mlp.ts";
import type { TfMlp } from "../nn/tf_mlp.ts";
import type { Batch } from "../replay_buffer.ts";
import type { Pcg32 } from "../rng.ts";
import { agentColumns, concatColumns, forwardValues, oneHotActions, TfCache } from "./_inputs.ts";
import type { MaddpgOptions, UpdateLosses } from "./maddpg.ts";
import { collectState, restoreState } from "./algorithms.ts";
import type { LearnerState } from "./algorithms.ts";

/** The shared part of one update round (see {@linkcode GumbelMADDPG.beginRound}). */
export interface GumbelRound {
  /** The batch. */
  batch: Batch;
  /** The actors' Gumbel noise, `[N][B][A]`. */
  actorNoise: Float64Array;
  /** Each agent's observations, `[B, obs]`. */
  observations: Float32Array[];
  /** One-hot batch actions, `[B][N][A]`. */
  bufferActions: Float32Array;
  /** Each agent's observations as tensors. */
  observationTensors: tf.Tensor2D[];
  /** Each agent's critic input (shared by all when centralized). */
  inputs: tf.Tensor2D[];
  /** Each agent's critic input at the next step, with target actions. */
  nextInputs: tf.Tensor2D[];
  /** Whether actors and targets are updated this round. */
  policyRound: boolean;
}

/** The algorithms of this module. */
export type GumbelVariant = "maddpg" | "matd3" | "iddpg";

/** Options of {@linkcode GumbelMADDPG}. */
export interface GumbelMaddpgOptions extends MaddpgOptions {
  /** `maddpg` (centralized critic), `matd3` (twin centralized critics), `iddpg` (local critics). */
  variant: GumbelVariant;
  /** Gumbel-Softmax temperature. @default 1 */
  temperature?: number;
  /** Straight-through: one-hot samples forward, the soft sample's gradient backward. @default false */
  hard?: boolean;
  /** Weight c of the logits penalty `c · mean(logits²)` in the actor loss. @default 1e-3 */
  logitsRegularization?: number;
  /** Critic updates per actor and target update (MATD3; 1 for the others). @default 2 */
  policyDelay?: number;
  /** Std of the Gaussian noise added to target logits (MATD3's target smoothing). @default 0.2 */
  targetNoise?: number;
  /** The target noise is clipped to ±this. @default 0.5 */
  targetNoiseClip?: number;
}

/**
 * Actors, critics (two per agent for MATD3), targets and optimizers, and one update round:
 * - critic i: `y = r_i + γ (1 − d) Q'_i(x', a')` with `a'_j` Gumbel-Softmax samples of the
 *   target actors (MATD3: noisy target logits, and the minimum of the twin targets);
 * - actor i: `a_i` a Gumbel-Softmax sample of actor i, the others' actions from the batch
 *   (as the reference implementation), `loss = −mean(Q_i(x, a)) + c · mean(logits²)`,
 *   backpropagated through the critic and the Gumbel-Softmax into the actor;
 * - every target soft-updated after the actors (MATD3: every `policyDelay` rounds).
 *
 * All random numbers of a round come from {@linkcode GumbelMADDPG.drawUniforms}.
 */
export class GumbelMADDPG {
  /** Which algorithm. */
  readonly variant: GumbelVariant;
  /** Number of agents. */
  readonly numAgents: number;
  /** Observation length per agent. */
  readonly observationDim: number;
  /** Actions per agent. */
  readonly actionDim: number;
  /** Whether critics see every agent (all but `iddpg`). */
  readonly centralized: boolean;
  /** Whether each agent has twin critics (`matd3`). */
  readonly twin: boolean;
  /** Each agent's actor (observation → logits). */
  readonly actors: Mlp[];
  /** Each agent's (first) critic. */
  readonly critics: Mlp[];
  /** Each agent's second critic (`matd3` only; empty otherwise). */
  readonly critics2: Mlp[];
  /** Target actors. */
  readonly targetActors: Mlp[];
  /** Target (first) critics. */
  readonly targetCritics: Mlp[];
  /** Target second critics. */
  readonly targetCritics2: Mlp[];
  /** Actor optimizers. */
  readonly actorOptimizers: Adam[];
  /** Optimizers of the first critics. */
  readonly criticOptimizers: Adam[];
  /** Optimizers of the second critics. */
  readonly criticOptimizers2: Adam[];

  readonly #gamma: number;
  readonly #tau: number;
  readonly #gradClip: number;
  readonly #temperature: number;
  readonly #hard: boolean;
  readonly #logitsPenalty: number;
  readonly #policyDelay: number;
  readonly #targetNoise: number;
  readonly #targetNoiseClip: number;
  readonly #tf = new TfCache();
  #rounds = 0;
  #lastActorLosses: number[];

  constructor(options: GumbelMaddpgOptions, rng: Pcg32) {
    const {
      variant,
      numAgents,
      observationDim,
      actionDim,
      actorLr = 1e-4,
      criticLr = 1e-3,
      actorHidden = [128, 128],
      criticHidden = [256, 256],
    } = options;
    this.variant = variant;
    this.numAgents = numAgents;
    this.observationDim = observationDim;
    this.actionDim = actionDim;
    this.centralized = variant !== "iddpg";
    this.twin = variant === "matd3";
    this.#gamma = options.gamma ?? 0.99;
    this.#tau = options.tau ?? 1e-3;
    this.#gradClip = options.gradClip ?? 1;
    this.#temperature = options.temperature ?? 1;
    this.#hard = options.hard ?? false;
    this.#logitsPenalty = options.logitsRegularization ?? 1e-3;
    this.#policyDelay = this.twin ? options.policyDelay ?? 2 : 1;
    this.#targetNoise = this.twin ? options.targetNoise ?? 0.2 : 0;
    this.#targetNoiseClip = options.targetNoiseClip ?? 0.5;
    if (!(this.#temperature > 0)) {
      throw new RangeError(`Temperature must be positive, got ${this.#temperature}`);
    }
    this.actors = [];
    this.critics = [];
    this.critics2 = [];
    for (let i = 0; i < numAgents; i++) {
      this.actors.push(Mlp.init([observationDim, ...actorHidden, actionDim], rng));
      this.critics.push(Mlp.init([this.criticInputDim, ...criticHidden, 1], rng));
      if (this.twin) this.critics2.push(Mlp.init([this.criticInputDim, ...criticHidden, 1], rng));
    }
    this.targetActors = this.actors.map((net) => net.clone());
    this.targetCritics = this.critics.map((net) => net.clone());
    this.targetCritics2 = this.critics2.map((net) => net.clone());
    this.actorOptimizers = this.actors.map((net) => new Adam(net.size, { lr: actorLr }));
    this.criticOptimizers = this.critics.map((net) => new Adam(net.size, { lr: criticLr }));
    this.criticOptimizers2 = this.critics2.map((net) => new Adam(net.size, { lr: criticLr }));
    this.#lastActorLosses = new Array(numAgents).fill(0);
  }

  /** Width of a critic's input: all observations and actions, or one agent's (`iddpg`). */
  get criticInputDim(): number {
    const agents = this.centralized ? this.numAgents : 1;
    return agents * (this.observationDim + this.actionDim);
  }

  /** Update rounds run so far. */
  get rounds(): number {
    return this.#rounds;
  }

  /**
   * Uniform numbers one round needs: Gumbel noise of the target actions `[N][B][A]`, then
   * (MATD3) two per target-logit noise `[N][B][A][2]`, then the actors' Gumbel noise `[N][B][A]`.
   */
  uniformsPerRound(batchSize: number): number {
    const block = this.numAgents * batchSize * this.actionDim;
    return block * (this.twin ? 4 : 2);
  }

  /** Draws one round's uniform numbers from `rng`. */
  drawUniforms(batchSize: number, rng: Pcg32): Float64Array {
    const uniforms = new Float64Array(this.uniformsPerRound(batchSize));
    for (let k = 0; k < uniforms.length; k++) uniforms[k] = rng.nextFloat();
    return uniforms;
  }

  /** Draws the uniforms and runs one round. */
  update(batch: Batch, rng: Pcg32): UpdateLosses {
    return this.updateWithUniforms(batch, this.drawUniforms(batch.size, rng));
  }

  /** Whether this round (counted from 0) updates actors and targets. */
  #policyRound(): boolean {
    return this.#rounds % this.#policyDelay === this.#policyDelay - 1;
  }

  /** One update round with the given random numbers. */
  updateWithUniforms(batch: Batch, uniforms: Float64Array): UpdateLosses {
    const round = this.beginRound(batch, uniforms);
    const losses: UpdateLosses = { critic: [], actor: [] };
    try {
      for (let i = 0; i < this.numAgents; i++) {
        const agentLosses = this.updateAgent(round, i);
        losses.critic.push(agentLosses.critic);
        losses.actor.push(agentLosses.actor);
      }
    } finally {
      this.endRound(round);
    }
    this.finishRound(round);
    return losses;
  }

  /**
   * Uploads a batch and computes what every agent's update shares: each agent's inputs and
   * the target actors' actions. Free it with {@linkcode GumbelMADDPG.endRound}.
   */
  beginRound(batch: Batch, uniforms: Float64Array): GumbelRound {
    const { numAgents: n, observationDim: o, actionDim: a } = this;
    const rows = batch.size;
    if (uniforms.length !== this.uniformsPerRound(rows)) {
      throw new RangeError(
        `A round needs ${this.uniformsPerRound(rows)} uniforms, got ${uniforms.length}`,
      );
    }
    const block = n * rows * a;
    const observations = agentColumns(batch.observations, rows, n, o);
    const nextObservations = agentColumns(batch.nextObservations, rows, n, o);
    const bufferActions = oneHotActions(batch.actions, rows, n, a);
    const nextActions = this.#targetActions(nextObservations, uniforms, rows);
    const round: GumbelRound = {
      batch,
      actorNoise: uniforms.subarray(this.twin ? 3 * block : block),
      observations,
      bufferActions,
      observationTensors: [],
      inputs: [],
      nextInputs: [],
      policyRound: this.#policyRound(),
    };
    try {
      round.observationTensors = observations.map((data) => tf.tensor2d(data, [rows, o]));
      if (this.centralized) {
        const input = concatColumns(batch.observations, n * o, bufferActions, n * a, rows);
        const nextInput = concatColumns(batch.nextObservations, n * o, nextActions, n * a, rows);
        round.inputs = new Array(n).fill(input);
        round.nextInputs = new Array(n).fill(nextInput);
      } else {
        const agentActions = agentColumns(bufferActions, rows, n, a);
        const agentNextActions = agentColumns(nextActions, rows, n, a);
        for (let i = 0; i < n; i++) {
          round.inputs.push(concatColumns(observations[i], o, agentActions[i], a, rows));
          round.nextInputs.push(
            concatColumns(nextObservations[i], o, agentNextActions[i], a, rows),
          );
        }
      }
    } catch (error) {
      this.endRound(round);
      throw error;
    }
    return round;
  }

  /** Agent `agent`'s part of a round: its critics, then (on policy rounds) its actor. */
  updateAgent(round: GumbelRound, agent: number): { critic: number; actor: number } {
    const { batch, actorNoise } = round;
    const rows = batch.size, a = this.actionDim;
    const critic = this.#updateCritics(agent, batch, round.inputs[agent], round.nextInputs[agent]);
    if (round.policyRound) {
      this.#lastActorLosses[agent] = this.#updateActor(
        agent,
        batch,
        round.observationTensors[agent],
        round.bufferActions,
        round.observations[agent],
        actorNoise.subarray(agent * rows * a, (agent + 1) * rows * a),
      );
    }
    return { critic, actor: this.#lastActorLosses[agent] };
  }

  /** Frees a round's tensors. */
  endRound(round: GumbelRound): void {
    tf.dispose([...new Set([...round.observationTensors, ...round.inputs, ...round.nextInputs])]);
  }

  /**
   * Ends a round after every agent's update: on policy rounds the soft update of the target
   * actors and of the target critics of `criticsOf` (default all); counts the round.
   */
  finishRound(round: GumbelRound, criticsOf?: readonly number[]): void {
    if (round.policyRound) this.updateTargets(criticsOf);
    this.#rounds++;
  }

  /** Gumbel-Softmax samples of every target actor, `[B][N][A]` (MATD3: noisy logits first). */
  #targetActions(
    nextObservations: Float32Array[],
    uniforms: Float64Array,
    rows: number,
  ): Float32Array {
    const { numAgents: n, actionDim: a } = this;
    const block = n * rows * a;
    const out = new Float32Array(rows * n * a);
    for (let j = 0; j < n; j++) {
      const input = tf.tensor2d(nextObservations[j], [rows, this.observationDim]);
      const logits = forwardValues(this.#tf.of(this.targetActors[j]), input);
      input.dispose();
      if (this.twin) {
        const noise = uniforms.subarray(block + 2 * j * rows * a);
        const clip = this.#targetNoiseClip;
        for (let k = 0; k < logits.length; k++) {
          const eps = this.#targetNoise * normalFromUniforms(noise[2 * k], noise[2 * k + 1]);
          logits[k] += Math.max(-clip, Math.min(clip, eps));
        }
      }
      const { sample } = gumbelSoftmax(
        logits,
        uniforms.subarray(j * rows * a, (j + 1) * rows * a),
        a,
        this.#temperature,
        this.#hard,
      );
      for (let b = 0; b < rows; b++) {
        out.set(sample.subarray(b * a, (b + 1) * a), (b * n + j) * a);
      }
    }
    return out;
  }

  /**
   * Targets `y = r_i + γ (1 − d) Q'_i(x', a')`; with twin critics the smaller of the two
   * target values (clipped double Q).
   */
  targetValues(agent: number, batch: Batch, nextInput: tf.Tensor2D): Float64Array {
    const next = forwardValues(this.#tf.of(this.targetCritics[agent]), nextInput);
    if (this.twin) {
      const next2 = forwardValues(this.#tf.of(this.targetCritics2[agent]), nextInput);
      for (let b = 0; b < next.length; b++) next[b] = Math.min(next[b], next2[b]);
    }
    const y = new Float64Array(batch.size);
    for (let b = 0; b < batch.size; b++) {
      y[b] = batch.rewards[b * this.numAgents + agent] +
        this.#gamma * (1 - batch.dones[b]) * next[b];
    }
    return y;
  }

  #updateCritics(agent: number, batch: Batch, input: tf.Tensor2D, nextInput: tf.Tensor2D): number {
    const y = this.targetValues(agent, batch, nextInput);
    const pairs: [Mlp, Adam][] = [[this.critics[agent], this.criticOptimizers[agent]]];
    if (this.twin) pairs.push([this.critics2[agent], this.criticOptimizers2[agent]]);
    let lossSum = 0;
    for (const [critic, optimizer] of pairs) {
      lossSum += this.#regress(this.#tf.of(critic), critic, optimizer, input, y);
    }
    return lossSum / pairs.length;
  }

  /** One MSE step of `critic` towards `y`; returns the loss. */
  #regress(
    tfCritic: TfMlp,
    critic: Mlp,
    optimizer: Adam,
    input: tf.Tensor2D,
    y: Float64Array,
  ): number {
    const rows = y.length;
    const trace = tfCritic.forwardTrace(input);
    const q = trace[trace.length - 1].dataSync();
    const outputGrad = new Float32Array(rows);
    let loss = 0;
    for (let b = 0; b < rows; b++) {
      const error = q[b] - y[b];
      loss += error * error;
      outputGrad[b] = 2 * error / rows;
    }
    const grads = new Float32Array(critic.size);
    const gradTensor = tf.tensor2d(outputGrad, [rows, 1]);
    try {
      tfCritic.backward(trace, gradTensor, grads);
    } finally {
      gradTensor.dispose();
      tf.dispose(trace.slice(1));
    }
    clipGradNorm(grads, this.#gradClip);
    optimizer.step(critic.params, grads);
    critic.touch();
    return loss / rows;
  }

  /**
   * The actor loss and its gradient for agent `agent`: the actions of the others from the
   * batch, its own a Gumbel-Softmax sample of its actor (noise from `noise`, `[B][A]`).
   */
  actorGradient(
    agent: number,
    observationTensor: tf.Tensor2D,
    bufferActions: Float32Array,
    observations: Float32Array,
    jointObservations: Float32Array,
    noise: ArrayLike<number>,
  ): { loss: number; grads: Float32Array } {
    const { numAgents: n, observationDim: o, actionDim: a } = this;
    const rows = observationTensor.shape[0];
    const actor = this.#tf.of(this.actors[agent]);
    const trace = actor.forwardTrace(observationTensor);
    const tensors: tf.Tensor[] = trace.slice(1);
    try {
      const logits = trace[trace.length - 1].dataSync();
      const { sample, soft } = gumbelSoftmax(logits, noise, a, this.#temperature, this.#hard);
      let input: tf.Tensor2D, actionOffset: number;
      if (this.centralized) {
        const actions = bufferActions.slice();
        for (let b = 0; b < rows; b++) {
          actions.set(sample.subarray(b * a, (b + 1) * a), (b * n + agent) * a);
        }
        input = concatColumns(jointObservations, n * o, actions, n * a, rows);
        actionOffset = n * o + agent * a;
      } else {
        input = concatColumns(observations, o, sample, a, rows);
        actionOffset = o;
      }
      tensors.push(input);
      const critic = this.#tf.of(this.critics[agent]);
      const criticTrace = critic.forwardTrace(input);
      tensors.push(...criticTrace.slice(1));
      const q = criticTrace[criticTrace.length - 1].dataSync();
      const minusMean = tf.fill([rows, 1], -1 / rows) as tf.Tensor2D;
      tensors.push(minusMean);
      const inputGrad = critic.inputGradient(criticTrace, minusMean);
      tensors.push(inputGrad);
      const inputGradValues = inputGrad.dataSync();
      const width = inputGrad.shape[1];
      const actionGrad = new Float32Array(rows * a);
      for (let b = 0; b < rows; b++) {
        for (let k = 0; k < a; k++) {
          actionGrad[b * a + k] = inputGradValues[b * width + actionOffset + k];
        }
      }
      const logitsGrad = gumbelSoftmaxBackward(soft, actionGrad, a, this.#temperature);
      let meanQ = 0, meanSquares = 0;
      for (let b = 0; b < rows; b++) meanQ += q[b];
      const c = this.#logitsPenalty, count = logits.length;
      for (let k = 0; k < count; k++) {
        meanSquares += logits[k] * logits[k];
        logitsGrad[k] += 2 * c * logits[k] / count;
      }
      const gradTensor = tf.tensor2d(logitsGrad, [rows, a]);
      tensors.push(gradTensor);
      const grads = new Float32Array(this.actors[agent].size);
      actor.backward(trace, gradTensor, grads);
      return { loss: -meanQ / rows + c * meanSquares / count, grads };
    } finally {
      tf.dispose(tensors);
    }
  }

  #updateActor(
    agent: number,
    batch: Batch,
    observationTensor: tf.Tensor2D,
    bufferActions: Float32Array,
    observations: Float32Array,
    noise: ArrayLike<number>,
  ): number {
    const { loss, grads } = this.actorGradient(
      agent,
      observationTensor,
      bufferActions,
      observations,
      batch.observations,
      noise,
    );
    clipGradNorm(grads, this.#gradClip);
    this.actorOptimizers[agent].step(this.actors[agent].params, grads);
    this.actors[agent].touch();
    return loss;
  }

  /** Soft-updates every target actor, and the target critics of `criticsOf` (default all). */
  updateTargets(criticsOf?: readonly number[]): void {
    const tau = this.#tau;
    for (let i = 0; i < this.numAgents; i++) {
      softUpdate(this.targetActors[i], this.actors[i], tau);
      if (criticsOf && !criticsOf.includes(i)) continue;
      softUpdate(this.targetCritics[i], this.critics[i], tau);
      if (this.twin) softUpdate(this.targetCritics2[i], this.critics2[i], tau);
    }
  }

  #stateLayout(): { nets: Record<string, Mlp[]>; optimizers: Record<string, Adam[]> } {
    return {
      nets: {
        actor: this.actors,
        critic: this.critics,
        critic2: this.critics2,
        target_actor: this.targetActors,
        target_critic: this.targetCritics,
        target_critic2: this.targetCritics2,
      },
      optimizers: {
        actor: this.actorOptimizers,
        critic: this.criticOptimizers,
        critic2: this.criticOptimizers2,
      },
    };
  }

  /** Every network, optimizer and counter (see {@linkcode UpdateCore.getState}). */
  getState(): LearnerState {
    const { nets, optimizers } = this.#stateLayout();
    return collectState(nets, optimizers, {
      rounds: [this.#rounds],
      lastActorLosses: [...this.#lastActorLosses],
    });
  }

  /** Restores {@linkcode GumbelMADDPG.getState}'s result. */
  setState(state: LearnerState): void {
    const { nets, optimizers } = this.#stateLayout();
    const rounds = state.counters.rounds?.[0];
    const last = state.counters.lastActorLosses;
    if (!Number.isSafeInteger(rounds) || rounds! < 0 || last?.length !== this.numAgents) {
      throw new RangeError("The saved state lacks the update counters of this algorithm");
    }
    restoreState(state, nets, optimizers);
    this.#rounds = rounds!;
    this.#lastActorLosses = [...last];
  }

  /** Frees every uploaded tensor. */
  dispose(): void {
    this.#tf.dispose();
  }
}
