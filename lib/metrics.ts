/**
 * The columns of `metrics.csv`, shared by the trainer that writes it and the charts that
 * read it.
 *
 * @module
 */

/** The first columns of every `metrics.csv`; per-agent and greedy columns follow. */
export const METRICS_COLUMNS = [
  "episode",
  "steps",
  "total_steps",
  "reward",
  "critic_loss",
  "actor_loss",
  "epsilon",
  "success",
] as const;
