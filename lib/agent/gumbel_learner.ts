/**
 * The learner behind `maddpg`, `matd3` and `iddpg`: MADDPG for discrete actions as in Lowe
 * et al. 2017 and its reference implementation (Gumbel-Softmax actions, the actor's gradient
 * flowing through the critic), with MATD3's twin critics, delayed policy updates and
 * target-policy smoothing, or independent critics that see one agent.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { Adam, clipGradNorm } from "../nn/adam.ts";
import { Mlp, softUpdate } from "../nn/mlp.ts";
import type { WeightInit } from "../nn/mlp.ts";
import { layerActivations } from "../nn/activation.ts";
import type { Batch } from "../replay_buffer.ts";
import type { Pcg32 } from "../rng.ts";
import type { TrainConfig } from "../config_fields.ts";
import { collectState, restoreState } from "./algorithm.ts";
import type {
  AgentShape,
  AlgorithmInstance,
  LearnerState,
  LearningOptions,
  PeerExchange,
  UpdateLosses,
} from "./algorithm.ts";
import {
  concatRows,
  concatTensor,
  drawUniformArray,
  forwardValues,
  oneHot,
  TfCache,
  withColumns,
} from "./_inputs.ts";
import { regressCritic, tdTargets } from "./_critic.ts";
import { BoxHead, GumbelHead } from "./_action_heads.ts";
import type { ActionHead, BoxOutput } from "./_action_heads.ts";

export { smoothLogits } from "./_action_heads.ts";

/**
 * Config fields every algorithm of this learner uses: the Gumbel-Softmax of discrete actions
 * and the exploration noise of continuous ones.
 */
export const LEARNER_FIELDS = [
  "temperature",
  "hard",
  "logitsRegularization",
  "actionNoise",
  "actionNoiseEnd",
  "actionNoiseDecay",
  "actionNoiseAfterWarmup",
  "actorOutput",
  "weightInit",
  "actorGradClip",
  "batchPerAgent",
  "shareActors",
  "fusedMultiplyAdd",
  "lrDecayUpdates",
  "lrEndFactor",
] as const;

/** The algorithms this learner runs. */
export type GumbelVariant = "maddpg" | "matd3" | "iddpg";

/** Options of {@linkcode GumbelMaddpg}. */
export interface GumbelOptions extends LearningOptions {
  /** `maddpg` (centralized critic), `matd3` (twin centralized critics), `iddpg` (local critics). */
  variant: GumbelVariant;
  /**
   * Teams: each agent's own variant, `maddpg` or `iddpg` (a centralized or a local critic), as
   * the MADDPG paper pits MADDPG agents against DDPG adversaries. @default `variant` for all
   */
  variants?: readonly GumbelVariant[];
  /** Each agent's sizes (discrete actions). */
  agents: readonly AgentShape[];
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
  /** Output of continuous actors: a sigmoid, or a tanh rescaled to the box. @default "sigmoid" */
  actorOutput?: BoxOutput;
  /** How every network's parameters are drawn. @default "torch" */
  weightInit?: WeightInit;
  /** Gradient-norm clip of actor updates; 0 takes `gradClip`. @default 0 */
  actorGradClip?: number;
  /** Updates over which every learning rate decays linearly (0: constant). @default 0 */
  lrDecayUpdates?: number;
  /** The factor learning rates end at. @default 0.1 */
  lrEndFactor?: number;
  /**
   * Parameter sharing: agents of the same spaces, team and variant share one actor (and its
   * target and optimizer), stepped once per round with the mean of their gradients. @default false
   */
  shareActors?: boolean;
  /**
   * Sum the networks' products with fused multiply-adds (relaxed SIMD, where the machine has
   * them): faster; results stay the same on every run and thread count of one machine but are
   * no longer bit-identical to the exact products. @default false
   */
  fusedMultiplyAdd?: boolean;
}

/** The shared part of one update round (see {@linkcode GumbelMaddpg.beginRound}). */
export interface GumbelRound {
  /** The batch. */
  batch: Batch;
  /** The actors' Gumbel noise, `[N][B][A_i]`. */
  actorNoise: Float64Array;
  /** One-hot batch actions of each agent, `[B, A_i]`. */
  bufferActions: Float32Array[];
  /** Each agent's observations as tensors. */
  observationTensors: tf.Tensor2D[];
  /** Each agent's critic input (one shared tensor when centralized). */
  inputs: tf.Tensor2D[];
  /**
   * The values of the centralized critics' shared input, `[B, Σ O_j + Σ A_j]` (built from
   * the batch where a round lacks it).
   */
  jointInput?: Float32Array;
  /** Each agent's critic input at the next step, with target actions. */
  nextInputs: tf.Tensor2D[];
  /** Whether actors and targets are updated this round. */
  policyRound: boolean;
}

/** The options of {@linkcode GumbelMaddpg} a config gives. */
export function gumbelOptions(
  variant: GumbelVariant,
  agents: readonly AgentShape[],
  config: TrainConfig,
): GumbelOptions {
  const team = config.adversaryAlgo;
  const adversaries: GumbelVariant = team === "same" ? variant : team === "ddpg" ? "iddpg" : team;
  return {
    variant,
    variants: agents.map((agent) => (agent.adversary ? adversaries : variant)),
    agents,
    actorLr: config.actorLr,
    criticLr: config.criticLr,
    gamma: config.gamma,
    tau: config.tau,
    gradClip: config.gradClip,
    actorHidden: config.actorHidden,
    criticHidden: config.criticHidden,
    temperature: config.temperature,
    hard: config.hard,
    logitsRegularization: config.logitsRegularization,
    policyDelay: config.policyDelay,
    targetNoise: config.targetNoise,
    targetNoiseClip: config.targetNoiseClip,
    actorOutput: config.actorOutput,
    weightInit: config.weightInit,
    actorGradClip: config.actorGradClip,
    lrDecayUpdates: config.lrDecayUpdates,
    lrEndFactor: config.lrEndFactor,
    shareActors: config.shareActors,
    fusedMultiplyAdd: config.fusedMultiplyAdd,
  };
}

/**
 * For each agent, the first agent whose actor it uses: itself, or with `share` the first agent
 * of the same observation and action spaces, team and variant.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const good = { observationSize: 10, actionKind: "discrete", actionSize: 5 } as const;
 * const adversary = { ...good, observationSize: 8, adversary: true };
 * const agents = [adversary, good, good];
 * assert.deepEqual(actorOwners(agents, ["maddpg", "maddpg", "maddpg"], true), [0, 1, 1]);
 * assert.deepEqual(actorOwners(agents, ["maddpg", "maddpg", "iddpg"], true), [0, 1, 2]);
 * assert.deepEqual(actorOwners(agents, ["maddpg", "maddpg", "maddpg"], false), [0, 1, 2]);
 * ```
 */
export function actorOwners(
  agents: readonly AgentShape[],
  variants: readonly GumbelVariant[],
  share: boolean,
): number[] {
  const key = (i: number) => {
    const { observationSize, actionKind, actionSize, adversary, bounds } = agents[i];
    return JSON.stringify([
      observationSize,
      actionKind,
      actionSize,
      !!adversary,
      bounds,
      variants[i],
    ]);
  };
  const keys = agents.map((_, i) => key(i));
  return keys.map((k, i) => (share ? keys.indexOf(k) : i));
}

/**
 * Actors, critics (two per agent for MATD3), targets and optimizers, and one update round:
 * - critic i: `y = r_i + γ (1 − term_i) Q'_i(x', a')` with `a'_j` Gumbel-Softmax samples of
 *   the target actors (MATD3: noisy target logits, and the minimum of the twin targets);
 * - actor i: `a_i` a Gumbel-Softmax sample of actor i, the others' actions from the batch
 *   (as the reference implementation), `loss = −mean(Q_i(x, a)) + c · mean(logits²)`,
 *   backpropagated through the critic and the Gumbel-Softmax into the actor;
 * - every target soft-updated after the actors (MATD3: every `policyDelay` rounds).
 *
 * All random numbers of a round come from {@linkcode GumbelMaddpg.drawUniforms}.
 */
export class GumbelMaddpg implements AlgorithmInstance {
  /** Which algorithm. */
  readonly variant: GumbelVariant;
  readonly agents: readonly AgentShape[];
  /** Whether each agent's critic sees every agent (all but `iddpg` agents). */
  readonly centralized: readonly boolean[];
  /** Whether each agent has twin critics (`matd3`). */
  readonly twin: boolean;
  readonly actors: Mlp[] = [];
  readonly critics: Mlp[] = [];
  /** Each agent's second critic (`matd3` only; empty otherwise). */
  readonly critics2: Mlp[] = [];
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
  readonly #actorGradClip: number;
  readonly #actorOutput: BoxOutput;
  readonly #temperature: number;
  readonly #hard: boolean;
  readonly #logitsPenalty: number;
  readonly #policyDelay: number;
  readonly #targetNoise: number;
  readonly #targetNoiseClip: number;
  readonly #tf: TfCache;
  /** Offset of each agent's block `[B][A_j]` in a `[N][B][A]` noise array, per batch row. */
  readonly #actionOffsets: number[];
  readonly #actionTotal: number;
  /** How each agent's actor outputs become actions. */
  readonly #heads: ActionHead[];
  /** For each agent, the agent whose actor it uses ({@linkcode actorOwners}). */
  readonly actorOwner: readonly number[];
  /** How many agents use each agent's actor (0 for an agent that uses another's). */
  readonly #sharers: number[];
  /** Each shared actor's summed gradient so far this round, by owner. */
  readonly #sharedGrads = new Map<number, Float32Array>();
  #rounds = 0;

  /** Each agent's actor, critic, their targets and optimizers, initialised from `rng`. */
  constructor(options: GumbelOptions, rng: Pcg32) {
    const { variant, agents, actorHidden = [128, 128], criticHidden = [256, 256] } = options;
    const weightInit = options.weightInit ?? "torch";
    this.variant = variant;
    this.agents = agents;
    this.#tf = new TfCache({ fused: options.fusedMultiplyAdd ?? false });
    const variants = teamVariants(options);
    this.centralized = variants.map((v) => v !== "iddpg");
    this.twin = variant === "matd3";
    this.#gamma = options.gamma ?? 0.99;
    this.#tau = options.tau ?? 1e-3;
    this.#gradClip = options.gradClip ?? 1;
    this.#actorGradClip = options.actorGradClip || this.#gradClip;
    this.#actorOutput = options.actorOutput ?? "sigmoid";
    this.#temperature = options.temperature ?? 1;
    this.#hard = options.hard ?? false;
    this.#logitsPenalty = options.logitsRegularization ?? 1e-3;
    this.#policyDelay = this.twin ? options.policyDelay ?? 2 : 1;
    this.#targetNoise = this.twin ? options.targetNoise ?? 0.2 : 0;
    this.#targetNoiseClip = options.targetNoiseClip ?? 0.5;
    if (!(this.#temperature > 0)) {
      throw new RangeError(`Temperature must be positive, got ${this.#temperature}`);
    }
    this.#actionOffsets = agents.map((_, i) => sumActionSizes(agents.slice(0, i)));
    this.#actionTotal = sumActionSizes(agents);
    this.#heads = agents.map((agent) => this.#head(agent));
    const owner = actorOwners(agents, variants, options.shareActors ?? false);
    this.actorOwner = owner;
    this.#sharers = owner.map((_, i) => owner.filter((o) => o === i).length);
    agents.forEach((agent, i) => {
      const critic = [this.criticInputSize(i), ...criticHidden, 1];
      const sizes = [agent.observationSize, ...actorHidden, agent.actionSize];
      const activations = layerActivations(sizes.length - 1, {
        output: this.#heads[i].outputActivation,
      });
      this.actors.push(
        owner[i] === i ? Mlp.init(sizes, rng, { activations, weightInit }) : this.actors[owner[i]],
      );
      this.critics.push(Mlp.init(critic, rng, { weightInit }));
      if (this.twin) this.critics2.push(Mlp.init(critic, rng, { weightInit }));
    });
    const sharedOf = <T>(own: (i: number) => T) => {
      const list: T[] = [];
      owner.forEach((o, i) => list.push(o === i ? own(i) : list[o]));
      return list;
    };
    this.targetActors = sharedOf((i) => this.actors[i].clone());
    this.targetCritics = this.critics.map((net) => net.clone());
    this.targetCritics2 = this.critics2.map((net) => net.clone());
    const schedule = { lrDecaySteps: options.lrDecayUpdates, lrEndFactor: options.lrEndFactor };
    const adam = (lr: number) => (net: Mlp) => new Adam(net.size, { lr, ...schedule });
    this.actorOptimizers = sharedOf((i) => adam(options.actorLr ?? 1e-4)(this.actors[i]));
    this.criticOptimizers = this.critics.map(adam(options.criticLr ?? 1e-3));
    this.criticOptimizers2 = this.critics2.map(adam(options.criticLr ?? 1e-3));
  }

  #head(agent: AgentShape): ActionHead {
    const smoothing = this.twin
      ? { std: this.#targetNoise, clip: this.#targetNoiseClip }
      : undefined;
    if (agent.actionKind === "continuous") {
      if (!agent.bounds) throw new RangeError("A continuous agent needs the bounds of its actions");
      return new BoxHead({ ...agent.bounds, smoothing, output: this.#actorOutput });
    }
    return new GumbelHead({
      n: agent.actionSize,
      temperature: this.#temperature,
      hard: this.#hard,
      logitsPenalty: this.#logitsPenalty,
      smoothing,
    });
  }

  /** Whether some agents share an actor (`--share-actors` with agents alike). */
  get sharesActors(): boolean {
    return this.actorOwner.some((o, i) => o !== i);
  }

  /** Number of agents. */
  get numAgents(): number {
    return this.agents.length;
  }

  /** Width of agent i's critic input: all observations and actions, or its own (`iddpg`). */
  criticInputSize(agent: number): number {
    const seen = this.centralized[agent] ? this.agents : [this.agents[agent]];
    return seen.reduce((sum, a) => sum + a.observationSize + a.actionSize, 0);
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
    return batchSize * this.#actionTotal * (this.twin ? 4 : 2);
  }

  /** Draws one round's uniform numbers from `rng`. */
  drawUniforms(batchSize: number, rng: Pcg32): Float64Array {
    return drawUniformArray(this.uniformsPerRound(batchSize), rng);
  }

  /** Whether this round (counted from 0) updates actors and targets. */
  #policyRound(): boolean {
    return this.#rounds % this.#policyDelay === this.#policyDelay - 1;
  }

  /** One update round with the given random numbers. */
  update(batch: Batch, uniforms: Float64Array): UpdateLosses {
    const round = this.beginRound(batch, uniforms);
    const losses: UpdateLosses = { critic: [], actor: [] };
    this.#sharedGrads.clear();
    try {
      for (let i = 0; i < this.numAgents; i++) {
        const agentLosses = this.updateOne(round, i);
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
   * One round in which agent i learns from `batches[i]` with `uniforms[i]`, as
   * maddpg-zoo-torch draws a batch for each agent: each agent's update depends only on its
   * own networks and the target actors, which change at the round's end.
   */
  updateSeparately(batches: readonly Batch[], uniforms: readonly Float64Array[]): UpdateLosses {
    if (batches.length !== this.numAgents || uniforms.length !== this.numAgents) {
      throw new RangeError(
        `A round with a batch per agent needs ${this.numAgents} batches and uniform arrays, got ${batches.length} and ${uniforms.length}`,
      );
    }
    const losses: UpdateLosses = { critic: [], actor: [] };
    this.#sharedGrads.clear();
    let round: GumbelRound | undefined;
    for (let i = 0; i < this.numAgents; i++) {
      round = this.beginRound(batches[i], uniforms[i]);
      try {
        const agentLosses = this.updateOne(round, i);
        losses.critic.push(agentLosses.critic);
        losses.actor.push(agentLosses.actor);
      } finally {
        this.endRound(round);
      }
    }
    this.finishRound(round!);
    return losses;
  }

  /** Agent `agent`'s part of a round on its own worker: agents meet only at the targets. */
  async updateAgent(
    agent: number,
    { batch, uniforms }: { batch: Batch; uniforms: Float64Array },
    peers: PeerExchange,
  ): Promise<{ critic: number; actor: number }> {
    if (this.sharesActors) {
      throw new RangeError("Agents that share an actor cannot each update on their own worker");
    }
    const round = this.beginRound(batch, uniforms);
    let losses: { critic: number; actor: number };
    try {
      losses = this.updateOne(round, agent);
    } finally {
      this.endRound(round);
    }
    peers.sendActor();
    await peers.receiveActors(0, this.numAgents);
    this.finishRound(round, [agent]);
    return losses;
  }

  /**
   * Uploads a batch and computes what every agent's update shares: each agent's inputs and
   * the target actors' actions. Free it with {@linkcode GumbelMaddpg.endRound}.
   */
  beginRound(batch: Batch, uniforms: Float64Array): GumbelRound {
    const rows = batch.size, n = this.numAgents;
    if (uniforms.length !== this.uniformsPerRound(rows)) {
      throw new RangeError(
        `A round needs ${this.uniformsPerRound(rows)} uniforms, got ${uniforms.length}`,
      );
    }
    const block = rows * this.#actionTotal;
    const bufferActions = batch.actions.map((a, i) =>
      this.agents[i].actionKind === "discrete" ? oneHot(a, this.agents[i].actionSize) : a
    );
    const nextActions = this.#targetActions(batch.nextObservations, uniforms, rows);
    const round: GumbelRound = {
      batch,
      actorNoise: uniforms.subarray(this.twin ? 3 * block : block),
      bufferActions,
      observationTensors: [],
      inputs: [],
      nextInputs: [],
      policyRound: this.#policyRound(),
    };
    try {
      round.observationTensors = batch.observations.map((data, i) =>
        tf.tensor2d(data, [rows, this.agents[i].observationSize])
      );
      // Centralized critics share one input; a local critic sees its own agent only.
      let shared: { input: tf.Tensor2D; next: tf.Tensor2D } | undefined;
      if (this.centralized.some(Boolean)) {
        round.jointInput = concatRows([...batch.observations, ...bufferActions], rows);
        shared = {
          input: tf.tensor2d(round.jointInput, [rows, round.jointInput.length / rows]),
          next: concatTensor([...batch.nextObservations, ...nextActions], rows),
        };
      }
      for (let i = 0; i < n; i++) {
        if (this.centralized[i]) {
          round.inputs.push(shared!.input);
          round.nextInputs.push(shared!.next);
        } else {
          round.inputs.push(concatTensor([batch.observations[i], bufferActions[i]], rows));
          round.nextInputs.push(concatTensor([batch.nextObservations[i], nextActions[i]], rows));
        }
      }
    } catch (error) {
      this.endRound(round);
      throw error;
    }
    return round;
  }

  /**
   * Agent `agent`'s part of a round: its critics, then (on policy rounds) its actor. The
   * actor loss is NaN on rounds that do not update the actor.
   */
  updateOne(round: GumbelRound, agent: number): { critic: number; actor: number } {
    const critic = this.#updateCritics(agent, round);
    const actor = round.policyRound ? this.#updateActor(agent, round) : NaN;
    return { critic, actor };
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

  /** Gumbel-Softmax samples of every target actor, `[B, A_j]` each (MATD3: noisy logits first). */
  #targetActions(
    nextObservations: Float32Array[],
    uniforms: Float64Array,
    rows: number,
  ): Float32Array[] {
    const block = rows * this.#actionTotal;
    return this.agents.map((shape, j) => {
      const a = shape.actionSize, offset = rows * this.#actionOffsets[j];
      const input = tf.tensor2d(nextObservations[j], [rows, shape.observationSize]);
      const outputs = forwardValues(this.#tf.of(this.targetActors[j]), input);
      input.dispose();
      return this.#heads[j].targetActions(outputs, {
        gumbel: uniforms.subarray(offset, offset + rows * a),
        smoothing: this.twin ? uniforms.subarray(block + 2 * offset) : undefined,
      });
    });
  }

  /**
   * Targets `y = r_i + γ (1 − term_i) Q'_i(x', a')`; with twin critics the smaller of the two
   * target values (clipped double Q).
   */
  targetValues(agent: number, batch: Batch, nextInput: tf.Tensor2D): Float64Array {
    const next = forwardValues(this.#tf.of(this.targetCritics[agent]), nextInput);
    if (this.twin) {
      const next2 = forwardValues(this.#tf.of(this.targetCritics2[agent]), nextInput);
      for (let b = 0; b < next.length; b++) next[b] = Math.min(next[b], next2[b]);
    }
    return tdTargets(batch, { agent, numAgents: this.numAgents, gamma: this.#gamma }, next);
  }

  #updateCritics(agent: number, round: GumbelRound): number {
    const y = this.targetValues(agent, round.batch, round.nextInputs[agent]);
    const pairs: [Mlp, Adam][] = [[this.critics[agent], this.criticOptimizers[agent]]];
    if (this.twin) pairs.push([this.critics2[agent], this.criticOptimizers2[agent]]);
    let lossSum = 0;
    for (const [critic, optimizer] of pairs) {
      const tfCritic = this.#tf.of(critic);
      lossSum += regressCritic(
        { critic, tfCritic, optimizer, gradClip: this.#gradClip },
        round.inputs[agent],
        y,
      );
    }
    return lossSum / pairs.length;
  }

  /**
   * The actor loss and its gradient for agent `agent`: the actions of the others from the
   * batch, its own from its actor (a Gumbel-Softmax sample with noise `[B][A_i]`, or the
   * scaled sigmoid output for a continuous agent), the gradient through the critic.
   */
  actorGradient(
    agent: number,
    round: Pick<GumbelRound, "batch" | "observationTensors" | "bufferActions" | "jointInput">,
    noise: ArrayLike<number>,
  ): { loss: number; grads: Float32Array } {
    const { batch } = round;
    const rows = batch.size, a = this.agents[agent].actionSize;
    const actor = this.#tf.of(this.actors[agent]);
    const trace = actor.forwardTrace(round.observationTensors[agent]);
    const tensors: tf.Tensor[] = trace.slice(1);
    try {
      const outputs = trace[trace.length - 1].dataSync() as Float32Array;
      const own = this.#heads[agent].actorActions(outputs, noise);
      const { input, actionOffset } = this.#actorCriticInput(agent, round, own.actions);
      tensors.push(input);
      const critic = this.#tf.of(this.critics[agent]);
      const criticTrace = critic.forwardTrace(input);
      tensors.push(...criticTrace.slice(1));
      const q = criticTrace[criticTrace.length - 1].dataSync();
      const minusMean = tf.fill([rows, 1], -1 / rows) as tf.Tensor2D;
      tensors.push(minusMean);
      const inputGrad = critic.inputGradient(criticTrace, minusMean, {
        from: actionOffset,
        count: a,
      });
      tensors.push(inputGrad);
      const actionGrad = inputGrad.dataSync() as Float32Array;
      const outputGrad = own.outputGradient(actionGrad);
      let meanQ = 0;
      for (let b = 0; b < rows; b++) meanQ += q[b];
      const gradTensor = tf.tensor2d(outputGrad, [rows, a]);
      tensors.push(gradTensor);
      const grads = new Float32Array(this.actors[agent].size);
      actor.backward(trace, gradTensor, grads);
      return { loss: -meanQ / rows + own.penalty, grads };
    } finally {
      tf.dispose(tensors);
    }
  }

  /** Agent i's critic input with its own actions replaced by `sample`, and where they sit. */
  #actorCriticInput(
    agent: number,
    { batch, bufferActions, jointInput }: Pick<
      GumbelRound,
      "batch" | "bufferActions" | "jointInput"
    >,
    sample: Float32Array,
  ): { input: tf.Tensor2D; actionOffset: number } {
    const rows = batch.size;
    if (!this.centralized[agent]) {
      const input = concatTensor([batch.observations[agent], sample], rows);
      return { input, actionOffset: this.agents[agent].observationSize };
    }
    const observationWidth = this.agents.reduce((sum, a) => sum + a.observationSize, 0);
    const actionOffset = observationWidth + this.#actionOffsets[agent];
    const joint = jointInput ?? concatRows([...batch.observations, ...bufferActions], rows);
    const values = withColumns(joint, { rows, from: actionOffset, values: sample });
    return { input: tf.tensor2d(values, [rows, values.length / rows]), actionOffset };
  }

  #updateActor(agent: number, round: GumbelRound): number {
    const rows = round.batch.size, a = this.agents[agent].actionSize;
    const start = rows * this.#actionOffsets[agent];
    const noise = round.actorNoise.subarray(start, start + rows * a);
    const { loss, grads } = this.actorGradient(agent, round, noise);
    const step = this.#sharedGradient(agent, grads);
    if (!step) return loss;
    clipGradNorm(step, this.#actorGradClip);
    this.actorOptimizers[agent].step(this.actors[agent].params, step);
    this.actors[agent].touch();
    return loss;
  }

  /**
   * The gradient to step agent `agent`'s actor with: its own, or for a shared actor the mean
   * of its sharers' gradients once the last of them has given its own (undefined before).
   */
  #sharedGradient(agent: number, grads: Float32Array): Float32Array | undefined {
    const owner = this.actorOwner[agent], sharers = this.#sharers[owner];
    if (sharers === 1) return grads;
    // The round's first sharer leaves its own array as the sum.
    const sum = this.#sharedGrads.get(owner) ?? grads;
    if (sum !== grads) { for (let k = 0; k < grads.length; k++) sum[k] += grads[k]; }
    // Agents update in order, so the actor's last sharer is the last agent that uses it.
    if (agent !== this.actorOwner.lastIndexOf(owner)) {
      this.#sharedGrads.set(owner, sum);
      return undefined;
    }
    this.#sharedGrads.delete(owner);
    return sum.map((g) => g / sharers);
  }

  /** Soft-updates every target actor, and the target critics of `criticsOf` (default all). */
  updateTargets(criticsOf?: readonly number[]): void {
    const tau = this.#tau;
    for (let i = 0; i < this.numAgents; i++) {
      if (this.actorOwner[i] === i) softUpdate(this.targetActors[i], this.actors[i], tau);
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

  getState(): LearnerState {
    const { nets, optimizers } = this.#stateLayout();
    return collectState(nets, optimizers, { rounds: [this.#rounds] });
  }

  setState(state: LearnerState): void {
    const { nets, optimizers } = this.#stateLayout();
    const rounds = state.counters.rounds?.[0];
    if (!Number.isSafeInteger(rounds) || rounds! < 0) {
      throw new RangeError("The saved state lacks the update counters of this algorithm");
    }
    restoreState(state, nets, optimizers);
    this.#rounds = rounds!;
  }

  dispose(): void {
    this.#tf.dispose();
  }
}

/** Each agent's variant (`options.variant` for all unless `options.variants`), checked. */
function teamVariants(options: GumbelOptions): readonly GumbelVariant[] {
  const { variant, agents } = options;
  const variants = options.variants ?? agents.map(() => variant);
  if (variants.length !== agents.length) {
    throw new RangeError(
      `${agents.length} agents need ${agents.length} variants, got ${variants.length}`,
    );
  }
  if (variants.some((v) => (v === "matd3") !== (variant === "matd3"))) {
    throw new RangeError("matd3 cannot be mixed with other variants in one team setup");
  }
  return variants;
}

function sumActionSizes(agents: readonly AgentShape[]): number {
  return agents.reduce((total, agent) => total + agent.actionSize, 0);
}
