/**
 * Everything a training run holds besides its loop: the environment, the algorithm, the
 * replay buffer and the learner, built from the config; resuming; the files it writes; the
 * episode bookkeeping; checkpoints and signals. `lib/trainer.ts` drives it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { AgentShape, AlgorithmInstance } from "../agent/algorithm.ts";
import { agentsError, ALGORITHMS, createAlgorithm } from "../agent/catalogue.ts";
import { InlineLearner } from "../agent/learner.ts";
import type { Learner } from "../agent/learner.ts";
import { ParallelLearner } from "../agent/parallel.ts";
import { initBackend } from "../backend.ts";
import type { RuntimeInfo } from "../backend.ts";
import { saveMlp } from "../checkpoint.ts";
import type { LearnerThreads } from "../config.ts";
import type { TrainConfig } from "../config_fields.ts";
import "../env/builtin.ts";
import type { ParallelEnv } from "../env/parallel_env.ts";
import { makeEnv } from "../env/registry.ts";
import { UsageError } from "../errors.ts";
import { resolveOutDir, writeFileAtomic } from "../files.ts";
import { acquireLock } from "../lock.ts";
import { allocateBatch, formatBytes, ReplayBuffer } from "../replay_buffer.ts";
import type { Batch } from "../replay_buffer.ts";
import { Pcg32 } from "../rng.ts";
import { saveState, stateDir } from "../run_state.ts";
import type { PartialEpisode } from "../run_state.ts";
import { mean } from "../stats.ts";
import { addLosses, emptyLossSums, meanLosses } from "./episode_log.ts";
import type { EpisodeMetrics, LossSums } from "./episode_log.ts";
import { runEpisodes } from "./episodes.ts";
import type { TestResult } from "./episodes.ts";
import { MetricsFile } from "./metrics_file.ts";
import { notebookProgressLine, PeakMemory, StatusLine } from "./progress.ts";
import { findResumeState, restoreRun } from "./resume.ts";

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
  /** Asked after each step and episode: a signal name stops the run after saving its state. */
  shouldStop?: () => string | undefined;
  /** Learner threads: 0, 2 (one worker per agent) or `auto`; results are identical. @default "auto" */
  threads?: LearnerThreads;
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

/** Contents of `config.json`. */
export interface RunRecord {
  /** The resolved config. */
  config: TrainConfig;
  /** Versions, backend and learner threads: how the run ran, not what it learned. */
  runtime: RuntimeInfo & { learnerThreads: 0 | 2 };
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

/**
 * Picks the run directory: `out` when given (refused if it already holds results, unless
 * `force`), else `results/<algo>-seed<seed>` or the first free `-2`, `-3`, … suffix.
 */
export function resolveRunDir(
  config: TrainConfig,
  options: { out?: string; force?: boolean; root?: string } = {},
): Promise<string> {
  const { out, force = false, root = "results" } = options;
  const env = config.env === "grid_world" ? "" : `${config.env}-`;
  return resolveOutDir(`${root}/${env}${config.algo}-seed${config.seed}`, out, force);
}

/** The environment a config trains on. */
export function makeTrainingEnv(config: TrainConfig): ParallelEnv {
  try {
    const options = config.env === "grid_world"
      ? { size: config.gridSize, maxSteps: config.maxSteps, ...config.envOptions }
      : config.envOptions;
    return makeEnv(config.env, options);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Each agent's sizes from its spaces. */
export function agentShapes(env: ParallelEnv): AgentShape[] {
  return env.agents.map((_, i) => {
    const action = env.actionSpaces[i];
    return {
      observationSize: env.observationSpaces[i].size,
      actionKind: action.kind === "discrete" ? "discrete" : "continuous",
      actionSize: action.size,
    };
  });
}

/** One episode in progress. */
export interface Episode {
  /** Its number, from 1. */
  number: number;
  /** Each agent's current observation (the loop's own copy). */
  observations: Float32Array[];
  /** Each agent's return so far. */
  returns: number[];
  /** Steps taken. */
  steps: number;
  /** Losses of the update rounds run in it. */
  losses: LossSums;
  /** Whether it has ended. */
  over: boolean;
  /** Whether it ended with every agent terminated. */
  success: boolean;
}

/** Counters that grow through the run. */
export interface RunCounters {
  totalSteps: number;
  updateRounds: number;
  epsilon: number;
}

/** What a {@linkcode TrainingRun} is made of. */
interface RunParts {
  config: TrainConfig;
  options: TrainOptions;
  env: ParallelEnv;
  algorithm: AlgorithmInstance;
  buffer: ReplayBuffer;
  rng: Pcg32;
  /** Releases the run directory's lock. */
  release: () => void;
}

/** A training run's parts and bookkeeping; see {@linkcode TrainingRun.open}. */
export class TrainingRun {
  readonly history: EpisodeMetrics[] = [];
  readonly counters: RunCounters;
  readonly batch: Batch;
  readonly indices: Int32Array;
  firstEpisode = 1;
  #elapsedBefore = 0;
  #resumeInside: PartialEpisode | undefined;
  #learner: Learner | undefined;
  #metricsFile: MetricsFile | undefined;
  #status: StatusLine | undefined;
  #start = performance.now();
  #lastYield = performance.now();
  readonly #memory = new PeakMemory();

  readonly config: TrainConfig;
  readonly options: TrainOptions;
  readonly env: ParallelEnv;
  readonly algorithm: AlgorithmInstance;
  readonly buffer: ReplayBuffer;
  readonly rng: Pcg32;
  readonly release: () => void;

  private constructor(parts: RunParts) {
    ({
      config: this.config,
      options: this.options,
      env: this.env,
      algorithm: this.algorithm,
      buffer: this.buffer,
      rng: this.rng,
      release: this.release,
    } = parts);
    const { config, buffer } = parts;
    this.counters = { totalSteps: 0, updateRounds: 0, epsilon: config.epsilonStart };
    this.batch = allocateBatch(config.batchSize, buffer);
    this.indices = new Int32Array(config.batchSize);
  }

  /** The learner (started by {@linkcode TrainingRun.open}). */
  get learner(): Learner {
    return this.#learner!;
  }

  /** Builds every part, takes the run directory's lock, resumes if asked, opens the files. */
  static async open(config: TrainConfig, options: TrainOptions): Promise<TrainingRun> {
    const rng = new Pcg32(config.seed);
    const env = makeTrainingEnv(config);
    const shapes = agentShapes(env);
    const refusal = agentsError(ALGORITHMS[config.algo], env, shapes);
    if (refusal) throw new UsageError(refusal);
    const algorithm = createAlgorithm(config, shapes, rng);
    const buffer = new ReplayBuffer({
      capacity: config.bufferSize,
      observationSizes: shapes.map((s) => s.observationSize),
      actionSizes: shapes.map((s) => (s.actionKind === "discrete" ? 1 : s.actionSize)),
    });
    await Deno.mkdir(options.outDir, { recursive: true });
    const release = acquireLock(options.outDir);
    const run = new TrainingRun({ config, options, env, algorithm, buffer, rng, release });
    try {
      await run.#resumeOrStart();
      await run.#startLearner(shapes);
      run.#metricsFile = await MetricsFile.open(options.outDir, shapes.length, run.history);
    } catch (error) {
      await run.close();
      throw error;
    }
    run.#log(`Replay buffer: ${config.bufferSize} transitions, ${formatBytes(buffer.bytes)}`);
    run.#status = new StatusLine(options.status, {
      episode: run.firstEpisode,
      totalSteps: run.counters.totalSteps,
    }, config.episodes);
    run.#start = performance.now();
    return run;
  }

  #log(line: string): void {
    this.options.log?.(line);
  }

  async #resumeOrStart(): Promise<void> {
    const { outDir } = this.options;
    const found = this.options.resume ? await findResumeState(outDir, this.config) : undefined;
    if (!found) {
      // Killed before its first save, a resumed run starts over, which ends the same. A fresh
      // run (e.g. with --force) must not leave an older run's state to resume.
      if (this.options.resume) {
        this.#log(`${outDir} has no saved state yet: starting from episode 1`);
      }
      await Deno.remove(`${outDir}/checkpoint`, { recursive: true }).catch(() => {});
      return;
    }
    const { state } = found;
    restoreRun(found, this);
    this.history.push(...(state.history as unknown as EpisodeMetrics[]));
    Object.assign(this.counters, {
      totalSteps: state.totalSteps,
      updateRounds: state.updateRounds,
      epsilon: state.epsilon,
    });
    this.firstEpisode = state.episode + 1;
    this.#elapsedBefore = state.elapsedSeconds;
    this.#resumeInside = state.partial;
    this.#log(`Resuming ${outDir} after episode ${state.episode}`);
  }

  async #startLearner(shapes: AgentShape[]): Promise<void> {
    const threads = this.options.threads ?? "auto";
    const parallel = threads === 2 || (threads === "auto" && shapes.length > 1);
    // With worker threads, this thread only builds models to save them: tfjs "cpu" suffices.
    await initBackend(parallel ? "cpu" : "wasm");
    this.#learner = parallel
      ? await ParallelLearner.start(this.algorithm, this.config, shapes)
      : new InlineLearner(this.algorithm);
    const record: RunRecord = {
      config: this.config,
      runtime: { ...this.#learner.runtime, learnerThreads: parallel ? 2 : 0 },
    };
    await writeFileAtomic(
      `${this.options.outDir}/config.json`,
      JSON.stringify(record, null, 2) + "\n",
    );
  }

  /** Starts episode `number`: a reset (seeded on the run's first), or a saved one continued. */
  beginEpisode(number: number): Episode {
    const n = this.env.agents.length;
    const episode: Episode = {
      number,
      observations: [],
      returns: new Array(n).fill(0),
      steps: 0,
      losses: emptyLossSums(n),
      over: false,
      success: false,
    };
    const saved = number === this.firstEpisode ? this.#resumeInside : undefined;
    if (saved) {
      // The saved state stopped inside this episode: the environment is where it stopped.
      episode.observations = saved.observations.map((o) => Float32Array.from(o));
      episode.returns = [...saved.returns];
      episode.steps = saved.steps;
      episode.losses = saved.losses;
    } else {
      const { observations } = this.env.reset(
        number === 1 ? { seed: this.config.seed } : undefined,
      );
      episode.observations = observations.map((o) => o.slice());
    }
    return episode;
  }

  /** Adds the losses of the rounds the learner finished. */
  async collectLosses(episode: Episode): Promise<void> {
    addLosses(episode.losses, await this.learner.flush());
  }

  /**
   * Lets signal handlers run now and then, and on a stop request saves the episode so far
   * (to be continued on resume) and throws {@linkcode Interrupted}.
   */
  async stopIfAsked(episode: Episode): Promise<void> {
    if (performance.now() - this.#lastYield > 50) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      this.#lastYield = performance.now();
    }
    const signal = this.options.shouldStop?.();
    if (!signal) return;
    await this.collectLosses(episode);
    await this.checkpoint(episode.number - 1, {
      observations: episode.observations.map((o) => Array.from(o)),
      returns: [...episode.returns],
      steps: episode.steps,
      losses: episode.losses,
    });
    throw new Interrupted(signal, episode.number - 1, episode.steps);
  }

  /**
   * Ends an episode: its losses, a greedy probe episode of the actors, the metrics line, the
   * progress line, and a checkpoint when due (or when a stop was asked, which then throws).
   */
  async endEpisode(episode: Episode): Promise<void> {
    await this.collectLosses(episode);
    const losses = meanLosses(episode.losses);
    const metrics: EpisodeMetrics = {
      episode: episode.number,
      steps: episode.steps,
      totalSteps: this.counters.totalSteps,
      reward: mean(episode.returns),
      criticLoss: mean(losses.critic),
      actorLoss: mean(losses.actor),
      epsilon: this.counters.epsilon,
      success: episode.success,
      criticLosses: losses.critic,
      actorLosses: losses.actor,
      ...this.#greedyProbe(episode.number),
    };
    this.#assertFinite(metrics);
    this.history.push(metrics);
    await this.#metricsFile!.append(metrics);
    this.#memory.sample();
    const line = notebookProgressLine(this.history, this.config.episodes);
    if (line) this.#log(line);
    const signal = this.options.shouldStop?.();
    const every = this.config.checkpointEvery;
    if (signal || (every > 0 && episode.number % every === 0)) {
      await this.checkpoint(episode.number);
    }
    if (signal) throw new Interrupted(signal, episode.number);
    this.#status?.update(episode.number, this.counters.totalSteps);
  }

  /** One greedy episode on its own environment: no draws from the run's generator. */
  #greedyProbe(episode: number): { greedyReward: number; greedySuccess: boolean } {
    this.probeEnv ??= makeTrainingEnv(this.config);
    const [result] = runEpisodes({
      actors: this.learner.actors,
      env: this.probeEnv,
      policy: "greedy",
      episodes: 1,
      maxSteps: this.config.maxSteps,
      seed: episode,
    }).episodes;
    return { greedyReward: result.reward, greedySuccess: result.success };
  }

  /** The environment of the greedy probes. */
  probeEnv: ParallelEnv | undefined;

  #assertFinite(metrics: EpisodeMetrics): void {
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
              `the last good state is kept in ${stateDir(this.options.outDir)}`,
          );
        }
      });
    }
  }

  /** Training wall time so far, seconds (resumed runs include their earlier sessions). */
  elapsed(): number {
    return this.#elapsedBefore + (performance.now() - this.#start) / 1000;
  }

  /** Saves the whole state after `episode` episodes (and `partial`, a stopped episode). */
  async checkpoint(episode: number, partial?: PartialEpisode): Promise<void> {
    const learner = (await this.learner.collect()).getState();
    for (const [name, params] of Object.entries(learner.nets)) {
      if (!params.every(Number.isFinite)) {
        const [, network, agent] = /^(.*)_(\d+)$/.exec(name) ?? [name, name, "?"];
        throw new Error(
          `Non-finite weights in the ${network} of agent ${agent} after episode ${episode}`,
        );
      }
    }
    await saveState(this.options.outDir, {
      partial,
      config: this.config as unknown as Record<string, unknown>,
      tfjs: tf.version_core,
      episode,
      ...this.counters,
      elapsedSeconds: this.elapsed(),
      rng: this.rng.getState(),
      history: this.history as unknown as Record<string, unknown>[],
      learner,
      buffer: this.buffer.exportState(),
      env: this.env.getState(),
    });
  }

  /**
   * After the last episode: the final state (so that `--resume --episodes N` can extend the
   * run), the end-of-training tests, the actors and critics in the Layers format, and
   * `summary.json`.
   */
  async finish(): Promise<TrainSummary> {
    const { config } = this, last = this.history.length, every = config.checkpointEvery;
    if (every > 0 && last >= this.firstEpisode && last % every !== 0) await this.checkpoint(last);
    const algorithm = await this.learner.collect();
    const wallSeconds = this.elapsed();
    const test = (policy: "sample" | "greedy") =>
      runEpisodes({
        actors: algorithm.actors,
        env: this.env,
        policy,
        episodes: config.testEpisodes,
        maxSteps: config.maxSteps,
        rng: this.rng,
      });
    const sample = test("sample"), greedy = test("greedy");
    const dir = `${this.options.outDir}/checkpoint`;
    for (let i = 0; i < algorithm.actors.length; i++) {
      await saveMlp(algorithm.actors[i], `${dir}/agent_${i}/actor`, `actor_${i}`);
      await saveMlp(algorithm.critics[i], `${dir}/agent_${i}/critic`, `critic_${i}`);
    }
    this.#memory.sample();
    const summary = this.#summary(wallSeconds, { sample, greedy });
    await writeFileAtomic(
      `${this.options.outDir}/summary.json`,
      JSON.stringify(summary, null, 2) + "\n",
    );
    return summary;
  }

  #summary(wallSeconds: number, test: TrainSummary["test"]): TrainSummary {
    const recent = this.history.slice(-50), { totalSteps, updateRounds } = this.counters;
    return {
      episodes: this.config.episodes,
      totalSteps,
      updateRounds,
      wallSeconds,
      stepsPerSecond: totalSteps / wallSeconds,
      firstGreedySuccess: this.history.find((m) => m.greedySuccess)?.episode ?? null,
      final50: {
        reward: mean(recent.map((m) => m.reward)),
        criticLoss: mean(recent.map((m) => m.criticLoss)),
        actorLoss: mean(recent.map((m) => m.actorLoss)),
        successRate: mean(recent.map((m) => (m.success ? 1 : 0))),
        greedySuccessRate: mean(recent.map((m) => (m.greedySuccess ? 1 : 0))),
      },
      test,
      peakRssMb: this.#memory.megabytes,
    };
  }

  /** Closes the files and the learner, and releases the lock. */
  async close(): Promise<void> {
    this.#metricsFile?.close();
    await this.#learner?.close();
    this.release();
  }
}
