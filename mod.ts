/**
 * MADDPG on TensorFlow.js (WASM) for Deno: the seed notebook's 2-agent cooperative grid
 * world and its discrete-action MADDPG, reproduced faithfully and fast.
 *
 * @example
 * ```ts
 * import { MADDPGAgentManager, MultiAgentGridEnv, Pcg32, initBackend } from "./mod.ts";
 * await initBackend();
 * const env = new MultiAgentGridEnv();
 * const manager = new MADDPGAgentManager(
 *   { numAgents: env.numAgents, observationDim: env.observationDim, actionDim: env.actionDim },
 *   new Pcg32(42),
 * );
 * const actions = manager.selectActions(env.reset(), "greedy");
 * const { rewards } = env.step(actions);
 * if (rewards.length !== 2) throw new Error("one reward per agent");
 * manager.dispose();
 * ```
 *
 * @module
 */
export { MultiAgentGridEnv } from "./lib/env/grid_world.ts";
export type { GridEnvOptions, StepResult } from "./lib/env/grid_world.ts";
export { Pcg32 } from "./lib/rng.ts";
export type { RngState } from "./lib/rng.ts";
export { allocateBatch, ReplayBuffer } from "./lib/replay_buffer.ts";
export type { Batch, ReplayBufferOptions } from "./lib/replay_buffer.ts";
export { Mlp, softUpdate } from "./lib/nn/mlp.ts";
export { Adam, clipGradNorm } from "./lib/nn/adam.ts";
export type { AdamOptions, AdamState } from "./lib/nn/adam.ts";
export { TfMlp } from "./lib/nn/tf_mlp.ts";
export {
  argmax,
  MADDPGAgentManager,
  sampleCategorical,
  selectActions,
} from "./lib/agent/maddpg.ts";
export type { ActionMode, MaddpgOptions, UpdateLosses } from "./lib/agent/maddpg.ts";
export { GumbelMADDPG } from "./lib/agent/gumbel_maddpg.ts";
export type { GumbelMaddpgOptions, GumbelVariant } from "./lib/agent/gumbel_maddpg.ts";
export { ALGORITHM_INFO, createAgents } from "./lib/agent/algorithms.ts";
export type { AlgorithmInfo, LearnerState, UpdateCore } from "./lib/agent/algorithms.ts";
export { gumbelSoftmax, gumbelSoftmaxBackward } from "./lib/nn/gumbel.ts";
export { InlineLearner } from "./lib/agent/learner.ts";
export type { Learner } from "./lib/agent/learner.ts";
export { ParallelLearner } from "./lib/agent/parallel.ts";
export { initBackend, runtimeInfo } from "./lib/backend.ts";
export type { RuntimeInfo } from "./lib/backend.ts";
export { configFromRecord, DEFAULT_TRAIN_CONFIG, parseTrainArgs } from "./lib/config.ts";
export type { TrainConfig } from "./lib/config.ts";
export { loadMlp, saveMlp, toLayersModel } from "./lib/checkpoint.ts";
export { epsilonAt, Interrupted, runTestEpisodes, train } from "./lib/trainer.ts";
export { loadState, saveState } from "./lib/run_state.ts";
export type { TrainingState } from "./lib/run_state.ts";
export { movingAverage } from "./lib/plot/series.ts";
export { bandChart, dashboard, lineChart, panelChart } from "./lib/plot/specs.ts";
export { renderSvg, svgToPng } from "./lib/plot/render.ts";
export type { EpisodeMetrics, TestResult, TrainSummary } from "./lib/trainer.ts";
