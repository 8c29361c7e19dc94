/**
 * Whole episodes of decentralized actors (each sees only its own observation): the
 * end-of-training tests, the greedy probe after each training episode, and `evaluate`.
 *
 * @module
 */
import { selectActions } from "../agent/policy.ts";
import type { ActionMode } from "../agent/policy.ts";
import type { ParallelEnv } from "../env/parallel_env.ts";
import type { Scene } from "../env/scene.ts";
import type { Mlp } from "../nn/mlp.ts";
import type { Pcg32 } from "../rng.ts";
import { createMeasures } from "../env/mpe/measures.ts";
import { mean } from "../stats.ts";

/** One episode's outcome. */
export interface EpisodeResult {
  /** Mean over agents of each agent's return. */
  reward: number;
  /** Each agent's return. */
  returns: number[];
  /** Steps taken. */
  length: number;
  /** Whether every agent reached a terminal state. */
  success: boolean;
  /** The scenario's measures of the episode (the MADDPG paper's, for the particle worlds). */
  measures?: Record<string, number>;
}

/** Result of test episodes. */
export interface TestResult {
  /** How actions were chosen. */
  policy: ActionMode;
  /** Each episode's outcome. */
  episodes: EpisodeResult[];
  /** Mean episode reward. */
  averageReward: number;
  /** Fraction of episodes that succeeded. */
  successRate: number;
  /** Each measure's mean over the episodes (particle worlds). */
  measures?: Record<string, number>;
}

/** What {@linkcode runEpisodes} runs. */
export interface EpisodeOptions {
  /** Each agent's actor. */
  actors: readonly Mlp[];
  /** The environment (reset at the start of each episode). */
  env: ParallelEnv;
  /** `greedy` (argmax) or `sample` (needs `rng`). */
  policy: ActionMode;
  /** How many episodes. */
  episodes: number;
  /** Steps after which an episode stops, if the environment has not stopped it. */
  maxSteps: number;
  /** Generator of sampled actions. */
  rng?: Pcg32;
  /** Seed of the first episode's reset (later ones continue the environment's stream). */
  seed?: number;
  /** Receives each state's picture, the reset state first (for animations). */
  onScene?: (scene: Scene, episode: number) => void;
}

/** Runs whole episodes and reports each one. */
export function runEpisodes(options: EpisodeOptions): TestResult {
  const { actors, env, policy, episodes, maxSteps, rng, seed, onScene } = options;
  const results: EpisodeResult[] = [];
  const measures = createMeasures(env);
  for (let e = 0; e < episodes; e++) {
    let { observations } = env.reset(e === 0 && seed !== undefined ? { seed } : undefined);
    onScene?.(env.scene(), e);
    measures?.reset();
    const returns = new Array(env.agents.length).fill(0);
    let length = 0, success = false, over = false;
    while (!over && length < maxSteps) {
      const step = env.step(
        selectActions(actors, observations, { mode: policy, rng, spaces: env.actionSpaces }),
      );
      observations = step.observations;
      measures?.step(step.rewards);
      step.rewards.forEach((r, i) => (returns[i] += r));
      length++;
      success = step.terminations.every(Boolean);
      over = step.terminations.some(Boolean) || step.truncations.some(Boolean);
      onScene?.(env.scene(), e);
    }
    const result: EpisodeResult = { reward: mean(returns), returns, length, success };
    if (measures) result.measures = measures.result();
    results.push(result);
  }
  const test: TestResult = {
    policy,
    episodes: results,
    averageReward: mean(results.map((r) => r.reward)),
    successRate: mean(results.map((r) => (r.success ? 1 : 0))),
  };
  if (measures && results.length > 0) {
    const names = Object.keys(results[0].measures!);
    test.measures = Object.fromEntries(
      names.map((name) => [name, mean(results.map((r) => r.measures![name]))]),
    );
  }
  return test;
}
