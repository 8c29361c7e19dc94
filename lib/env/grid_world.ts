/**
 * The seed notebook's 2-agent cooperative grid world, with its exact semantics and quirks.
 *
 * @module
 */

/** Options of {@linkcode MultiAgentGridEnv}. */
export interface GridEnvOptions {
  /** Side length of the square grid, an integer >= 2. @default 5 */
  size?: number;
  /** Number of agents; the notebook's environment supports exactly 2. @default 2 */
  numAgents?: number;
}

/** The result of one {@linkcode MultiAgentGridEnv.step}. */
export interface StepResult {
  /** Each agent's next observation. */
  observations: Float32Array[];
  /** Each agent's reward (the reward is shared: every entry is the same number). */
  rewards: number[];
  /** True when every agent stands on its goal. */
  done: boolean;
}

/** A grid cell as (row, col). */
export type Cell = readonly [row: number, col: number];

/** Moves of actions 0 up, 1 down, 2 left, 3 right, as (row, col) deltas. */
export const ACTION_DELTAS: readonly Cell[] = [[-1, 0], [1, 0], [0, -1], [0, 1]];

/** Reward when both agents are on their goals. */
export const SUCCESS_REWARD = 10;
/** Reward added on every step that is not a success. */
export const STEP_PENALTY = -0.05;
/** Reward per cell of Manhattan distance to goal, summed over agents. */
export const DISTANCE_COEFFICIENT = -0.1;
/** Penalty for a move off the grid, and for a collision. */
export const BUMP_PENALTY = -0.5;

/**
 * Two agents start in opposite corners, (0,0) and (size-1,size-1), and must reach the
 * other two corners, (size-1,0) and (0,size-1), at the same time. The reward is shared.
 *
 * Quirks kept from the notebook: an agent on its goal does not move; agents that would
 * land on the same cell both stay where they were (-0.5 once); agents that swap cells
 * pass through each other.
 *
 * @example
 * ```ts
 * import { MultiAgentGridEnv } from "./grid_world.ts";
 * const env = new MultiAgentGridEnv();
 * env.reset();
 * const { observations, rewards } = env.step([1, 2]);
 * if (Math.abs(rewards[0] - -0.85) > 1e-6) throw new Error("not the notebook's example");
 * if (observations[0][0] !== 0.25) throw new Error("agent 0 should be one row down");
 * ```
 */
export class MultiAgentGridEnv {
  /** Side length of the grid. */
  readonly size: number;
  /** Number of agents (2). */
  readonly numAgents: number;
  /** Actions per agent: up, down, left, right. */
  readonly actionDim = 4;
  /** Observation length per agent: own (row, col), other's (row, col), own goal (row, col). */
  readonly observationDim = 6;
  /** Start cells, per agent. */
  readonly startPositions: readonly Cell[];
  /** Goal cells, per agent. */
  readonly goalPositions: readonly Cell[];

  #positions: Cell[];

  /** A grid of `size` × `size` cells with the notebook's start and goal cells. */
  constructor(options: GridEnvOptions = {}) {
    const { size = 5, numAgents = 2 } = options;
    if (!Number.isInteger(size) || size < 2) {
      throw new RangeError(`Grid size must be an integer >= 2, got ${size}`);
    }
    if (numAgents !== 2) {
      throw new RangeError(`MultiAgentGridEnv supports exactly 2 agents, got ${numAgents}`);
    }
    this.size = size;
    this.numAgents = numAgents;
    this.startPositions = [[0, 0], [size - 1, size - 1]];
    this.goalPositions = [[size - 1, 0], [0, size - 1]];
    this.#positions = [...this.startPositions];
  }

  /** Current cells of the agents (a copy). */
  get positions(): Cell[] {
    return [...this.#positions];
  }

  /**
   * Places the agents on given cells (for tests and replays) and returns their
   * observations. Cells must be distinct and on the grid.
   */
  setPositions(cells: readonly (readonly [number, number])[]): Float32Array[] {
    if (cells.length !== this.numAgents) {
      throw new RangeError(`Expected ${this.numAgents} cells, got ${cells.length}`);
    }
    for (const [row, col] of cells) {
      if (![row, col].every((v) => Number.isInteger(v) && v >= 0 && v < this.size)) {
        throw new RangeError(`Cell (${row}, ${col}) is not on the ${this.size}x${this.size} grid`);
      }
    }
    if (cells[0][0] === cells[1][0] && cells[0][1] === cells[1][1]) {
      throw new RangeError(`Agents cannot share cell (${cells[0][0]}, ${cells[0][1]})`);
    }
    this.#positions = cells.map(([row, col]) => [row, col] as const);
    return this.observe();
  }

  /** Puts the agents back on their start cells and returns their observations. */
  reset(): Float32Array[] {
    this.#positions = [...this.startPositions];
    return this.observe();
  }

  /** Every agent's observation of the current state. */
  observe(): Float32Array[] {
    const scale = this.size - 1;
    return this.#positions.map((own, i) => {
      const other = this.#positions[1 - i];
      const goal = this.goalPositions[i];
      return Float32Array.of(
        own[0] / scale,
        own[1] / scale,
        other[0] / scale,
        other[1] / scale,
        goal[0] / scale,
        goal[1] / scale,
      );
    });
  }

  /**
   * Moves every agent by its action (0 up, 1 down, 2 left, 3 right).
   * @throws {RangeError} for a wrong number of actions or an action outside 0..3; the
   * state is then unchanged.
   */
  step(actions: readonly number[]): StepResult {
    if (actions.length !== this.numAgents) {
      throw new RangeError(`Expected ${this.numAgents} actions, got ${actions.length}`);
    }
    for (let i = 0; i < actions.length; i++) {
      const action = actions[i];
      if (!Number.isInteger(action) || action < 0 || action >= this.actionDim) {
        throw new RangeError(`Action of agent ${i} must be an integer in 0..3, got ${action}`);
      }
    }
    const previous = this.#positions;
    const next: Cell[] = [...previous];
    let penalty = 0;
    for (let i = 0; i < this.numAgents; i++) {
      const [row, col] = previous[i];
      const goal = this.goalPositions[i];
      if (row === goal[0] && col === goal[1]) continue; // on its goal: stays, no penalty
      const [dRow, dCol] = ACTION_DELTAS[actions[i]];
      const nextRow = row + dRow, nextCol = col + dCol;
      if (nextRow >= 0 && nextRow < this.size && nextCol >= 0 && nextCol < this.size) {
        next[i] = [nextRow, nextCol];
      } else {
        penalty += BUMP_PENALTY;
      }
    }
    // Collision: both land on one cell, so both go back (swaps are not collisions).
    if (next[0][0] === next[1][0] && next[0][1] === next[1][1]) {
      next[0] = previous[0];
      next[1] = previous[1];
      penalty += BUMP_PENALTY;
    }
    this.#positions = next;

    const done = next.every((cell, i) =>
      cell[0] === this.goalPositions[i][0] && cell[1] === this.goalPositions[i][1]
    );
    let reward = SUCCESS_REWARD;
    if (!done) {
      // Summed in the notebook's order, so the float result is the notebook's to the last bit.
      let distanceReward = 0;
      for (let i = 0; i < this.numAgents; i++) {
        const distance = Math.abs(next[i][0] - this.goalPositions[i][0]) +
          Math.abs(next[i][1] - this.goalPositions[i][1]);
        distanceReward -= distance * -DISTANCE_COEFFICIENT;
      }
      reward = STEP_PENALTY + distanceReward + penalty;
    }
    return { observations: this.observe(), rewards: new Array(this.numAgents).fill(reward), done };
  }
}
