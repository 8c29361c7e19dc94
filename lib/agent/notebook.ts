/**
 * The seed notebook's MADDPG for discrete actions (`--algo notebook`): per-agent actors on
 * local observations, per-agent centralized critics on all observations and one-hot joint
 * actions, and a REINFORCE-style actor loss on a detached Q.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { Adam, clipGradNorm } from "../nn/adam.ts";
import { mseGradient, regressCritic, tdTargets } from "./_critic.ts";
import { Mlp, softUpdate } from "../nn/mlp.ts";
import type { Batch } from "../replay_buffer.ts";
import type { Pcg32 } from "../rng.ts";
import { collectState, restoreState } from "./algorithm.ts";
import type {
  AgentShape,
  AlgorithmInstance,
  AlgorithmSpec,
  LearnerState,
  LearningOptions,
  PeerExchange,
  UpdateLosses,
} from "./algorithm.ts";
import { concatTensor, drawUniformArray, forwardValues, oneHot, TfCache } from "./_inputs.ts";
import { argmax, sampleCategorical } from "./policy.ts";

/** Hyperparameters of {@linkcode NotebookMaddpg}. */
export interface NotebookOptions extends LearningOptions {
  /** Each agent's sizes (discrete actions). */
  agents: readonly AgentShape[];
}

/** An actor update half done: see {@linkcode NotebookMaddpg.prepareActor}. */
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

/** The tensors of one update round that every agent's update shares. */
export interface NotebookRound {
  /** The batch. */
  batch: Batch;
  /** Each agent's observations, `[B, observationSize_i]`. */
  observations: tf.Tensor2D[];
  /** Critic input of the stored transitions. */
  criticInput: tf.Tensor2D;
  /** Critic input of the next observations with the target actors' greedy actions. */
  nextCriticInput: tf.Tensor2D;
  /** The uniform numbers of the actor updates, `[agent i][agent j][row b]` flat. */
  uniforms: Float64Array;
}

/**
 * Actors, critics, their target copies and optimizers of every agent, and the notebook's
 * update. One round is, agent by agent:
 * - critic: `y = r_i + γ (1 − term_i) Q'_i(x', onehot(argmax μ'_j(o'_j)) ∀j)`, MSE, clip, Adam;
 * - actor: `a_j ~ π_j(o_j)` for every agent j from the current actors, then
 *   `loss = −mean(log π_i(a_i|o_i) · Q_i(x, a))` with Q held constant, clip, Adam (the
 *   notebook's shapes broadcast that product to [B, B], which makes it
 *   `−mean(log π_i) · mean(Q_i)`; reproduced as such);
 * then every target network is soft-updated with τ.
 *
 * @example
 * ```ts
 * import { NotebookMaddpg } from "./notebook.ts";
 * import { selectActions } from "./policy.ts";
 * import { Pcg32 } from "../rng.ts";
 * import assert from "node:assert/strict";
 * const shape = { observationSize: 6, actionKind: "discrete", actionSize: 4 } as const;
 * const algorithm = new NotebookMaddpg({ agents: [shape, shape] }, new Pcg32(42));
 * const actions = selectActions(algorithm.actors, [new Float32Array(6), new Float32Array(6)], {
 *   mode: "greedy",
 * });
 * assert.equal(actions.length, 2);
 * algorithm.dispose();
 * ```
 */
export class NotebookMaddpg implements AlgorithmInstance {
  readonly agents: readonly AgentShape[];
  /** Discount factor. */
  readonly gamma: number;
  /** Soft-update rate. */
  readonly tau: number;
  /** Gradient clipping norm. */
  readonly gradClip: number;
  readonly actors: Mlp[] = [];
  readonly critics: Mlp[] = [];
  /** Target copies of the actors. */
  readonly targetActors: Mlp[];
  /** Target copies of the critics. */
  readonly targetCritics: Mlp[];
  /** Each actor's optimizer. */
  readonly actorOptimizers: Adam[];
  /** Each critic's optimizer. */
  readonly criticOptimizers: Adam[];

  readonly #tf = new TfCache();

  /** Builds every network, initialised from `rng` agent by agent (actor, then critic). */
  constructor(options: NotebookOptions, rng: Pcg32) {
    const { agents, actorHidden = [128, 128], criticHidden = [256, 256] } = options;
    this.agents = agents;
    this.gamma = options.gamma ?? 0.99;
    this.tau = options.tau ?? 1e-3;
    this.gradClip = options.gradClip ?? 1;
    const criticInput = agents.reduce((sum, a) => sum + a.observationSize + a.actionSize, 0);
    for (const agent of agents) {
      this.actors.push(Mlp.init([agent.observationSize, ...actorHidden, agent.actionSize], rng));
      this.critics.push(Mlp.init([criticInput, ...criticHidden, 1], rng));
    }
    this.targetActors = this.actors.map((net) => net.clone());
    this.targetCritics = this.critics.map((net) => net.clone());
    this.actorOptimizers = this.actors.map((net) =>
      new Adam(net.size, { lr: options.actorLr ?? 1e-4 })
    );
    this.criticOptimizers = this.critics.map((net) =>
      new Adam(net.size, { lr: options.criticLr ?? 1e-3 })
    );
  }

  /** Number of agents. */
  get numAgents(): number {
    return this.agents.length;
  }

  /** Critic input rows: every observation, then every one-hot action. */
  #criticInput(observations: readonly Float32Array[], actions: readonly ArrayLike<number>[]) {
    const rows = observations[0].length / this.agents[0].observationSize;
    const oneHots = actions.map((a, i) => oneHot(a, this.agents[i].actionSize));
    return concatTensor([...observations, ...oneHots], rows);
  }

  /** Number of uniform draws one update round needs (see {@linkcode NotebookRound.uniforms}). */
  uniformsPerRound(batchSize: number): number {
    return this.numAgents * this.numAgents * batchSize;
  }

  /** Draws the uniform numbers of one round's actor updates from `rng`. */
  drawUniforms(batchSize: number, rng: Pcg32): Float64Array {
    return drawUniformArray(this.uniformsPerRound(batchSize), rng);
  }

  /**
   * One update round on a batch: every agent's critic and actor in turn (the notebook's
   * `update(batch, i)` for i = 0..N−1), then the soft update of all targets. `uniforms` are
   * the round's random draws, in the order the notebook makes them.
   */
  update(batch: Batch, uniforms: Float64Array): UpdateLosses {
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
   * Agent `agent`'s part of a round on its own worker: its actor update samples the actions
   * of the agents before it from their new actors, so it waits for those (its own log-π
   * gradient first); the targets move once every new actor has arrived.
   */
  async updateAgent(
    agent: number,
    { batch, uniforms }: { batch: Batch; uniforms: Float64Array },
    peers: PeerExchange,
  ): Promise<{ critic: number; actor: number }> {
    const round = this.beginRound(batch, uniforms);
    let critic: number, actor: number;
    try {
      critic = this.updateCritic(round, agent);
      const prepared = this.prepareActor(round, agent);
      await peers.receiveActors(0, agent);
      actor = this.finishActor(round, prepared);
    } finally {
      this.endRound(round);
    }
    peers.sendActor();
    await peers.receiveActors(agent + 1, this.numAgents);
    this.updateTargets([agent]);
    return { critic, actor };
  }

  /**
   * Uploads a batch and computes what every agent's update shares. The target actors'
   * actions are computed once: targets only move after all agents are updated.
   * Free it with {@linkcode NotebookMaddpg.endRound}.
   */
  beginRound(batch: Batch, uniforms: Float64Array): NotebookRound {
    const rows = batch.size;
    if (uniforms.length !== this.uniformsPerRound(rows)) {
      throw new RangeError(
        `A round needs ${this.uniformsPerRound(rows)} uniforms, got ${uniforms.length}`,
      );
    }
    const nextActions = this.agents.map((shape, j) => {
      const input = tf.tensor2d(batch.nextObservations[j], [rows, shape.observationSize]);
      const logits = forwardValues(this.#tf.of(this.targetActors[j]), input);
      input.dispose();
      const actions = new Int32Array(rows);
      for (let b = 0; b < rows; b++) {
        actions[b] = argmax(logits, b * shape.actionSize, shape.actionSize);
      }
      return actions;
    });
    return {
      batch,
      uniforms,
      observations: this.agents.map((shape, i) =>
        tf.tensor2d(batch.observations[i], [rows, shape.observationSize])
      ),
      criticInput: this.#criticInput(batch.observations, batch.actions),
      nextCriticInput: this.#criticInput(batch.nextObservations, nextActions),
    };
  }

  /** Frees a round's tensors. */
  endRound(round: NotebookRound): void {
    round.criticInput.dispose();
    round.nextCriticInput.dispose();
    for (const t of round.observations) t.dispose();
  }

  /** Updates agent `agent`'s critic on the round's batch; returns its MSE loss. */
  updateCritic(round: NotebookRound, agent: number): number {
    return regressCritic(
      {
        critic: this.critics[agent],
        tfCritic: this.#tf.of(this.critics[agent]),
        optimizer: this.criticOptimizers[agent],
        gradClip: this.gradClip,
      },
      round.criticInput,
      this.criticTargets(round, agent),
    );
  }

  /** `y = r_i + γ (1 − term_i) Q'_i(x', a')` of every batch row. */
  criticTargets(round: NotebookRound, agent: number): Float64Array {
    const next = forwardValues(this.#tf.of(this.targetCritics[agent]), round.nextCriticInput);
    return tdTargets(round.batch, { agent, numAgents: this.numAgents, gamma: this.gamma }, next);
  }

  /**
   * The critic loss `mean((Q_i(x, a) − y)²)` and its gradient with respect to critic i's
   * parameters (written into `grads`).
   */
  criticGradient(round: NotebookRound, agent: number, grads: Float32Array): number {
    const targets = this.criticTargets(round, agent);
    return mseGradient(this.#tf.of(this.critics[agent]), {
      input: round.criticInput,
      targets,
      grads,
    });
  }

  /**
   * Updates agent `agent`'s actor, sampling every agent's action from the current actors
   * (so agents updated earlier in the round act with their new weights). Returns its loss.
   */
  updateActor(round: NotebookRound, agent: number): number {
    return this.finishActor(round, this.prepareActor(round, agent));
  }

  /**
   * The part of an actor update that needs only this agent's own actor: its sampled
   * actions and the gradient of mean log π_i(a_i|o_i).
   *
   * TRAP: the notebook multiplies log_prob ([B]) by Q ([B, 1]); broadcasting makes that a
   * [B, B] matrix, so its loss is −mean(log π_i(a_i|o_i)) · mean(Q_i) (kept: it is the
   * spec). Its gradient is −mean(Q_i) · ∇ mean(log π_i), and ∇ mean(log π_i) does not depend
   * on the other agents' actions: a worker computes it before the other actors arrive.
   */
  prepareActor(round: NotebookRound, agent: number): PreparedActor {
    const { batch, observations, uniforms } = round;
    const rows = batch.size, n = this.numAgents, actionSize = this.agents[agent].actionSize;
    const actor = this.#tf.of(this.actors[agent]);
    const trace = actor.forwardTrace(observations[agent]);
    const logits = trace[trace.length - 1].dataSync();
    const actions = new Int32Array(rows);
    const logitsGrad = new Float32Array(rows * actionSize);
    let meanLogProb = 0;
    for (let b = 0; b < rows; b++) {
      const offset = b * actionSize;
      const action = sampleCategorical(
        logits,
        uniforms[(agent * n + agent) * rows + b],
        offset,
        actionSize,
      );
      actions[b] = action;
      let max = -Infinity;
      for (let k = 0; k < actionSize; k++) max = Math.max(max, logits[offset + k]);
      let total = 0;
      for (let k = 0; k < actionSize; k++) total += Math.exp(logits[offset + k] - max);
      meanLogProb += logits[offset + action] - max - Math.log(total);
      // d mean(log softmax(z_b)[a_b]) / dz_b = (onehot(a_b) − softmax(z_b)) / B
      for (let k = 0; k < actionSize; k++) {
        const probability = Math.exp(logits[offset + k] - max) / total;
        logitsGrad[offset + k] = ((k === action ? 1 : 0) - probability) / rows;
      }
    }
    const gradTensor = tf.tensor2d(logitsGrad, [rows, actionSize]);
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
  finishActor(round: NotebookRound, prepared: PreparedActor): number {
    const { loss, grads } = this.actorGradient(round, prepared);
    clipGradNorm(grads, this.gradClip);
    this.actorOptimizers[prepared.agent].step(this.actors[prepared.agent].params, grads);
    this.actors[prepared.agent].touch();
    return loss;
  }

  /**
   * The actor loss `−mean(log π_i(a_i|o_i)) · mean(Q_i(x, a))` and its gradient, given
   * {@linkcode NotebookMaddpg.prepareActor}'s part (whose gradient array it reuses).
   */
  actorGradient(
    round: NotebookRound,
    prepared: PreparedActor,
  ): { loss: number; grads: Float32Array } {
    const { batch, observations, uniforms } = round;
    const rows = batch.size, n = this.numAgents, { agent } = prepared;
    const sampled = this.agents.map((shape, j) => {
      if (j === agent) return prepared.actions;
      const logits = forwardValues(this.#tf.of(this.actors[j]), observations[j]);
      const actions = new Int32Array(rows);
      for (let b = 0; b < rows; b++) {
        const u = uniforms[(agent * n + j) * rows + b];
        actions[b] = sampleCategorical(logits, u, b * shape.actionSize, shape.actionSize);
      }
      return actions;
    });
    const input = this.#criticInput(batch.observations, sampled);
    const q = forwardValues(this.#tf.of(this.critics[agent]), input);
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

  getState(): LearnerState {
    const { nets, optimizers } = this.#stateLayout();
    return collectState(nets, optimizers);
  }

  setState(state: LearnerState): void {
    const { nets, optimizers } = this.#stateLayout();
    restoreState(state, nets, optimizers);
  }

  dispose(): void {
    this.#tf.dispose();
  }
}

/** `--algo notebook`. */
export const NOTEBOOK: AlgorithmSpec = {
  name: "notebook",
  description: "the seed notebook's MADDPG: REINFORCE-style actor loss on a detached Q, ε-greedy",
  supports: { discrete: true, continuous: false, heterogeneous: true, mixedTeams: false },
  centralizedCritic: true,
  fields: [],
  create: ({ agents, config }, rng) =>
    new NotebookMaddpg({
      agents,
      actorLr: config.actorLr,
      criticLr: config.criticLr,
      gamma: config.gamma,
      tau: config.tau,
      gradClip: config.gradClip,
      actorHidden: config.actorHidden,
      criticHidden: config.criticHidden,
    }, rng),
};
