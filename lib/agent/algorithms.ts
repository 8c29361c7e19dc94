/**
 * The algorithms `train` offers, what each supports, and their construction from a config.
 *
 * @module
 */
import type { Algorithm, TrainConfig } from "../config.ts";
import type { Adam, AdamState } from "../nn/adam.ts";
import type { Mlp } from "../nn/mlp.ts";
import type { Batch } from "../replay_buffer.ts";
import type { Pcg32 } from "../rng.ts";
import { GumbelMADDPG } from "./gumbel_maddpg.ts";
import { MADDPGAgentManager } from "./maddpg.ts";
import type { MaddpgOptions, UpdateLosses } from "./maddpg.ts";

/** What a learner needs of an algorithm's networks and update. */
export interface UpdateCore {
  /** Number of agents. */
  readonly numAgents: number;
  /** Each agent's actor. */
  readonly actors: Mlp[];
  /** Each agent's (first) critic. */
  readonly critics: Mlp[];
  /** Draws the uniform numbers one update round needs. */
  drawUniforms(batchSize: number, rng: Pcg32): Float64Array;
  /** Runs one update round. */
  updateWithUniforms(batch: Batch, uniforms: Float64Array): UpdateLosses;
  /** Every network, optimizer and counter: what a checkpoint must hold. */
  getState(): LearnerState;
  /** Restores {@linkcode UpdateCore.getState}'s result (same algorithm and shapes). */
  setState(state: LearnerState): void;
  /** Frees tensors. */
  dispose(): void;
}

/** The complete state of an algorithm's learning. */
export interface LearnerState {
  /** Parameters of each network, by name (`actor_0`, `target_critic_1`, …). */
  nets: Record<string, Float32Array>;
  /** Adam state of each optimizer, by name. */
  optimizers: Record<string, AdamState>;
  /** Other counters (update rounds, last losses). */
  counters: Record<string, number[]>;
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

/** What an algorithm is and supports. */
export interface AlgorithmInfo {
  /** One line for humans. */
  description: string;
  /** Action spaces it handles. */
  actions: "discrete";
  /** Whether its critics see all agents. */
  centralizedCritic: boolean;
  /** Whether it has a one-worker-per-agent learner (`--threads 2`). */
  parallel: boolean;
}

/** Every algorithm of `--algo`. */
export const ALGORITHM_INFO: Record<Algorithm, AlgorithmInfo> = {
  notebook: {
    description: "the seed notebook's MADDPG: REINFORCE-style actor loss on a detached Q, ε-greedy",
    actions: "discrete",
    centralizedCritic: true,
    parallel: true,
  },
  maddpg: {
    description:
      "MADDPG (Lowe et al. 2017): Gumbel-Softmax actions, actor gradient through the critic",
    actions: "discrete",
    centralizedCritic: true,
    parallel: true,
  },
  matd3: {
    description: "MATD3: MADDPG with twin critics, delayed policy updates and target smoothing",
    actions: "discrete",
    centralizedCritic: true,
    parallel: true,
  },
  iddpg: {
    description: "independent DDPG learners: Gumbel-Softmax MADDPG whose critics see one agent",
    actions: "discrete",
    centralizedCritic: false,
    parallel: true,
  },
};

/** Whether a run with `config` uses one learner worker per agent. */
export function usesWorkers(config: TrainConfig): boolean {
  return config.threads === 2 ||
    (config.threads === "auto" && ALGORITHM_INFO[config.algo].parallel);
}

/** The networks' options of `config` for an environment of the given shape. */
export function maddpgOptions(
  config: TrainConfig,
  shape: { numAgents: number; observationDim: number; actionDim: number },
): MaddpgOptions {
  return {
    ...shape,
    actorLr: config.actorLr,
    criticLr: config.criticLr,
    gamma: config.gamma,
    tau: config.tau,
    gradClip: config.gradClip,
  };
}

/** Builds the algorithm's networks, initialised from `rng`. */
export function createAgents(config: TrainConfig, options: MaddpgOptions, rng: Pcg32): UpdateCore {
  if (config.algo === "notebook") return new MADDPGAgentManager(options, rng);
  return new GumbelMADDPG({
    ...options,
    variant: config.algo,
    temperature: config.temperature,
    hard: config.hard,
    logitsRegularization: config.logitsRegularization,
    policyDelay: config.policyDelay,
    targetNoise: config.targetNoise,
    targetNoiseClip: config.targetNoiseClip,
  }, rng);
}
