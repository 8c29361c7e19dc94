/**
 * `--algo iddpg`: independent DDPG learners (the MADDPG paper's DDPG baseline): MADDPG's
 * update, but each critic sees only its own agent's observation and action.
 *
 * @module
 */
import type { AlgorithmSpec } from "./algorithm.ts";
import { GumbelMaddpg, gumbelOptions, LEARNER_FIELDS } from "./gumbel_learner.ts";

/** IDDPG's declaration. */
export const IDDPG: AlgorithmSpec = {
  name: "iddpg",
  description: "independent DDPG learners: Gumbel-Softmax MADDPG whose critics see one agent",
  supports: { discrete: true, continuous: true, heterogeneous: true, mixedTeams: true },
  centralizedCritic: false,
  fields: LEARNER_FIELDS,
  create: ({ agents, config }, rng) =>
    new GumbelMaddpg(gumbelOptions("iddpg", agents, config), rng),
};
