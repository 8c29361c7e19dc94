/**
 * The seed notebook's grid world behind the {@linkcode ParallelEnv} interface, registered as
 * `grid_world`.
 *
 * Termination is the notebook's `done` (both agents on their goals); an episode that reaches
 * `maxSteps` is truncated, which the notebook's loop did by leaving its `for` loop with
 * `done` false. The transitions stored are therefore exactly the notebook's.
 *
 * @module
 */
import { MultiAgentGridEnv } from "./grid_world.ts";
import { checkActions } from "./parallel_env.ts";
import type { Action, ParallelEnv, ResetResult, StepResult } from "./parallel_env.ts";
import { registerEnv } from "./registry.ts";
import type { Scene, Shape } from "./scene.ts";
import { Box, Discrete } from "./spaces.ts";

/** Options of {@linkcode GridWorldEnv}. */
export interface GridWorldOptions extends Record<string, number> {
  /** Side of the grid. @default 5 */
  size: number;
  /** Steps after which an episode is truncated. @default 100 */
  maxSteps: number;
}

/** What {@linkcode GridWorldEnv.getState} returns. */
export interface GridWorldState {
  /** The agents' cells. */
  positions: [number, number][];
  /** Steps taken in this episode. */
  steps: number;
}

const AGENT_COLORS = [[0.35, 0.35, 0.85], [0.85, 0.35, 0.35]] as const;

/**
 * The grid world as a parallel environment.
 *
 * @example
 * ```ts
 * import { makeEnv } from "./registry.ts";
 * import "./grid_world_env.ts";
 * import assert from "node:assert/strict";
 * const env = makeEnv("grid_world", { size: 5 });
 * const { observations } = env.reset();
 * assert.deepEqual(Array.from(observations[0]), [0, 0, 1, 1, 1, 0]);
 * const step = env.step([1, 2]);
 * assert.equal(step.rewards[0].toFixed(2), "-0.85");
 * assert.deepEqual([step.terminations[0], step.truncations[0]], [false, false]);
 * ```
 */
export class GridWorldEnv implements ParallelEnv {
  readonly id = "grid_world";
  readonly agents = ["agent_0", "agent_1"] as const;
  readonly observationSpaces: readonly Box[];
  readonly actionSpaces: readonly Discrete[];
  readonly maxSteps: number;
  /** The notebook's environment this wraps. */
  readonly grid: MultiAgentGridEnv;
  #steps = 0;

  /** The notebook's grid world behind the parallel interface, truncated at `maxSteps`. */
  constructor(options: GridWorldOptions) {
    this.grid = new MultiAgentGridEnv({ size: options.size, numAgents: 2 });
    this.maxSteps = options.maxSteps;
    this.observationSpaces = this.agents.map(() => new Box(0, 1, [this.grid.observationDim]));
    this.actionSpaces = this.agents.map(() => new Discrete(this.grid.actionDim));
  }

  /** Puts the agents on their start cells (the grid world has no randomness: `seed` is unused). */
  reset(): ResetResult {
    this.#steps = 0;
    return { observations: this.grid.reset(), infos: [{}, {}] };
  }

  step(actions: readonly Action[]): StepResult {
    checkActions(this, actions);
    const { observations, rewards, done } = this.grid.step(actions as readonly number[]);
    this.#steps++;
    const truncated = !done && this.#steps >= this.maxSteps;
    return {
      observations,
      rewards,
      terminations: [done, done],
      truncations: [truncated, truncated],
      infos: [{}, {}],
    };
  }

  /** Cells as squares, goals as outlined squares in each agent's colour, agents as circles. */
  scene(): Scene {
    const { size, goalPositions } = this.grid;
    const shapes: Shape[] = [];
    for (let row = 0; row < size; row++) {
      for (let col = 0; col < size; col++) {
        shapes.push({
          kind: "rect",
          x: col,
          y: size - 1 - row,
          width: 1,
          height: 1,
          color: [0.96, 0.96, 0.96],
          stroke: [0.7, 0.7, 0.7],
        });
      }
    }
    goalPositions.forEach(([row, col], i) =>
      shapes.push({
        kind: "rect",
        x: col + 0.1,
        y: size - 1 - row + 0.1,
        width: 0.8,
        height: 0.8,
        color: AGENT_COLORS[i],
        opacity: 0.25,
        stroke: AGENT_COLORS[i],
      })
    );
    this.grid.positions.forEach(([row, col], i) =>
      shapes.push({
        kind: "circle",
        x: col + 0.5,
        y: size - 1 - row + 0.5,
        radius: 0.3,
        color: AGENT_COLORS[i],
        stroke: [0, 0, 0],
        label: String(i),
      })
    );
    return { view: [0, 0, size, size], shapes, messages: [`step ${this.#steps}`] };
  }

  getState(): GridWorldState {
    return {
      positions: this.grid.positions.map(([row, col]) => [row, col] as [number, number]),
      steps: this.#steps,
    };
  }

  setState(state: unknown): void {
    const saved = state as GridWorldState;
    if (!saved || !Array.isArray(saved.positions) || !Number.isSafeInteger(saved.steps)) {
      throw new RangeError(`Not a grid world state: ${JSON.stringify(state)}`);
    }
    this.grid.setPositions(saved.positions);
    this.#steps = saved.steps;
  }
}

registerEnv<GridWorldOptions>({
  id: "grid_world",
  description: "the seed notebook's 2-agent cooperative grid world",
  options: {
    size: { type: "int", default: 5, min: 2, help: "side of the grid", aliases: ["grid_size"] },
    maxSteps: {
      type: "int",
      default: 100,
      min: 1,
      help: "steps after which an episode is truncated",
      aliases: ["max_steps"],
    },
  },
  create: (options) => new GridWorldEnv(options),
});
