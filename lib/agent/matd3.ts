/**
 * `--algo matd3`: MADDPG with TD3's three changes: twin critics with the minimum target,
 * delayed policy and target updates, and clipped noise on the target actions' logits.
 *
 * @module
 */
import type { AlgorithmSpec } from "./algorithm.ts";
import { GumbelMaddpg, gumbelOptions, LEARNER_FIELDS } from "./gumbel_learner.ts";

/** MATD3's declaration. */
export const MATD3: AlgorithmSpec = {
  name: "matd3",
  description: "MATD3: MADDPG with twin critics, delayed policy updates and target smoothing",
  supports: { discrete: true, continuous: true, heterogeneous: true, mixedTeams: false },
  centralizedCritic: true,
  fields: [...LEARNER_FIELDS, "policyDelay", "targetNoise", "targetNoiseClip"],
  create: ({ agents, config }, rng) =>
    new GumbelMaddpg(gumbelOptions("matd3", agents, config), rng),
};
