/**
 * Exploration during training: the notebook's linearly decayed ε and the random joint
 * action it takes with probability ε.
 *
 * @module
 */
import type { TrainConfig } from "../config_fields.ts";
import type { Action } from "../env/parallel_env.ts";
import type { Space, UniformSource } from "../env/spaces.ts";

/**
 * The notebook's exploration rate after `totalSteps` steps: linear from `epsilonStart` to
 * `epsilonEnd` over `epsilonDecay` steps, then flat.
 *
 * @example
 * ```ts
 * import { epsilonAt } from "./exploration.ts";
 * import assert from "node:assert/strict";
 * const schedule = { epsilonStart: 1, epsilonEnd: 0.05, epsilonDecay: 50_000 };
 * assert.deepEqual(
 *   [epsilonAt(schedule, 0), epsilonAt(schedule, 25_000), epsilonAt(schedule, 60_000)],
 *   [1, 0.525, 0.05],
 * );
 * ```
 */
export function epsilonAt(
  schedule: Pick<TrainConfig, "epsilonStart" | "epsilonEnd" | "epsilonDecay">,
  totalSteps: number,
): number {
  const { epsilonStart, epsilonEnd, epsilonDecay } = schedule;
  return Math.max(
    epsilonEnd,
    epsilonStart - totalSteps / epsilonDecay * (epsilonStart - epsilonEnd),
  );
}

/**
 * The std of the Gaussian noise on continuous actions after `totalSteps` steps: linear from
 * `actionNoise` to `actionNoiseEnd` over `actionNoiseDecay` steps, then flat. With
 * `actionNoiseAfterWarmup` the decay counts only the steps after the first `warmupSteps`, as
 * maddpg-zoo-torch's `train.py` does.
 *
 * @example
 * ```ts
 * import { actionNoiseAt } from "./exploration.ts";
 * import assert from "node:assert/strict";
 * const schedule = {
 *   actionNoise: 0.5,
 *   actionNoiseEnd: 0.25,
 *   actionNoiseDecay: 1000,
 *   actionNoiseAfterWarmup: true,
 *   warmupSteps: 200,
 * };
 * assert.deepEqual([0, 200, 700, 1200, 5000].map((t) => actionNoiseAt(schedule, t)), [
 *   0.5,
 *   0.5,
 *   0.375,
 *   0.25,
 *   0.25,
 * ]);
 * ```
 */
export function actionNoiseAt(
  schedule: Pick<
    TrainConfig,
    "actionNoise" | "actionNoiseEnd" | "actionNoiseDecay" | "actionNoiseAfterWarmup" | "warmupSteps"
  >,
  totalSteps: number,
): number {
  const { actionNoise, actionNoiseEnd, actionNoiseDecay } = schedule;
  const delay = schedule.actionNoiseAfterWarmup ? schedule.warmupSteps : 0;
  const fraction = Math.min(1, Math.max(0, totalSteps - delay) / actionNoiseDecay);
  return actionNoise + (actionNoiseEnd - actionNoise) * fraction;
}

/** A uniformly random joint action, drawn agent by agent (the notebook's order). */
export function randomActions(spaces: readonly Space[], rng: UniformSource): Action[] {
  return spaces.map((space) => space.sample(rng));
}
