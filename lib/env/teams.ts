/**
 * The two teams of MPE2's competitive worlds, by agent name.
 *
 * @module
 */

/**
 * Whether an agent is on the adversaries' team, by its MPE2 name (`adversary_0`,
 * `leadadversary_0`, `eve_0`); every other agent is a good agent.
 *
 * @example
 * ```ts
 * import { isAdversary } from "./teams.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(["adversary_0", "leadadversary_0", "eve_0", "agent_0", "alice_0"].map(isAdversary),
 *   [true, true, true, false, false]);
 * ```
 */
export function isAdversary(name: string): boolean {
  return /^(lead)?adversary_|^eve_/.test(name);
}

/** A team of a competitive world and its agents' indices. */
export interface Team {
  /** `adversaries` or `good agents`. */
  label: "adversaries" | "good agents";
  /** The agents' indices, in the environment's order. */
  agents: number[];
}

/**
 * The two teams of a competitive world, from its agents' names in the environment's order;
 * empty when every agent is on one side (a cooperative world, the grid world).
 *
 * @example
 * ```ts
 * import { competitiveTeams } from "./teams.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(competitiveTeams(["adversary_0", "agent_0", "agent_1"]), [
 *   { label: "adversaries", agents: [0] },
 *   { label: "good agents", agents: [1, 2] },
 * ]);
 * assert.deepEqual(competitiveTeams(["agent_0", "agent_1"]), []);
 * ```
 */
export function competitiveTeams(names: readonly string[]): Team[] {
  const adversaries = names.flatMap((name, i) => isAdversary(name) ? [i] : []);
  const good = names.flatMap((name, i) => isAdversary(name) ? [] : [i]);
  if (adversaries.length === 0 || good.length === 0) return [];
  return [{ label: "adversaries", agents: adversaries }, { label: "good agents", agents: good }];
}
