/**
 * Everything a training run holds besides its loop: the environment, the algorithm, the
 * replay buffer and the learner, built from the config; resuming; the files it writes; the
 * episode bookkeeping; checkpoints and signals. `lib/trainer.ts` drives it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { SavedBlocks } from "../buffer_blocks.ts";
import type { AgentShape } from "../agent/algorithm.ts";
import { InlineLearner } from "../agent/learner.ts";
import { ParallelLearner } from "../agent/parallel.ts";
import { ProductHelper } from "../nn/product_helper.ts";
import { initBackend } from "../backend.ts";
import type { RuntimeInfo } from "../backend.ts";
import { saveMlp } from "../checkpoint.ts";
import type { LearnerThreads } from "../config.ts";
import type { TrainConfig } from "../config_fields.ts";
import { resolveOutDir, writeFileAtomic } from "../files.ts";
import { UsageError } from "../errors.ts";
import { acquireLock } from "../lock.ts";
import { formatBytes } from "../replay_buffer.ts";
import { saveState, stateDir } from "../run_state.ts";
import { availableCores } from "../sweep.ts";
import type { PartialEpisode } from "../run_state.ts";
import type { EpisodeMetrics } from "./episode_log.ts";
import { MetricsFile } from "./metrics_file.ts";
import { notebookProgressLine, peakRssMegabytes, StatusLine } from "./progress.ts";
import { competitiveTeams } from "../env/teams.ts";
import { findResumeState, restoreRun } from "./resume.ts";
import { agentShapes, buildParts, measureNames, TrainingSession } from "./session.ts";
import type { Episode, SessionParts, SessionResult } from "./session.ts";

export { agentShapes, makeTrainingEnv } from "./session.ts";
export type { Episode, RunCounters } from "./session.ts";

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
  /** Learner threads: 0, 1 (a product helper), 2 (one worker per agent) or `auto` ({@linkcode learnerThreads}); results are identical. @default "auto" */
  threads?: LearnerThreads;
}

/** Contents of `summary.json`: the session's result, plus the run's counts, times and memory. */
export interface TrainSummary extends SessionResult {
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
  /** Peak resident set size of the process by the end of the run (getrusage), MB. */
  peakRssMb: number;
}

/** Contents of `config.json`. */
export interface RunRecord {
  /** The resolved config. */
  config: TrainConfig;
  /** Versions, backend and learner threads: how the run ran, not what it learned. */
  runtime: RuntimeInfo & { learnerThreads: 0 | 1 | 2 };
}

/** A run stopped by a signal after saving its state. */
export class Interrupted extends Error {
  /** The error for a run stopped by `signal`. */
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

/**
 * The learner threads a run uses: `threads` itself when it is a number; for `auto`, one
 * worker per agent (2) when there are several agents and no more agents than cores, else
 * the main thread with a product helper (1) when there are two cores or more, else 0.
 * `cores` is this process's share of the machine (`availableCores`: less than all when a
 * sweep runs several at once). Every choice gives the same results. Since the networks'
 * products run on this project's kernel, workers gain nothing with more agents than cores (a
 * 1 M-step run of the paper's `simple_spread_v3` preset, three agents on two cores, took 980 s
 * with workers and 985 s without), while with a helper the main thread shares each large
 * product's rows (813–839 s against 926 s for that run).
 *
 * @example
 * ```ts
 * import { learnerThreads } from "./run.ts";
 * import { equal } from "node:assert/strict";
 * equal(learnerThreads("auto", { agents: 2, cores: 2 }), 2);
 * equal(learnerThreads("auto", { agents: 3, cores: 2 }), 1);
 * equal(learnerThreads("auto", { agents: 3, cores: 1 }), 0);
 * equal(learnerThreads(2, { agents: 3, cores: 2 }), 2);
 * equal(learnerThreads(0, { agents: 2, cores: 2 }), 0);
 * equal(learnerThreads("auto", { agents: 1, cores: 8 }), 1);
 * equal(learnerThreads("auto", { agents: 2, cores: 2, shareActors: true }), 1);
 * ```
 *
 * Agents that share an actor (`--share-actors`) update on one thread: `threads` 2 is refused.
 */
export function learnerThreads(
  threads: LearnerThreads,
  setup: { agents: number; cores: number; shareActors?: boolean },
): 0 | 1 | 2 {
  const error = threadsError(threads, setup.shareActors ?? false);
  if (error) throw new UsageError(error);
  if (threads !== "auto") return threads;
  if (!setup.shareActors && setup.agents > 1 && setup.agents <= setup.cores) return 2;
  return setup.cores >= 2 ? 1 : 0;
}

/** Why `threads` cannot run a learner of these settings, or undefined. */
export function threadsError(threads: LearnerThreads, shareActors: boolean): string | undefined {
  if (threads === 2 && shareActors) {
    return "--threads 2 runs a worker per agent; agents sharing an actor (--share-actors) need --threads 0, 1 or auto";
  }
  return undefined;
}

/** A training run of `deno task train`: a session plus its files; see {@linkcode TrainingRun.open}. */
export class TrainingRun extends TrainingSession {
  readonly options: TrainOptions;
  #release: () => void = () => {};
  #elapsedBefore = 0;
  #metricsFile: MetricsFile | undefined;
  #status: StatusLine | undefined;
  /** The buffer's blocks as last saved: a checkpoint writes only those changed since. */
  readonly #savedBlocks = new SavedBlocks((block) => this.buffer.blockStamp(block));
  #start = performance.now();

  private constructor(parts: SessionParts, options: TrainOptions) {
    super(parts);
    this.options = options;
  }

  /** Builds every part, takes the run directory's lock, resumes if asked, opens the files. */
  static async open(config: TrainConfig, options: TrainOptions): Promise<TrainingRun> {
    const run = new TrainingRun(buildParts(config), options);
    await Deno.mkdir(options.outDir, { recursive: true });
    run.#release = acquireLock(options.outDir);
    try {
      await run.#resumeOrStart();
      await run.#startLearner(agentShapes(run.env));
      const columns = { numAgents: run.env.agents.length, measureNames: measureNames(run.env) };
      run.#metricsFile = await MetricsFile.open(options.outDir, columns, run.history);
    } catch (error) {
      await run.close();
      throw error;
    }
    run.#log(`Replay buffer: ${config.bufferSize} transitions, ${formatBytes(run.buffer.bytes)}`);
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
    this.resumeInside = state.partial;
    this.#log(`Resuming ${outDir} after episode ${state.episode}`);
  }

  async #startLearner(shapes: AgentShape[]): Promise<void> {
    const threads = learnerThreads(this.options.threads ?? "auto", {
      agents: shapes.length,
      cores: availableCores(),
      shareActors: this.config.shareActors,
    });
    // With worker threads, this thread only builds models to save them: tfjs "cpu" suffices.
    await initBackend(threads === 2 ? "cpu" : "wasm");
    this.learnerInstance = threads === 2
      ? await ParallelLearner.start(this.algorithm, this.config, shapes)
      : new InlineLearner(this.algorithm, {
        helper: threads === 1 ? await ProductHelper.start() : undefined,
      });
    const record: RunRecord = {
      config: this.config,
      runtime: { ...this.learner.runtime, learnerThreads: threads },
    };
    await writeFileAtomic(
      `${this.options.outDir}/config.json`,
      JSON.stringify(record, null, 2) + "\n",
    );
  }

  protected override stopRequested(): boolean {
    return this.options.shouldStop?.() !== undefined;
  }

  /** On a stop request, saves the episode so far (continued on resume) and throws. */
  protected override async checkStop(episode: Episode): Promise<void> {
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

  /** The metrics line, the progress line, and a checkpoint when due (or asked, then stop). */
  protected override async recordEpisode(metrics: EpisodeMetrics): Promise<void> {
    this.#metricsFile!.append(metrics);
    const line = notebookProgressLine(
      this.history,
      this.config.episodes,
      competitiveTeams(this.env.agents),
    );
    if (line) this.#log(line);
    const signal = this.options.shouldStop?.();
    const every = this.config.checkpointEvery;
    if (signal || (every > 0 && metrics.episode % every === 0)) {
      await this.checkpoint(metrics.episode);
    }
    if (signal) throw new Interrupted(signal, metrics.episode);
    this.#status?.update(metrics.episode, this.counters.totalSteps);
  }

  protected override lastGoodState(): string {
    return stateDir(this.options.outDir);
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
    }, this.#savedBlocks);
  }

  /**
   * After the last episode: the final state (so that `--resume --episodes N` can extend the
   * run), the end-of-training tests, the actors and critics in the Layers format, and
   * `summary.json`.
   */
  async finish(): Promise<TrainSummary> {
    const last = this.history.length, every = this.config.checkpointEvery;
    if (every > 0 && last >= this.firstEpisode && last % every !== 0) await this.checkpoint(last);
    const { result, algorithm } = await this.finishSession();
    const wallSeconds = this.elapsed();
    const dir = `${this.options.outDir}/checkpoint`;
    for (let i = 0; i < algorithm.actors.length; i++) {
      await saveMlp(algorithm.actors[i], `${dir}/agent_${i}/actor`, `actor_${i}`);
      await saveMlp(algorithm.critics[i], `${dir}/agent_${i}/critic`, `critic_${i}`);
    }
    const { totalSteps, updateRounds } = this.counters;
    const summary: TrainSummary = {
      episodes: this.config.episodes,
      totalSteps,
      updateRounds,
      wallSeconds,
      stepsPerSecond: totalSteps / wallSeconds,
      ...result,
      peakRssMb: peakRssMegabytes(),
    };
    await writeFileAtomic(
      `${this.options.outDir}/summary.json`,
      JSON.stringify(summary, null, 2) + "\n",
    );
    return summary;
  }

  /** Closes the files and the learner, and releases the lock. */
  override async close(): Promise<void> {
    this.#metricsFile?.close();
    await super.close();
    this.#release();
  }
}
