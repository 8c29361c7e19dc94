/**
 * The training loop, top to bottom: reset, act, step, store, update, log. Everything else
 * (building the parts, resume, checkpoints, signals, files, progress) is behind
 * {@linkcode TrainingRun} in `train/run.ts`.
 *
 * @module
 */
import { selectActions } from "./agent/policy.ts";
import type { TrainConfig } from "./config_fields.ts";
import type { Action } from "./env/parallel_env.ts";
import { epsilonAt, randomActions } from "./train/exploration.ts";
import { TrainingRun } from "./train/run.ts";
import type { TrainOptions, TrainSummary } from "./train/run.ts";

export { Interrupted, resolveRunDir } from "./train/run.ts";
export type { RunRecord, TrainOptions, TrainSummary } from "./train/run.ts";
export { epsilonAt } from "./train/exploration.ts";
export { runEpisodes } from "./train/episodes.ts";
export type { EpisodeOptions, EpisodeResult, TestResult } from "./train/episodes.ts";
export { metricsHeader, metricsLine } from "./train/episode_log.ts";
export type { EpisodeMetrics } from "./train/episode_log.ts";

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
  const { env, buffer, learner, algorithm, rng, counters } = run;
  const mode = config.actionSelection === "sample" ? "sample" : "greedy";
  try {
    for (let number = run.firstEpisode; number <= config.episodes; number++) {
      const episode = run.beginEpisode(number); // reset (or the saved episode, on resume)
      while (!episode.over) {
        // Act: ε-greedy on the joint action. TRAP: the draw order (ε, then the actions) is
        // the notebook's; changing it changes every run.
        let actions: Action[];
        if (rng.nextFloat() < counters.epsilon) {
          actions = randomActions(env.actionSpaces, rng);
        } else {
          await run.collectLosses(episode); // the actors must be current
          actions = selectActions(learner.actors, episode.observations, { mode, rng });
        }
        // Step.
        const step = env.step(actions);
        episode.steps++;
        counters.totalSteps++;
        const cut = episode.steps >= config.maxSteps; // the run's own limit truncates too
        const truncations = cut ? step.truncations.map(() => true) : step.truncations;
        // Store.
        buffer.push({
          observations: episode.observations,
          actions,
          rewards: step.rewards,
          nextObservations: step.observations,
          terminations: step.terminations,
          truncations,
        });
        step.observations.forEach((o, i) => episode.observations[i].set(o));
        step.rewards.forEach((r, i) => (episode.returns[i] += r));
        // Update.
        if (buffer.length > config.batchSize && counters.totalSteps % config.updateEvery === 0) {
          for (let u = 0; u < config.numUpdates; u++) {
            buffer.gather(buffer.sampleIndices(config.batchSize, rng, run.indices), run.batch);
            learner.submit(run.batch, algorithm.drawUniforms(config.batchSize, rng));
            counters.updateRounds++;
          }
        }
        counters.epsilon = epsilonAt(config, counters.totalSteps);
        episode.success = step.terminations.every(Boolean);
        episode.over = step.terminations.some(Boolean) || truncations.some(Boolean);
        if (!episode.over) await run.stopIfAsked(episode); // a signal: save, then stop
      }
      // Log: losses, greedy probe, metrics.csv, progress; a checkpoint when due.
      await run.endEpisode(episode);
    }
    return await run.finish();
  } finally {
    await run.close();
  }
}
