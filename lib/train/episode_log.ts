/**
 * One episode's record: the row of `metrics.csv`, and the loss sums it is made from.
 *
 * @module
 */
import { METRICS_COLUMNS } from "../metrics.ts";
import type { UpdateLosses } from "../agent/algorithm.ts";

/** One row of `metrics.csv`. */
export interface EpisodeMetrics {
  /** Episode number, from 1. */
  episode: number;
  /** Steps of this episode. */
  steps: number;
  /** Environment steps since the start of training. */
  totalSteps: number;
  /** Mean over agents of each agent's episode return (the grid world's shared reward). */
  reward: number;
  /** Mean over agents of the episode's mean critic loss (0 when no update ran). */
  criticLoss: number;
  /** Mean over agents of the episode's mean actor loss (0 when no actor update ran). */
  actorLoss: number;
  /** Exploration rate at the end of the episode. */
  epsilon: number;
  /** Whether every agent reached a terminal state (the grid world: both on their goals). */
  success: boolean;
  /** Per-agent mean critic losses. */
  criticLosses: number[];
  /** Per-agent mean actor losses. */
  actorLosses: number[];
  /** Reward of one greedy episode of the actors at the end of this episode. */
  greedyReward: number;
  /** Whether that greedy episode succeeded. */
  greedySuccess: boolean;
  /** That greedy episode's scenario measures (particle worlds): `greedy_<name>` columns. */
  greedyMeasures?: Record<string, number>;
}

/**
 * The header of `metrics.csv`, for `numAgents` agents (and the greedy episode's measures of a
 * particle world, in their order).
 */
export function metricsHeader(numAgents: number, measureNames: readonly string[] = []): string {
  const perAgent = [
    ...Array.from({ length: numAgents }, (_, i) => `critic_loss_${i}`),
    ...Array.from({ length: numAgents }, (_, i) => `actor_loss_${i}`),
  ];
  return [...METRICS_COLUMNS as readonly string[]]
    .concat(perAgent, ["greedy_reward", "greedy_success"], measureNames.map((n) => `greedy_${n}`))
    .join(",");
}

/** One `metrics.csv` line (no newline). */
export function metricsLine(m: EpisodeMetrics): string {
  return [
    m.episode,
    m.steps,
    m.totalSteps,
    m.reward,
    m.criticLoss,
    m.actorLoss,
    m.epsilon,
    m.success ? 1 : 0,
    ...m.criticLosses,
    ...m.actorLosses,
    m.greedyReward,
    m.greedySuccess ? 1 : 0,
    ...Object.values(m.greedyMeasures ?? {}),
  ].join(",");
}

/** Sums of an episode's per-agent losses, and how many rounds each sum holds. */
export interface LossSums {
  critic: number[];
  actor: number[];
  /** Rounds in each agent's critic sum. */
  criticRounds: number[];
  /** Rounds in each agent's actor sum (MATD3 skips the rounds without an actor update). */
  actorRounds: number[];
}

/** Empty sums for `numAgents` agents. */
export function emptyLossSums(numAgents: number): LossSums {
  const zeros = () => new Array(numAgents).fill(0);
  return { critic: zeros(), actor: zeros(), criticRounds: zeros(), actorRounds: zeros() };
}

/** Adds rounds' losses; a NaN loss (no update of that network) is not counted. */
export function addLosses(sums: LossSums, rounds: readonly UpdateLosses[]): void {
  for (const losses of rounds) {
    for (let i = 0; i < sums.critic.length; i++) {
      if (!Number.isNaN(losses.critic[i])) {
        sums.critic[i] += losses.critic[i];
        sums.criticRounds[i]++;
      }
      if (!Number.isNaN(losses.actor[i])) {
        sums.actor[i] += losses.actor[i];
        sums.actorRounds[i]++;
      }
    }
  }
}

/** Per-agent mean losses (0 for an agent with no round). */
export function meanLosses(sums: LossSums): { critic: number[]; actor: number[] } {
  const divide = (total: number[], rounds: number[]) =>
    total.map((s, i) => (rounds[i] > 0 ? s / rounds[i] : 0));
  return {
    critic: divide(sums.critic, sums.criticRounds),
    actor: divide(sums.actor, sums.actorRounds),
  };
}
