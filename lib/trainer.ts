/**
 * `train()`: a training run of `deno task train`, with its files, checkpoints, resume and
 * signals ({@linkcode TrainingRun}), driven by the loop of `train/loop.ts`.
 *
 * @module
 */
import type { TrainConfig } from "./config_fields.ts";
import { trainingLoop } from "./train/loop.ts";
import { TrainingRun } from "./train/run.ts";
import type { TrainOptions, TrainSummary } from "./train/run.ts";

export { Interrupted, resolveRunDir, threadsError } from "./train/run.ts";
export type { RunRecord, TrainOptions, TrainSummary } from "./train/run.ts";
export { epsilonAt } from "./train/exploration.ts";
export { runEpisodes } from "./train/episodes.ts";
export type { EpisodeOptions, EpisodeResult, TestResult } from "./train/episodes.ts";
export { metricsHeader, metricsLine } from "./train/episode_log.ts";
export type { EpisodeMetrics } from "./train/episode_log.ts";
export { trainingLoop } from "./train/loop.ts";

/**
 * Trains agents and writes `config.json`, `metrics.csv` (one line per episode, as it goes),
 * `summary.json` and `checkpoint/` into `options.outDir`.
 *
 * Every `config.checkpointEvery` episodes (and when `options.shouldStop` asks) the whole
 * state is saved in `checkpoint/state/`; with `options.resume` the run continues from there
 * and ends exactly as an uninterrupted run would.
 */
export async function train(config: TrainConfig, options: TrainOptions): Promise<TrainSummary> {
  const run = await TrainingRun.open(config, options);
  try {
    await trainingLoop(run);
    return await run.finish();
  } finally {
    await run.close();
  }
}
