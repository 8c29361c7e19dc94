/**
 * How to add an environment (see docs/extending.md): a 1-agent toy world registered with
 * `registerEnv`, then trained by `--algo maddpg` for a few episodes through the real trainer.
 */
import assert from "node:assert/strict";
import { checkActions } from "../lib/env/parallel_env.ts";
import type { Action, ParallelEnv, StepResult } from "../lib/env/parallel_env.ts";
import { makeEnv, registerEnv } from "../lib/env/registry.ts";
import type { Scene } from "../lib/env/scene.ts";
import { Box, Discrete } from "../lib/env/spaces.ts";
import { DEFAULT_TRAIN_CONFIG } from "../lib/config_fields.ts";
import { train } from "../lib/trainer.ts";
import { learnerThreads } from "../lib/train/run.ts";
import { initBackend } from "../lib/backend.ts";

/** One agent on cells 0..length-1 starts at 0 and must reach the last cell. */
class LineWalk implements ParallelEnv {
  readonly id = "line_walk";
  readonly agents = ["walker"];
  readonly observationSpaces = [new Box(0, 1, [1])];
  readonly actionSpaces = [new Discrete(2)]; // 0 left, 1 right
  readonly maxSteps: number;
  #cell = 0;
  #steps = 0;

  constructor(readonly length: number, maxSteps: number) {
    this.maxSteps = maxSteps;
  }

  #observe(): Float32Array[] {
    return [Float32Array.of(this.#cell / (this.length - 1))];
  }

  reset() {
    this.#cell = 0;
    this.#steps = 0;
    return { observations: this.#observe(), infos: [{}] };
  }

  step(actions: readonly Action[]): StepResult {
    checkActions(this, actions); // a bad action throws before anything changes
    const move = actions[0] === 1 ? 1 : -1;
    this.#cell = Math.min(this.length - 1, Math.max(0, this.#cell + move));
    this.#steps++;
    const done = this.#cell === this.length - 1;
    return {
      observations: this.#observe(),
      rewards: [done ? 1 : -0.1],
      terminations: [done],
      truncations: [!done && this.#steps >= this.maxSteps],
      infos: [{}],
    };
  }

  scene(): Scene {
    return {
      view: [0, 0, this.length, 1],
      shapes: [{ kind: "circle", x: this.#cell + 0.5, y: 0.5, radius: 0.3, color: [0, 0, 1] }],
      messages: [],
    };
  }

  getState() {
    return { cell: this.#cell, steps: this.#steps };
  }

  setState(state: unknown) {
    ({ cell: this.#cell, steps: this.#steps } = state as { cell: number; steps: number });
  }
}

registerEnv<{ length: number; maxSteps: number }>({
  id: "line_walk",
  description: "a 1-agent toy world: walk right to the end of a line",
  options: {
    length: { type: "int", default: 5, min: 2, help: "cells on the line" },
    maxSteps: { type: "int", default: 20, min: 1, help: "steps before truncation" },
  },
  create: ({ length, maxSteps }) => new LineWalk(length, maxSteps),
});

Deno.test("registerEnv() makes a toy environment that makeEnv() builds and checks", () => {
  const env = makeEnv("line_walk", { length: 3 });
  assert.deepEqual(Array.from(env.reset().observations[0]), [0]);
  assert.deepEqual(env.step([1]).rewards, [-0.1]);
  const last = env.step([1]);
  assert.deepEqual([last.rewards[0], last.terminations[0]], [1, true]);
  assert.throws(() => env.step([2]), /Action of walker must be an integer in 0..1, got 2/);
  assert.throws(() => makeEnv("line_walk", { width: 3 }), /line_walk has no option "width"/);
  assert.throws(() => makeEnv("line_walk", { length: 1 }), /length must be an integer >= 2/);
});

Deno.test("train() runs maddpg on a registered 1-agent environment", async () => {
  await initBackend();
  const outDir = await Deno.makeTempDir();
  try {
    const config = {
      ...DEFAULT_TRAIN_CONFIG,
      algo: "maddpg" as const,
      env: "line_walk",
      envOptions: { length: "4" },
      episodes: 6,
      maxSteps: 20,
      batchSize: 16,
      bufferSize: 1000,
      actorHidden: [16],
      criticHidden: [16],
      epsilonDecay: 50,
      testEpisodes: 1,
    };
    const summary = await train(config, { outDir });
    const lines = (await Deno.readTextFile(`${outDir}/metrics.csv`)).trim().split("\n");
    assert.equal(lines.length, 7);
    assert.equal(
      lines[0].split(",").length,
      13,
      "one agent: one critic, one actor and one return column",
    );
    assert.ok(summary.updateRounds > 0, "updates ran");
    assert.ok(summary.totalSteps >= 6 * 3 && summary.totalSteps <= 6 * 20);
    const record = JSON.parse(await Deno.readTextFile(`${outDir}/config.json`));
    assert.equal(record.config.env, "line_walk");
    const threads = learnerThreads("auto", { agents: 1, cores: navigator.hardwareConcurrency });
    assert.equal(record.runtime.learnerThreads, threads, "one agent: the main thread (and helper)");
    assert.notEqual(threads, 2);
  } finally {
    await Deno.remove(outDir, { recursive: true });
  }
});
