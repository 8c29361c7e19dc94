/**
 * Continuing a run from its saved state: find and check the state (same experiment, same
 * tfjs, not more episodes than asked), then load it into the run's parts.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { AlgorithmInstance } from "../agent/algorithm.ts";
import { configFromRecord, experimentFields } from "../config.ts";
import type { TrainConfig } from "../config_fields.ts";
import type { ParallelEnv } from "../env/parallel_env.ts";
import { UsageError } from "../errors.ts";
import { exists } from "../files.ts";
import type { ReplayBuffer } from "../replay_buffer.ts";
import type { Pcg32 } from "../rng.ts";
import { findState, loadState, tidyState } from "../run_state.ts";
import type { TrainingState } from "../run_state.ts";

/**
 * The saved state of `outDir` that a run of `config` continues, or undefined when it has
 * none. A state of another experiment or tfjs version, or with more episodes than
 * `config.episodes`, is refused, and so is a finished run (it has `summary.json`) that has
 * no state or no episodes left to train: continuing it would only overwrite its results.
 */
export async function findResumeState(
  outDir: string,
  config: TrainConfig,
): Promise<{ dir: string; state: TrainingState } | undefined> {
  await tidyState(outDir);
  const finished = await exists(`${outDir}/summary.json`);
  const dir = await findState(outDir);
  if (!dir) {
    if (finished) {
      throw new UsageError(`${outDir} has finished (summary.json) and keeps no saved state`);
    }
    return undefined;
  }
  const state = await loadState(dir);
  const saved = configFromRecord(state.config, `${dir}/state.json`);
  if (JSON.stringify(experimentFields(saved)) !== JSON.stringify(experimentFields(config))) {
    throw new UsageError(
      `${dir} was saved by a run with another config than ${outDir}/config.json`,
    );
  }
  if (state.tfjs !== tf.version_core) {
    throw new UsageError(`${dir} was saved with tfjs ${state.tfjs}; this is ${tf.version_core}`);
  }
  if (state.episode > config.episodes) {
    throw new UsageError(
      `--episodes ${config.episodes} is fewer than the ${state.episode} already trained`,
    );
  }
  if (finished && state.episode === config.episodes) {
    throw new UsageError(
      `${outDir} has finished its ${state.episode} episodes: pass --episodes N ` +
        `(more than ${state.episode}) to extend it`,
    );
  }
  return { dir, state };
}

/** Loads a saved state into the run's parts; a mismatch is a one-line error naming `dir`. */
export function restoreRun(
  { dir, state }: { dir: string; state: TrainingState },
  parts: { algorithm: AlgorithmInstance; buffer: ReplayBuffer; rng: Pcg32; env: ParallelEnv },
): void {
  try {
    parts.algorithm.setState(state.learner);
    parts.buffer.importState(state.buffer);
    parts.rng.setState(state.rng);
    parts.env.setState(state.env);
  } catch (error) {
    throw new UsageError(`${dir}: ${(error as Error).message}`);
  }
}
