/**
 * The multi-agent environment interface: PettingZoo's parallel API in TypeScript terms.
 *
 * Differences from PettingZoo, for speed and typing: per-agent values are arrays in the
 * order of {@linkcode ParallelEnv.agents} (not dicts keyed by name), and observations are
 * `Float32Array`s that an environment may reuse from one step to the next (copy what you
 * keep). Agents never leave an episode early here, so `agents` is also PettingZoo's
 * `possible_agents`.
 *
 * @module
 */
import type { Box, Space } from "./spaces.ts";
import type { Scene } from "./scene.ts";

/**
 * One agent's action: an index for a {@linkcode Discrete} space, a vector for a
 * {@linkcode Box} (any `ArrayLike<number>`, read at full precision).
 */
export type Action = number | ArrayLike<number>;

/** What {@linkcode ParallelEnv.reset} returns. */
export interface ResetResult {
  /** Each agent's first observation. */
  observations: Float32Array[];
  /** Each agent's extra information. */
  infos: Record<string, unknown>[];
}

/** What {@linkcode ParallelEnv.step} returns; every array is in the order of `agents`. */
export interface StepResult {
  /** Each agent's next observation. */
  observations: Float32Array[];
  /** Each agent's reward for this step. */
  rewards: number[];
  /**
   * Whether the agent reached a terminal state: its value is 0 from here, so a critic target
   * does not bootstrap through it.
   */
  terminations: boolean[];
  /**
   * Whether the episode was cut (a step limit): not a terminal state, so a critic target
   * bootstraps through it.
   */
  truncations: boolean[];
  /** Each agent's extra information. */
  infos: Record<string, unknown>[];
}

/** Options of {@linkcode ParallelEnv.reset}. */
export interface ResetOptions {
  /** Seeds the environment's own generator; without it the stream continues. */
  seed?: number;
}

/**
 * A multi-agent environment with simultaneous actions.
 *
 * The promises (PettingZoo's `parallel_api_test`): `reset` then `step` until every agent is
 * terminated or truncated; `step` with a wrong number of actions or an action outside its
 * space throws a `RangeError` naming the agent and the value, and leaves the state as it was.
 */
export interface ParallelEnv {
  /** The registry id this environment was made under (e.g. `"simple_spread_v3"`). */
  readonly id: string;
  /** Agent names, in the order of every per-agent array. */
  readonly agents: readonly string[];
  /** Each agent's observation space. */
  readonly observationSpaces: readonly Box[];
  /** Each agent's action space. */
  readonly actionSpaces: readonly Space[];
  /** Steps after which an episode is truncated. */
  readonly maxSteps: number;
  /** Starts an episode. */
  reset(options?: ResetOptions): ResetResult;
  /** Applies one action per agent. */
  step(actions: readonly Action[]): StepResult;
  /** A picture of the current state, in world coordinates (see `scene.ts`). */
  scene(): Scene;
  /** The whole state (JSON-safe): enough to continue an episode exactly after a restart. */
  getState(): unknown;
  /** Restores {@linkcode ParallelEnv.getState}'s result. */
  setState(state: unknown): void;
}

/** An agent's observation space, by name (PettingZoo's `observation_space(agent)`). */
export function observationSpace(env: ParallelEnv, agent: string): Box {
  return env.observationSpaces[agentIndex(env, agent)];
}

/** An agent's action space, by name (PettingZoo's `action_space(agent)`). */
export function actionSpace(env: ParallelEnv, agent: string): Space {
  return env.actionSpaces[agentIndex(env, agent)];
}

/** The position of `agent` in `env.agents`; a `RangeError` naming it if there is none. */
export function agentIndex(env: ParallelEnv, agent: string): number {
  const index = env.agents.indexOf(agent);
  if (index < 0) {
    throw new RangeError(
      `${env.id} has no agent "${agent}"; its agents are ${env.agents.join(", ")}`,
    );
  }
  return index;
}

/**
 * Checks a joint action against the spaces before anything changes: the count, then each
 * agent's action. Throws a `RangeError` naming the agent and the value.
 */
export function checkActions(
  env: Pick<ParallelEnv, "id" | "agents" | "actionSpaces">,
  actions: readonly Action[],
): void {
  if (!actions || actions.length !== env.agents.length) {
    throw new RangeError(
      `${env.id} expects ${env.agents.length} actions (${
        env.agents.join(", ")
      }), got ${actions?.length}`,
    );
  }
  for (let i = 0; i < actions.length; i++) {
    const space = env.actionSpaces[i], action = actions[i];
    if (space.kind === "discrete") {
      if (!space.contains(action)) {
        throw new RangeError(
          `Action of ${env.agents[i]} must be an integer in 0..${space.n - 1}, got ${
            describe(action)
          }`,
        );
      }
    } else {
      const values = action as ArrayLike<number>;
      if (
        typeof action !== "object" || action === null || values.length !== space.size
      ) {
        throw new RangeError(
          `Action of ${env.agents[i]} must be a vector of ${space.size} numbers, got ${
            describe(action)
          }`,
        );
      }
      for (let k = 0; k < values.length; k++) {
        if (typeof values[k] !== "number" || Number.isNaN(values[k])) {
          throw new RangeError(
            `Action of ${env.agents[i]} holds ${values[k]} at index ${k}: ${describe(action)}`,
          );
        }
      }
    }
  }
}

function describe(value: unknown): string {
  if (typeof value === "object" && value !== null && "length" in value) {
    return `[${Array.from(value as ArrayLike<unknown>).join(", ")}]`;
  }
  return JSON.stringify(value) ?? String(value);
}
