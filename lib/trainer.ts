/**
 * The training loop of the seed notebook, and the files a run writes.
 *
 * @module
 */
import { selectActions } from "./agent/maddpg.ts";
import type { ActionMode, UpdateLosses } from "./agent/maddpg.ts";
import { createAgents, maddpgOptions, usesWorkers } from "./agent/algorithms.ts";
import { InlineLearner } from "./agent/learner.ts";
import type { Learner } from "./agent/learner.ts";
import { ParallelLearner } from "./agent/parallel.ts";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "./backend.ts";
import type { LearnerState } from "./agent/algorithms.ts";
import { acquireLock } from "./lock.ts";
import { METRICS_COLUMNS } from "./metrics.ts";
import { findState, loadState, saveState, stateDir, tidyState } from "./run_state.ts";
import type { RuntimeInfo } from "./backend.ts";
import { saveMlp } from "./checkpoint.ts";
import type { TrainConfig } from "./config.ts";
import { MultiAgentGridEnv } from "./env/grid_world.ts";
import { UsageError } from "./errors.ts";
import { resolveOutDir, writeFileAtomic } from "./files.ts";
import type { Mlp } from "./nn/mlp.ts";
import { allocateBatch, ReplayBuffer } from "./replay_buffer.ts";
import { Pcg32 } from "./rng.ts";

/** One row of `metrics.csv`. */
export interface EpisodeMetrics {
  /** Episode number, from 1. */
  episode: number;
  /** Steps of this episode. */
  steps: number;
  /** Environment steps since the start of training. */
  totalSteps: number;
  /** Sum of the shared reward over the episode. */
  reward: number;
  /** Mean over agents of the episode's mean critic loss (0 when no update ran). */
  criticLoss: number;
  /** Mean over agents of the episode's mean actor loss (0 when no update ran). */
  actorLoss: number;
  /** Exploration rate at the end of the episode. */
  epsilon: number;
  /** Whether both agents reached their goals. */
  success: boolean;
  /** Per-agent mean critic losses. */
  criticLosses: number[];
  /** Per-agent mean actor losses. */
  actorLosses: number[];
  /** Reward of one greedy (argmax) episode of the actors at the end of this episode. */
  greedyReward: number;
  /** Whether that greedy episode succeeded. */
  greedySuccess: boolean;
}

/** Result of test episodes. */
export interface TestResult {
  /** How actions were chosen. */
  policy: ActionMode;
  /** Each episode's reward, length and success. */
  episodes: { reward: number; length: number; success: boolean }[];
  /** Mean episode reward. */
  averageReward: number;
  /** Fraction of episodes that succeeded. */
  successRate: number;
}

/** Contents of `summary.json`. */
export interface TrainSummary {
  /** Episodes trained. */
  episodes: number;
  /** Environment steps taken. */
  totalSteps: number;
  /** Update rounds run. */
  updateRounds: number;
  /** Wall time of the training loop, seconds. */
  wallSeconds: number;
  /** Environment steps per second of wall time. */
  stepsPerSecond: number;
  /** Means over the last (up to) 50 episodes. */
  final50: {
    reward: number;
    criticLoss: number;
    actorLoss: number;
    successRate: number;
    greedySuccessRate: number;
  };
  /** First episode after which a greedy episode of the actors succeeded (null: never). */
  firstGreedySuccess: number | null;
  /** End-of-training tests: the notebook's (sampled actions) and a greedy one. */
  test: { sample: TestResult; greedy: TestResult };
  /** Peak resident set size seen during the run, MB. */
  peakRssMb: number;
}

/** Where `train` writes, and what it prints. */
export interface TrainOptions {
  /** Run directory (created; must not hold results unless `force`). */
  outDir: string;
  /** Receives the notebook's progress lines and other messages. */
  log?: (line: string) => void;
  /** Receives a live one-line status (episode, steps/s, ETA), for a terminal. */
  status?: (line: string) => void;
  /** Continue from the state saved in `outDir` (its config must be `config`'s). */
  resume?: boolean;
  /** Asked after each episode: a signal name stops the run after saving its state. */
  shouldStop?: () => string | undefined;
}

/** The header of `metrics.csv`, for `numAgents` agents. */
export function metricsHeader(numAgents: number): string {
  const perAgent = [
    ...Array.from({ length: numAgents }, (_, i) => `critic_loss_${i}`),
    ...Array.from({ length: numAgents }, (_, i) => `actor_loss_${i}`),
  ];
  return [...METRICS_COLUMNS as readonly string[]]
    .concat(perAgent, ["greedy_reward", "greedy_success"]).join(",");
}

/** One `metrics.csv` line (no newline). */
export function metricsLine(m: EpisodeMetrics): string {
  return [
    m.episode,
    m.steps,
    m.totalSteps,
    m.reward,
    m.criticLoss,
    m.actorLoss,
    m.epsilon,
    m.success ? 1 : 0,
    ...m.criticLosses,
    ...m.actorLosses,
    m.greedyReward,
    m.greedySuccess ? 1 : 0,
  ].join(",");
}

/** The notebook's exploration schedule after `totalSteps` steps. */
export function epsilonAt(config: TrainConfig, totalSteps: number): number {
  const { epsilonStart, epsilonEnd, epsilonDecay } = config;
  return Math.max(
    epsilonEnd,
    epsilonStart - totalSteps / epsilonDecay * (epsilonStart - epsilonEnd),
  );
}

/**
 * Picks the run directory: `out` when given (refused if it already holds results, unless
 * `force`), else `results/<algo>-seed<seed>` or the first free `-2`, `-3`, … suffix.
 */
export function resolveRunDir(
  config: TrainConfig,
  out: string | undefined,
  force: boolean,
  root = "results",
): Promise<string> {
  return resolveOutDir(`${root}/${config.algo}-seed${config.seed}`, out, force);
}

/** Runs test episodes with decentralized actors. */
export function runTestEpisodes(
  actors: readonly Mlp[],
  env: MultiAgentGridEnv,
  policy: ActionMode,
  episodes: number,
  maxSteps: number,
  rng: Pcg32,
): TestResult {
  const results: TestResult["episodes"] = [];
  for (let e = 0; e < episodes; e++) {
    let observations = env.reset();
    let reward = 0, length = 0, done = false;
    while (!done && length < maxSteps) {
      const step = env.step(selectActions(actors, observations, policy, rng));
      observations = step.observations;
      reward += step.rewards[0];
      done = step.done;
      length++;
    }
    results.push({ reward, length, success: done });
  }
  const mean = (values: number[]) =>
    values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
  return {
    policy,
    episodes: results,
    averageReward: mean(results.map((r) => r.reward)),
    successRate: mean(results.map((r) => (r.success ? 1 : 0))),
  };
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Contents of `config.json`. */
export interface RunRecord {
  /** The resolved config. */
  config: TrainConfig;
  /** Versions and backend. */
  runtime: RuntimeInfo;
}

/**
 * Appends `bytes` completely, or (on an error such as a full disk) cuts the file back to
 * `size` so that no torn line stays, and rethrows. Returns the new size.
 */
async function appendWhole(file: Deno.FsFile, bytes: Uint8Array, size: number): Promise<number> {
  try {
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    return size + bytes.length;
  } catch (error) {
    await file.truncate(size).catch(() => {});
    throw error;
  }
}

/** A run stopped by a signal after saving its state. */
export class Interrupted extends Error {
  constructor(
    /** The signal. */
    readonly signal: string,
    /** Episodes completed and saved. */
    readonly episode: number,
    /** Steps of the next episode also saved (0: stopped between episodes). */
    readonly steps = 0,
  ) {
    super(`Interrupted by ${signal} after episode ${episode}`);
    this.name = "Interrupted";
  }
}

/** An episode stopped after some steps: what its continuation needs. */
export interface PartialEpisode {
  /** The agents' cells. */
  positions: [number, number][];
  /** Reward so far. */
  reward: number;
  /** Steps taken. */
  steps: number;
  /** Update rounds run in it. */
  updates: number;
  /** Per-agent sums of its critic losses so far. */
  criticSums: number[];
  /** Per-agent sums of its actor losses so far. */
  actorSums: number[];
}

/** The fields of `config` that define the experiment (all but where and how fast it runs). */
export function experimentFields(config: TrainConfig): Partial<TrainConfig> {
  const { episodes: _e, threads: _t, checkpointEvery: _c, ...rest } = config;
  return rest;
}

function assertFinite(metrics: EpisodeMetrics, checkpoint: string): void {
  for (
    const [network, losses] of [["critic", metrics.criticLosses], [
      "actor",
      metrics.actorLosses,
    ]] as const
  ) {
    losses.forEach((loss, agent) => {
      if (!Number.isFinite(loss)) {
        throw new Error(
          `Non-finite ${network} loss (${loss}) of agent ${agent} in episode ${metrics.episode}; ` +
            `the last good state is kept in ${checkpoint}`,
        );
      }
    });
  }
}

function assertFiniteWeights(state: LearnerState, episode: number): void {
  for (const [name, params] of Object.entries(state.nets)) {
    if (!params.every(Number.isFinite)) {
      const [, network, agent] = /^(.*)_(\d+)$/.exec(name) ?? [name, name, "?"];
      throw new Error(
        `Non-finite weights in the ${network} of agent ${agent} after episode ${episode}`,
      );
    }
  }
}

/**
 * Trains agents as the notebook does and writes `config.json`, `metrics.csv` (one line per
 * episode, as it goes), `summary.json` and `checkpoint/` into `options.outDir`.
 *
 * Every `config.checkpointEvery` episodes (and when `options.shouldStop` asks) the whole
 * state is saved in `checkpoint/state/`; with `options.resume` the run continues from there
 * and ends exactly as an uninterrupted run would.
 */
export async function train(config: TrainConfig, options: TrainOptions): Promise<TrainSummary> {
  const { outDir, log = () => {}, status, shouldStop = () => undefined } = options;
  const rng = new Pcg32(config.seed);
  const env = new MultiAgentGridEnv({ size: config.gridSize, numAgents: 2 });
  const greedyEnv = new MultiAgentGridEnv({ size: config.gridSize, numAgents: 2 });
  const { numAgents, observationDim, actionDim } = env;
  const managerOptions = maddpgOptions(config, { numAgents, observationDim, actionDim });
  const manager = createAgents(config, managerOptions, rng);
  const parallel = usesWorkers(config);
  const buffer = new ReplayBuffer({ capacity: config.bufferSize, numAgents, observationDim });
  const batch = allocateBatch(config.batchSize, numAgents, observationDim);
  const sampleIndices = new Int32Array(config.batchSize);
  const history: EpisodeMetrics[] = [];
  let totalSteps = 0, updateRounds = 0, firstEpisode = 1, elapsedBefore = 0;
  let resumeInside: PartialEpisode | undefined;
  let epsilon = config.epsilonStart;

  await Deno.mkdir(outDir, { recursive: true });
  const release = acquireLock(outDir);
  let learner: Learner | undefined;
  let metricsFile: Deno.FsFile | undefined;
  try {
    if (options.resume) await tidyState(outDir);
    const dir = options.resume ? await findState(outDir) : undefined;
    if (dir) {
      const state = await loadState(dir);
      if (
        JSON.stringify(experimentFields(state.config)) !== JSON.stringify(experimentFields(config))
      ) {
        throw new UsageError(
          `${dir} was saved by a run with another config than ${outDir}/config.json`,
        );
      }
      if (state.tfjs !== tf.version_core) {
        throw new UsageError(
          `${dir} was saved with tfjs ${state.tfjs}; this is ${tf.version_core}`,
        );
      }
      if (state.episode > config.episodes) {
        throw new UsageError(
          `--episodes ${config.episodes} is fewer than the ${state.episode} already trained`,
        );
      }
      try {
        manager.setState(state.learner);
        buffer.importState(state.buffer);
        rng.setState(state.rng);
      } catch (error) {
        throw new UsageError(`${dir}: ${(error as Error).message}`);
      }
      history.push(...(state.history as unknown as EpisodeMetrics[]));
      ({ totalSteps, updateRounds, epsilon } = state);
      firstEpisode = state.episode + 1;
      elapsedBefore = state.elapsedSeconds;
      resumeInside = state.partial;
      log(`Resuming ${outDir} after episode ${state.episode}`);
    } else {
      // Killed before its first save, a resumed run starts over, which ends the same. A fresh
      // run (e.g. with --force) must not leave an older run's state to resume.
      if (options.resume) log(`${outDir} has no saved state yet: starting from episode 1`);
      await Deno.remove(`${outDir}/checkpoint`, { recursive: true }).catch(() => {});
    }
    // With worker threads, this thread only builds models to save them: tfjs "cpu" suffices.
    await initBackend(parallel ? "cpu" : "wasm");
    learner = parallel
      ? await ParallelLearner.start(manager, config, { numAgents, observationDim, actionDim })
      : new InlineLearner(manager);
    const record: RunRecord = { config, runtime: learner.runtime };
    await writeFileAtomic(`${outDir}/config.json`, JSON.stringify(record, null, 2) + "\n");
    // metrics.csv holds exactly the saved episodes, then grows one complete line at a time.
    await writeFileAtomic(
      `${outDir}/metrics.csv`,
      [metricsHeader(numAgents), ...history.map(metricsLine)].join("\n") + "\n",
    );
    metricsFile = await Deno.open(`${outDir}/metrics.csv`, { append: true });
    let metricsSize = (await metricsFile.stat()).size;
    const encoder = new TextEncoder();
    let peakRss = Deno.memoryUsage().rss;
    const start = performance.now();
    const elapsed = () => elapsedBefore + (performance.now() - start) / 1000;
    const checkpoint = async (episode: number, partial?: PartialEpisode) => {
      const state = (await learner!.collect()).getState();
      assertFiniteWeights(state, episode);
      await saveState(outDir, {
        partial,
        config,
        tfjs: tf.version_core,
        episode,
        totalSteps,
        updateRounds,
        epsilon,
        elapsedSeconds: elapsed(),
        rng: rng.getState(),
        history: history as unknown as Record<string, unknown>[],
        learner: state,
        buffer: buffer.exportState(),
      });
    };
    let lastStatus = 0, lastYield = performance.now();
    for (let episode = firstEpisode; episode <= config.episodes; episode++) {
      let observations = env.reset();
      let reward = 0, steps = 0, done = false, updates = 0, firstStep = 0;
      const criticSums = new Array(numAgents).fill(0);
      const actorSums = new Array(numAgents).fill(0);
      if (resumeInside && episode === firstEpisode) {
        // The saved state stopped inside this episode: continue it where it stopped.
        observations = env.setPositions(resumeInside.positions);
        ({ reward, steps, updates } = resumeInside);
        firstStep = resumeInside.steps;
        resumeInside.criticSums.forEach((v, i) => (criticSums[i] = v));
        resumeInside.actorSums.forEach((v, i) => (actorSums[i] = v));
      }
      const addLosses = (rounds: UpdateLosses[]) => {
        for (const losses of rounds) {
          for (let i = 0; i < numAgents; i++) {
            criticSums[i] += losses.critic[i];
            actorSums[i] += losses.actor[i];
          }
        }
      };
      for (let t = firstStep; t < config.maxSteps; t++) {
        let actions: number[];
        if (rng.nextFloat() < epsilon) {
          actions = Array.from({ length: numAgents }, () => rng.nextInt(actionDim));
        } else {
          addLosses(await learner.flush()); // the greedy action needs the current actors
          actions = selectActions(
            manager.actors,
            observations,
            config.actionSelection === "sample" ? "sample" : "greedy",
            rng,
          );
        }
        const step = env.step(actions);
        buffer.push(observations, actions, step.rewards, step.observations, step.done);
        observations = step.observations;
        reward += step.rewards[0];
        totalSteps++;
        steps++;
        done = step.done;
        if (buffer.length > config.batchSize && totalSteps % config.updateEvery === 0) {
          for (let u = 0; u < config.numUpdates; u++) {
            buffer.gather(buffer.sampleIndices(config.batchSize, rng, sampleIndices), batch);
            learner.submit(batch, manager.drawUniforms(config.batchSize, rng));
            updates++;
            updateRounds++;
          }
        }
        epsilon = epsilonAt(config, totalSteps);
        if (done) break;
        // Let signal handlers run now and then (they only run when the loop awaits).
        if (performance.now() - lastYield > 50) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          lastYield = performance.now();
        }
        const signal = shouldStop();
        if (signal && t + 1 < config.maxSteps) {
          // Stop after this step: save the episode so far, to be continued on resume.
          addLosses(await learner.flush());
          await checkpoint(episode - 1, {
            positions: env.positions.map(([row, col]) => [row, col] as [number, number]),
            reward,
            steps,
            updates,
            criticSums: [...criticSums],
            actorSums: [...actorSums],
          });
          throw new Interrupted(signal, episode - 1, steps);
        }
      }
      addLosses(await learner.flush());
      const criticLosses = criticSums.map((s) => (updates > 0 ? s / updates : 0));
      const actorLosses = actorSums.map((s) => (updates > 0 ? s / updates : 0));
      // One greedy episode on its own environment: no random draws, so training is unchanged.
      const greedy = runTestEpisodes(learner.actors, greedyEnv, "greedy", 1, config.maxSteps, rng)
        .episodes[0];
      const metrics: EpisodeMetrics = {
        episode,
        steps,
        totalSteps,
        reward,
        criticLoss: mean(criticLosses),
        actorLoss: mean(actorLosses),
        epsilon,
        success: done,
        criticLosses,
        actorLosses,
        greedyReward: greedy.reward,
        greedySuccess: greedy.success,
      };
      assertFinite(metrics, stateDir(outDir));
      history.push(metrics);
      metricsSize = await appendWhole(
        metricsFile,
        encoder.encode(metricsLine(metrics) + "\n"),
        metricsSize,
      );
      peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
      if (episode % 50 === 0) {
        const recent = history.slice(-50);
        log(
          `Ep ${episode}/${config.episodes} | Steps: ${totalSteps} | Avg Reward: ${
            mean(recent.map((m) => m.reward)).toFixed(2)
          } | Avg C_Loss: ${mean(recent.map((m) => m.criticLoss)).toFixed(4)} | Avg A_Loss: ${
            mean(recent.map((m) => m.actorLoss)).toFixed(4)
          } | Eps: ${epsilon.toFixed(3)}`,
        );
      }
      const signal = shouldStop();
      if (signal || (config.checkpointEvery > 0 && episode % config.checkpointEvery === 0)) {
        await checkpoint(episode);
      }
      if (signal) throw new Interrupted(signal, episode);
      const now = performance.now();
      if (status && (now - lastStatus > 250 || episode === config.episodes)) {
        lastStatus = now;
        const seconds = (now - start) / 1000;
        const eta = seconds / (episode - firstEpisode + 1) * (config.episodes - episode);
        status(
          `episode ${episode}/${config.episodes} | ${
            ((totalSteps - (history[firstEpisode - 2]?.totalSteps ?? 0)) / seconds).toFixed(0)
          } steps/s | ETA ${eta.toFixed(0)} s`,
        );
      }
    }
    // The final state too, so that `--resume --episodes N` can extend a finished run.
    const last = history.length;
    if (config.checkpointEvery > 0 && last >= firstEpisode && last % config.checkpointEvery !== 0) {
      await checkpoint(last);
    }
    await learner.collect();
    const wallSeconds = elapsed();
    const recent = history.slice(-50);
    const sample = runTestEpisodes(
      manager.actors,
      env,
      "sample",
      config.testEpisodes,
      config.maxSteps,
      rng,
    );
    const greedy = runTestEpisodes(
      manager.actors,
      env,
      "greedy",
      config.testEpisodes,
      config.maxSteps,
      rng,
    );
    for (let i = 0; i < numAgents; i++) {
      await saveMlp(manager.actors[i], `${outDir}/checkpoint/agent_${i}/actor`, `actor_${i}`);
      await saveMlp(manager.critics[i], `${outDir}/checkpoint/agent_${i}/critic`, `critic_${i}`);
    }
    peakRss = Math.max(peakRss, Deno.memoryUsage().rss);
    const summary: TrainSummary = {
      episodes: config.episodes,
      totalSteps,
      updateRounds,
      wallSeconds,
      stepsPerSecond: totalSteps / wallSeconds,
      firstGreedySuccess: history.find((m) => m.greedySuccess)?.episode ?? null,
      final50: {
        reward: mean(recent.map((m) => m.reward)),
        criticLoss: mean(recent.map((m) => m.criticLoss)),
        actorLoss: mean(recent.map((m) => m.actorLoss)),
        successRate: mean(recent.map((m) => (m.success ? 1 : 0))),
        greedySuccessRate: mean(recent.map((m) => (m.greedySuccess ? 1 : 0))),
      },
      test: { sample, greedy },
      peakRssMb: peakRss / 2 ** 20,
    };
    await writeFileAtomic(`${outDir}/summary.json`, JSON.stringify(summary, null, 2) + "\n");
    return summary;
  } finally {
    metricsFile?.close();
    await learner?.close();
    release();
  }
}
