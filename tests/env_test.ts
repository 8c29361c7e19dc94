import assert from "node:assert/strict";
import { MultiAgentGridEnv } from "../lib/env/grid_world.ts";

function close(actual: number, expected: number, tolerance = 1e-6): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${actual} is not within ${tolerance} of ${expected}`,
  );
}

function envAt(cells: [number, number][], size = 5): MultiAgentGridEnv {
  const env = new MultiAgentGridEnv({ size });
  env.reset();
  env.setPositions(cells);
  assert.deepEqual(env.positions, cells);
  return env;
}

Deno.test("MultiAgentGridEnv reproduces the notebook's printed example", () => {
  const env = new MultiAgentGridEnv({ size: 5, numAgents: 2 });
  const initial = env.reset();
  assert.deepEqual(Array.from(initial[0]), [0, 0, 1, 1, 1, 0]);
  assert.deepEqual(Array.from(initial[1]), [1, 1, 0, 0, 0, 1]);
  const { observations, rewards, done } = env.step([1, 2]);
  assert.deepEqual(Array.from(observations[0]), [0.25, 0, 1, 0.75, 1, 0]);
  assert.deepEqual(Array.from(observations[1]), [1, 0.75, 0.25, 0, 0, 1]);
  close(rewards[0], -0.85);
  // The notebook printed -0.8500000000000001: the same float, summed in the same order.
  assert.equal(rewards[0], -0.8500000000000001);
  assert.equal(rewards[1], rewards[0]);
  assert.equal(done, false);
});

Deno.test("MultiAgentGridEnv has the notebook's shape, starts and goals", () => {
  const env = new MultiAgentGridEnv();
  assert.equal(env.size, 5);
  assert.equal(env.numAgents, 2);
  assert.equal(env.actionDim, 4);
  assert.equal(env.observationDim, 6);
  assert.deepEqual(env.startPositions, [[0, 0], [4, 4]]);
  assert.deepEqual(env.goalPositions, [[4, 0], [0, 4]]);
  const big = new MultiAgentGridEnv({ size: 7 });
  assert.deepEqual(big.goalPositions, [[6, 0], [0, 6]]);
  assert.deepEqual(Array.from(big.reset()[0]), [0, 0, 1, 1, 1, 0]);
});

Deno.test("MultiAgentGridEnv rejects sizes and agent counts it does not support", () => {
  assert.throws(() => new MultiAgentGridEnv({ numAgents: 3 }), /exactly 2 agents, got 3/);
  assert.throws(() => new MultiAgentGridEnv({ numAgents: 1 }), /got 1/);
  assert.throws(() => new MultiAgentGridEnv({ size: 1 }), /integer >= 2, got 1/);
  assert.throws(() => new MultiAgentGridEnv({ size: 4.5 }), /got 4.5/);
  assert.doesNotThrow(() => new MultiAgentGridEnv({ size: 2 }));
});

Deno.test("MultiAgentGridEnv.step() penalises a move off the grid and keeps the agent in place", () => {
  const env = new MultiAgentGridEnv();
  env.reset();
  // Agent 0 at (0,0) moves up (off grid); agent 1 at (4,4) moves down (off grid).
  const { rewards } = env.step([0, 1]);
  assert.deepEqual(env.positions, [[0, 0], [4, 4]]);
  // distances 4 + 4 → -0.8, step -0.05, two wall hits -1.0
  close(rewards[0], -0.05 - 0.8 - 1.0);
  const left = env.step([2, 3]);
  close(left.rewards[0], -1.85);
});

Deno.test("MultiAgentGridEnv.step() reverts both agents when they land on one cell", () => {
  const env = envAt([[1, 1], [1, 3]]);
  // Both move to (1,2).
  const { rewards } = env.step([3, 2]);
  assert.deepEqual(env.positions, [[1, 1], [1, 3]]);
  // distances: agent 0 (1,1)->(4,0) = 4, agent 1 (1,3)->(0,4) = 2 → -0.6; -0.05; collision -0.5
  close(rewards[0], -0.05 - 0.6 - 0.5);
});

Deno.test("MultiAgentGridEnv.step() lets agents that swap cells pass through each other", () => {
  const env = envAt([[2, 1], [2, 2]]);
  const { rewards } = env.step([3, 2]);
  assert.deepEqual(env.positions, [[2, 2], [2, 1]]);
  // distances: (2,2)->(4,0) = 4, (2,1)->(0,4) = 5 → -0.9; no penalty
  close(rewards[0], -0.05 - 0.9);
});

Deno.test("MultiAgentGridEnv.step() keeps an agent on its goal, without wall penalty", () => {
  const env = envAt([[4, 0], [2, 2]]);
  // Agent 0 is on its goal and "moves" down, off the grid: it stays, no penalty.
  const { rewards, done } = env.step([1, 0]);
  assert.deepEqual(env.positions, [[4, 0], [1, 2]]);
  assert.equal(done, false);
  // distances 0 + 3 → -0.3
  close(rewards[0], -0.05 - 0.3);
});

Deno.test("MultiAgentGridEnv.step() ends with +10 when both agents are on their goals", () => {
  const env = envAt([[4, 0], [0, 3]]);
  const { rewards, done } = env.step([0, 3]);
  assert.equal(done, true);
  assert.deepEqual(rewards, [10, 10]);
});

Deno.test("MultiAgentGridEnv.step() reaches the optimum of +8.65 in 4 steps", () => {
  const env = new MultiAgentGridEnv();
  env.reset();
  let total = 0, done = false;
  for (let t = 0; t < 4; t++) {
    const step = env.step([1, 0]);
    total += step.rewards[0];
    done = step.done;
  }
  assert.equal(done, true);
  close(total, 8.65);
});

Deno.test("MultiAgentGridEnv.step() rejects bad actions and leaves the state unchanged", () => {
  const env = new MultiAgentGridEnv();
  env.reset();
  env.step([1, 2]);
  const before = env.positions;
  assert.throws(
    () => env.step([1]),
    (e) => e instanceof RangeError && /Expected 2 actions, got 1/.test(e.message),
  );
  assert.throws(() => env.step([1, 2, 3]), /got 3/);
  assert.throws(() => env.step([4, 0]), (e) => e instanceof RangeError && /got 4/.test(e.message));
  assert.throws(() => env.step([0, -1]), /agent 1 .* got -1/);
  assert.throws(() => env.step([1.5, 0]), /got 1.5/);
  assert.throws(() => env.step([NaN, 0]), /got NaN/);
  assert.deepEqual(env.positions, before);
});

Deno.test("MultiAgentGridEnv.setPositions() rejects cells off the grid or shared", () => {
  const env = new MultiAgentGridEnv();
  assert.throws(() => env.setPositions([[0, 0], [5, 0]]), /not on the 5x5 grid/);
  assert.throws(() => env.setPositions([[1, 1], [1, 1]]), /cannot share/);
  assert.throws(() => env.setPositions([[1, 1]]), /Expected 2 cells/);
});
