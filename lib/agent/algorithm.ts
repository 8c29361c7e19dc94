/**
 * What an algorithm is to the rest of the project: a declaration of what it supports (which
 * is what refuses the rest) and an instance holding every agent's networks and running
 * update rounds. Each algorithm lives in its own module (`notebook.ts`, `maddpg.ts`,
 * `matd3.ts`, `iddpg.ts`) and is listed in `catalogue.ts`.
 *
 * @module
 */
import type { AlgorithmName, ConfigField, TrainConfig } from "../config_fields.ts";
import type { Adam, AdamState } from "../nn/adam.ts";
import type { Mlp } from "../nn/mlp.ts";
import type { Batch } from "../replay_buffer.ts";
import type { Pcg32 } from "../rng.ts";

/** One agent's sizes, from its spaces. */
export interface AgentShape {
  /** Observation length. */
  observationSize: number;
  /** `discrete` (one-hot of `actionSize` actions) or `continuous` (a vector of `actionSize`). */
  actionKind: "discrete" | "continuous";
  /** Number of discrete actions, or length of a continuous action. */
  actionSize: number;
  /** Whether the agent is on the adversaries' team (MPE2's `adversary_*`, `eve_0`). */
  adversary?: boolean;
  /** A continuous action's bounds, per element. */
  bounds?: { low: readonly number[]; high: readonly number[] };
}

/** The hyperparameters every algorithm's networks share. */
export interface LearningOptions {
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
  /** Critic loss of each agent. */
  critic: number[];
  /**
   * Actor loss of each agent; NaN for an agent whose actor was not updated this round
   * (MATD3's delayed rounds), so that averages count only rounds that updated.
   */
  actor: number[];
}

/** The complete state of an algorithm's learning. */
export interface LearnerState {
  /** Parameters of each network, by name (`actor_0`, `target_critic_1`, …). */
  nets: Record<string, Float32Array>;
  /** Adam state of each optimizer, by name. */
  optimizers: Record<string, AdamState>;
  /** Other counters (update rounds). */
  counters: Record<string, number[]>;
}

/** How a worker that owns one agent talks to the workers of the others. */
export interface PeerExchange {
  /** Sends this agent's current actor parameters to every other worker. */
  sendActor(): void;
  /** Waits for the next actor parameters of agents `from`..`to − 1` (not this one). */
  receiveActors(from: number, to: number): Promise<void>;
}

/** An algorithm's networks and update, for every agent. */
export interface AlgorithmInstance {
  /** Each agent's sizes. */
  readonly agents: readonly AgentShape[];
  /** Each agent's actor. */
  readonly actors: Mlp[];
  /** Each agent's (first) critic. */
  readonly critics: Mlp[];
  /** Draws the uniform numbers one update round needs, from the run's generator. */
  drawUniforms(batchSize: number, rng: Pcg32): Float64Array;
  /** Runs one update round with those numbers (every agent, then the targets). */
  update(batch: Batch, uniforms: Float64Array): UpdateLosses;
  /**
   * One round in which agent i learns from its own `batches[i]` and `uniforms[i]`
   * (`--batch-per-agent`); absent when the algorithm's agents must share a batch. The
   * workers' `updateAgent` with agent i's batch is bit-identical to it.
   */
  updateSeparately?(batches: readonly Batch[], uniforms: readonly Float64Array[]): UpdateLosses;
  /**
   * Agent `agent`'s part of the same round, on a worker that owns that agent's critics and
   * optimizers and meets the others through `peers`; bit-identical to `update`'s.
   */
  updateAgent(
    agent: number,
    round: { batch: Batch; uniforms: Float64Array },
    peers: PeerExchange,
  ): Promise<{ critic: number; actor: number }>;
  /** Every network, optimizer and counter: what a checkpoint must hold. */
  getState(): LearnerState;
  /** Restores {@linkcode AlgorithmInstance.getState}'s result (same algorithm and shapes). */
  setState(state: LearnerState): void;
  /** Frees tensors. */
  dispose(): void;
}

/** What an algorithm supports; the trainer and the CLI refuse everything else from it. */
export interface AlgorithmSupport {
  /** Discrete action spaces. */
  discrete: boolean;
  /** Continuous (Box) action spaces. */
  continuous: boolean;
  /** Agents of different observation or action sizes. */
  heterogeneous: boolean;
  /** Teams of agents learning with different algorithms. */
  mixedTeams: boolean;
}

/** An algorithm's declaration. */
export interface AlgorithmSpec {
  /** Its `--algo` name. */
  name: AlgorithmName;
  /** One line for humans. */
  description: string;
  /** What it supports. */
  supports: AlgorithmSupport;
  /** Whether each critic sees every agent's observation and action. */
  centralizedCritic: boolean;
  /** The config fields only some algorithms use that this one uses. */
  fields: readonly ConfigField[];
  /** Builds every agent's networks, initialised from `rng`. */
  create(
    options: { agents: readonly AgentShape[]; config: TrainConfig },
    rng: Pcg32,
  ): AlgorithmInstance;
}

/** Collects named networks and optimizers into a {@linkcode LearnerState}. */
export function collectState(
  nets: Record<string, Mlp[]>,
  optimizers: Record<string, Adam[]>,
  counters: Record<string, number[]> = {},
): LearnerState {
  const state: LearnerState = { nets: {}, optimizers: {}, counters };
  for (const [name, list] of Object.entries(nets)) {
    list.forEach((net, i) => (state.nets[`${name}_${i}`] = net.params.slice()));
  }
  for (const [name, list] of Object.entries(optimizers)) {
    list.forEach((opt, i) => (state.optimizers[`${name}_${i}`] = opt.getState()));
  }
  return state;
}

/** Restores named networks and optimizers from a {@linkcode LearnerState}; checks every shape. */
export function restoreState(
  state: LearnerState,
  nets: Record<string, Mlp[]>,
  optimizers: Record<string, Adam[]>,
): void {
  for (const [name, list] of Object.entries(nets)) {
    list.forEach((net, i) => {
      const params = state.nets[`${name}_${i}`];
      if (!params) throw new RangeError(`The saved state has no network "${name}_${i}"`);
      if (params.length !== net.size) {
        throw new RangeError(
          `Saved network "${name}_${i}" has ${params.length} parameters, expected ${net.size}`,
        );
      }
      net.params.set(params);
      net.touch();
    });
  }
  for (const [name, list] of Object.entries(optimizers)) {
    list.forEach((opt, i) => {
      const saved = state.optimizers[`${name}_${i}`];
      if (!saved) throw new RangeError(`The saved state has no optimizer "${name}_${i}"`);
      opt.setState(saved);
    });
  }
}
