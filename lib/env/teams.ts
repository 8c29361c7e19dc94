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
