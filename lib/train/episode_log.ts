/**
 * One episode's record: the row of `metrics.csv`, and the loss sums it is made from.
 *
 * @module
 */
import { METRICS_COLUMNS } from "../metrics.ts";
import type { UpdateLosses } from "../agent/algorithm.ts";
import type { Team } from "../env/teams.ts";

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
  /**
   * Each agent's return this episode: the `return_<i>` columns, last. Absent in the history
   * of a run saved before they existed; such a run keeps its columns when resumed.
   */
  returns?: number[];
}

/** The optional column groups of a `metrics.csv`. */
export interface MetricsColumns {
  /** The greedy episode's measures of a particle world, in their order. @default [] */
  measureNames?: readonly string[];
  /** Whether the rows end with each agent's return (`return_<i>`). @default true */
  returns?: boolean;
}

/**
 * The header of `metrics.csv`, for `numAgents` agents.
 *
 * @example
 * ```ts
 * import { metricsHeader } from "./episode_log.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   metricsHeader(2, { measureNames: ["collisions"] }).split(",").slice(8).join(","),
 *   "critic_loss_0,critic_loss_1,actor_loss_0,actor_loss_1,greedy_reward,greedy_success," +
 *     "greedy_collisions,return_0,return_1",
 * );
 * ```
 */
export function metricsHeader(numAgents: number, columns: MetricsColumns = {}): string {
  const { measureNames = [], returns = true } = columns;
  const perAgent = (prefix: string) => Array.from({ length: numAgents }, (_, i) => prefix + i);
  return [...METRICS_COLUMNS as readonly string[]]
    .concat(perAgent("critic_loss_"), perAgent("actor_loss_"), GREEDY_COLUMNS)
    .concat(measureNames.map(measureColumn), returns ? perAgent("return_") : [])
    .join(",");
}

/** The greedy probe's columns that every environment has. */
const GREEDY_COLUMNS = ["greedy_reward", "greedy_success"];

/**
 * The column of the greedy probe's measure `name`: `greedy_<name>`, or
 * `greedy_scenario_<name>` where that would repeat a column every run has (the speaker-listener's
 * `success`, the listener at its target, is not the probe's `greedy_success`).
 *
 * @example
 * ```ts
 * import { measureColumn } from "./episode_log.ts";
 * import assert from "node:assert/strict";
 * assert.equal(measureColumn("touches"), "greedy_touches");
 * assert.equal(measureColumn("success"), "greedy_scenario_success");
 * ```
 */
export function measureColumn(name: string): string {
  const column = `greedy_${name}`;
  return GREEDY_COLUMNS.includes(column) ? `greedy_scenario_${name}` : column;
}

/** Whether every episode of `history` has its agents' returns (an empty history has). */
export function historyHasReturns(history: readonly EpisodeMetrics[]): boolean {
  return history.every((m) => m.returns !== undefined);
}

/**
 * The whole text of a `metrics.csv` holding `history`: the agents' returns are columns unless
 * `history` was saved without them.
 */
export function metricsText(
  history: readonly EpisodeMetrics[],
  columns: { numAgents: number; measureNames: readonly string[] },
): string {
  const returns = historyHasReturns(history);
  const header = metricsHeader(columns.numAgents, { ...columns, returns });
  return [header, ...history.map((m) => metricsLine(m, returns))].join("\n") + "\n";
}

/** One `metrics.csv` line (no newline), with or without the agents' returns. */
export function metricsLine(m: EpisodeMetrics, returns = true): string {
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
    ...(returns ? m.returns ?? [] : []),
  ].join(",");
}

/** Sums of an episode's per-agent losses, and how many rounds each sum holds. */
export interface LossSums {
  /** Each agent's summed critic loss. */
  critic: number[];
  /** Each agent's summed actor loss. */
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

/**
 * Each team's mean return per agent over the episodes of `history`, in the order of `teams`;
 * `undefined` when there are no teams or an episode lacks its returns.
 *
 * @example
 * ```ts
 * import { teamReturnMeans } from "./episode_log.ts";
 * import type { EpisodeMetrics } from "./episode_log.ts";
 * import { competitiveTeams } from "../env/teams.ts";
 * import assert from "node:assert/strict";
 * const history = [{ returns: [10, -4, -6] }, { returns: [20, -8, -2] }] as EpisodeMetrics[];
 * const teams = competitiveTeams(["adversary_0", "agent_0", "agent_1"]);
 * assert.deepEqual(teamReturnMeans(history, teams), [15, -5]);
 * ```
 */
export function teamReturnMeans(
  history: readonly EpisodeMetrics[],
  teams: readonly Team[],
): number[] | undefined {
  if (teams.length === 0 || history.length === 0) return undefined;
  if (history.some((m) => m.returns === undefined)) return undefined;
  return teams.map((team) => {
    let sum = 0;
    for (const m of history) for (const i of team.agents) sum += m.returns![i] / team.agents.length;
    return sum / history.length;
  });
}
