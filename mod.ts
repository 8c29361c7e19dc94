/**
 * MADDPG on TensorFlow.js (WASM) for Deno: multi-agent environments behind one parallel
 * interface (the seed notebook's grid world and the nine MPE2 particle worlds), algorithms
 * that declare what they support (the notebook's MADDPG, Gumbel-Softmax MADDPG, MATD3,
 * IDDPG), and a trainer with exact resume.
 *
 * @example
 * ```ts
 * import { agentShapes, initBackend, makeEnv, NOTEBOOK, Pcg32, selectActions, DEFAULT_TRAIN_CONFIG } from "./mod.ts";
 * import assert from "node:assert/strict";
 * await initBackend();
 * const env = makeEnv("grid_world");
 * const algorithm = NOTEBOOK.create({ agents: agentShapes(env), config: DEFAULT_TRAIN_CONFIG }, new Pcg32(42));
 * const { observations } = env.reset();
 * const { rewards } = env.step(selectActions(algorithm.actors, observations, { mode: "greedy" }));
 * assert.equal(rewards.length, 2);
 * algorithm.dispose();
 * ```
 *
 * @module
 */
export { MultiAgentGridEnv } from "./lib/env/grid_world.ts";
export type { Cell, GridEnvOptions, StepResult as GridStepResult } from "./lib/env/grid_world.ts";
export { GridWorldEnv } from "./lib/env/grid_world_env.ts";
export type { GridWorldState } from "./lib/env/grid_world_env.ts";
import "./lib/env/builtin.ts";
export {
  envEntry,
  envIds,
  makeEnv,
  parseEnvOptionArgs,
  registerEnv,
  resolveEnvOptions,
} from "./lib/env/registry.ts";
export type { EnvEntry, EnvOptionSpec, EnvOptionValue } from "./lib/env/registry.ts";
export { actionSpace, agentIndex, checkActions, observationSpace } from "./lib/env/parallel_env.ts";
export type {
  Action,
  ParallelEnv,
  ResetOptions,
  ResetResult,
  StepResult,
} from "./lib/env/parallel_env.ts";
export { Box, Discrete } from "./lib/env/spaces.ts";
export type { Space, UniformSource } from "./lib/env/spaces.ts";
export type { CircleShape, RectShape, Rgb, Scene, Shape } from "./lib/env/scene.ts";
export { Agent, Entity, Landmark, MpeEnv, NumpyGenerator, World } from "./lib/env/mpe/mod.ts";
export type {
  AgentAction,
  MpeEntityState,
  MpeEnvState,
  ObservationBuffer,
  Scenario,
  ScenarioRandom,
} from "./lib/env/mpe/mod.ts";
export { Pcg64 } from "./lib/env/mpe/numpy_random.ts";
export type { NumpyPcg64State, Pcg64State } from "./lib/env/mpe/numpy_random.ts";
export { Pcg32 } from "./lib/rng.ts";
export type { RngState } from "./lib/rng.ts";
export {
  allocateBatch,
  BUFFER_BLOCK_ROWS,
  ReplayBuffer,
  replayBufferBytes,
} from "./lib/replay_buffer.ts";
export type {
  Batch,
  ReplayBufferOptions,
  ReplayBufferState,
  Transition,
} from "./lib/replay_buffer.ts";
export { Mlp, softUpdate, WEIGHT_INITS } from "./lib/nn/mlp.ts";
export type { LayerSlice, MlpOptions, WeightInit } from "./lib/nn/mlp.ts";
export { ACTIVATIONS } from "./lib/nn/activation.ts";
export type { Activation } from "./lib/nn/activation.ts";
export { Adam, clipGradNorm } from "./lib/nn/adam.ts";
export type { AdamOptions, AdamState } from "./lib/nn/adam.ts";
export { TfMlp } from "./lib/nn/tf_mlp.ts";
export type { InputColumns } from "./lib/nn/tf_mlp.ts";
export { gumbelSoftmax, gumbelSoftmaxBackward } from "./lib/nn/gumbel.ts";
export type { GumbelSoftmaxOptions } from "./lib/nn/gumbel.ts";
export {
  isTorchTensor,
  mlpFromStateDict,
  readTorchCheckpoint,
  stateDictAt,
} from "./lib/nn/torch_state_dict.ts";
export type { StateDict, TorchTensor } from "./lib/nn/torch_state_dict.ts";
export { argmax, sampleCategorical, selectActions } from "./lib/agent/policy.ts";
export type { ActionChoice, ActionMode } from "./lib/agent/policy.ts";
export type {
  AgentShape,
  AlgorithmInstance,
  AlgorithmSpec,
  AlgorithmSupport,
  LearnerState,
  LearningOptions,
  PeerExchange,
  UpdateLosses,
} from "./lib/agent/algorithm.ts";
export { NOTEBOOK, NotebookMaddpg } from "./lib/agent/notebook.ts";
export type { NotebookRound, PreparedActor } from "./lib/agent/notebook.ts";
export { GumbelMaddpg } from "./lib/agent/gumbel_learner.ts";
export type { GumbelOptions, GumbelRound, GumbelVariant } from "./lib/agent/gumbel_learner.ts";
export type { BoxOutput } from "./lib/agent/_action_heads.ts";
export { MADDPG } from "./lib/agent/maddpg.ts";
export { MATD3 } from "./lib/agent/matd3.ts";
export { IDDPG } from "./lib/agent/iddpg.ts";
export { ALGORITHMS, createAlgorithm } from "./lib/agent/catalogue.ts";
export { InlineLearner } from "./lib/agent/learner.ts";
export type { Learner } from "./lib/agent/learner.ts";
export { ParallelLearner } from "./lib/agent/parallel.ts";
export { initBackend, runtimeInfo } from "./lib/backend.ts";
export type { RuntimeInfo } from "./lib/backend.ts";
export { CONFIG_FIELDS, DEFAULT_TRAIN_CONFIG } from "./lib/config_fields.ts";
export type { AlgorithmName, ConfigField, TrainConfig } from "./lib/config_fields.ts";
export { configFromRecord, parseTrainArgs } from "./lib/config.ts";
export type { LearnerThreads, TrainFlags } from "./lib/config.ts";
export { loadMlp, saveMlp, toLayersModel } from "./lib/checkpoint.ts";
export { epsilonAt, Interrupted, runEpisodes, train } from "./lib/trainer.ts";
export type { EpisodeMetrics, TestResult, TrainSummary } from "./lib/trainer.ts";
export { agentShapes, makeTrainingEnv } from "./lib/train/run.ts";
export type { TrainOptions } from "./lib/train/run.ts";
export type { EpisodeOptions, EpisodeResult } from "./lib/train/episodes.ts";
export type { SessionResult } from "./lib/train/session.ts";
export { loadState, saveState } from "./lib/run_state.ts";
export { SavedBlocks } from "./lib/buffer_blocks.ts";
export type { SavedBlock } from "./lib/buffer_blocks.ts";
export type { PartialEpisode, TrainingState } from "./lib/run_state.ts";
export type { LossSums } from "./lib/train/episode_log.ts";
export { mean, median, sampleStd } from "./lib/stats.ts";
export { movingAverage } from "./lib/plot/series.ts";
export { bandChart, dashboard, lineChart, panelChart, PANELS } from "./lib/plot/specs.ts";
export type { Curve, Panel, Spec } from "./lib/plot/specs.ts";
export { renderSvg, svgToPng } from "./lib/plot/render.ts";
export { sceneToSvg } from "./lib/render/svg.ts";
export type { SvgOptions } from "./lib/render/svg.ts";
