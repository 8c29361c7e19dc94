/**
 * `--algo maddpg`: MADDPG for discrete actions (Lowe et al. 2017): Gumbel-Softmax actions,
 * each agent's centralized critic sees every observation and action, and the actor's gradient
 * flows through it.
 *
 * @module
 */
import type { AlgorithmSpec } from "./algorithm.ts";
import { GumbelMaddpg, gumbelOptions, LEARNER_FIELDS } from "./gumbel_learner.ts";

/** MADDPG's declaration. */
export const MADDPG: AlgorithmSpec = {
  name: "maddpg",
  description:
    "MADDPG (Lowe et al. 2017): Gumbel-Softmax actions, actor gradient through the critic",
  supports: { discrete: true, continuous: true, heterogeneous: true, mixedTeams: true },
  centralizedCritic: true,
  fields: LEARNER_FIELDS,
  create: ({ agents, config }, rng) =>
    new GumbelMaddpg(gumbelOptions("maddpg", agents, config), rng),
};
