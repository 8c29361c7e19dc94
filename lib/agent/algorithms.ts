/**
 * The algorithms `train` offers, what each supports, and their construction from a config.
 *
 * @module
 */
import type { Algorithm, TrainConfig } from "../config.ts";
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
  /** Frees tensors. */
  dispose(): void;
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
    parallel: false,
  },
  matd3: {
    description: "MATD3: MADDPG with twin critics, delayed policy updates and target smoothing",
    actions: "discrete",
    centralizedCritic: true,
    parallel: false,
  },
  iddpg: {
    description: "independent DDPG learners: Gumbel-Softmax MADDPG whose critics see one agent",
    actions: "discrete",
    centralizedCritic: false,
    parallel: false,
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
