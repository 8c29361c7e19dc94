/**
 * A training session without files: the environment, the algorithm, the replay buffer and
 * the learner built from a config, and the episode bookkeeping the loop (`loop.ts`) drives.
 * It uses no Deno API, so a browser tab trains with it too; `run.ts` extends it with the
 * files, checkpoints, resume and signals of `deno task train`.
 *
 * @module
 */
import type { AgentShape, AlgorithmInstance } from "../agent/algorithm.ts";
import { agentsError, ALGORITHMS, createAlgorithm } from "../agent/catalogue.ts";
import { InlineLearner } from "../agent/learner.ts";
import type { Learner } from "../agent/learner.ts";
import type { TrainConfig } from "../config_fields.ts";
import "../env/builtin.ts";
import type { ParallelEnv } from "../env/parallel_env.ts";
import { makeEnv } from "../env/registry.ts";
import { createMeasures } from "../env/mpe/measures.ts";
import { competitiveTeams, isAdversary } from "../env/teams.ts";
import { UsageError } from "../errors.ts";
import { allocateBatch, ReplayBuffer } from "../replay_buffer.ts";
import type { Batch } from "../replay_buffer.ts";
import { Pcg32 } from "../rng.ts";
import { mean } from "../stats.ts";
import { addLosses, emptyLossSums, meanLosses, teamReturnMeans } from "./episode_log.ts";
import type { EpisodeMetrics, LossSums } from "./episode_log.ts";
import { runEpisodes } from "./episodes.ts";
import type { TestResult } from "./episodes.ts";
import { yieldNow } from "./yield_now.ts";

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

/** The names of the scenario measures of `env` (none for environments without them). */
export function measureNames(env: ParallelEnv): string[] {
  return Object.keys(createMeasures(env)?.result() ?? {});
}

/** Each agent's sizes from its spaces. */
export function agentShapes(env: ParallelEnv): AgentShape[] {
  return env.agents.map((name, i) => {
    const action = env.actionSpaces[i];
    const common = {
      observationSize: env.observationSpaces[i].size,
      actionSize: action.size,
      adversary: isAdversary(name),
    };
    if (action.kind === "discrete") return { ...common, actionKind: "discrete" };
    const bounds = { low: Array.from(action.low), high: Array.from(action.high) };
    return { ...common, actionKind: "continuous", bounds };
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

/** Everything a session is made of. */
export interface SessionParts {
  config: TrainConfig;
  env: ParallelEnv;
  algorithm: AlgorithmInstance;
  buffer: ReplayBuffer;
  rng: Pcg32;
}

/** A saved episode to continue (see `run_state.ts`). */
export interface EpisodeSoFar {
  observations: number[][];
  returns: number[];
  steps: number;
  losses: LossSums;
}

/** Summary numbers of a finished session (without the wall time and memory of a process). */
export interface SessionResult {
  /** Means over the last (up to) 50 episodes. */
  final50: {
    reward: number;
    criticLoss: number;
    actorLoss: number;
    successRate: number;
    greedySuccessRate: number;
    /** In a competitive world, each team's mean training return per agent. */
    teamReturns?: { adversaries: number; good: number };
  };
  /** First episode after which a greedy episode of the actors succeeded (null: never). */
  firstGreedySuccess: number | null;
  /** End-of-training tests: the notebook's (sampled actions) and a greedy one. */
  test: { sample: TestResult; greedy: TestResult };
}

/**
 * Builds a session's parts from a config: the environment, the algorithm (initialised from
 * the run's generator), the replay buffer. An environment the algorithm does not support is
 * refused with the reason.
 */
export function buildParts(config: TrainConfig): SessionParts {
  const rng = new Pcg32(config.seed);
  const env = makeTrainingEnv(config);
  const shapes = agentShapes(env);
  const refusal = agentsError(ALGORITHMS[config.algo], env, shapes);
  if (refusal) throw new UsageError(refusal);
  if (config.adversaryAlgo !== "same" && !shapes.some((shape) => shape.adversary)) {
    throw new UsageError(`--adversary-algo needs adversaries; ${env.id} has none`);
  }
  const algorithm = createAlgorithm(config, shapes, rng);
  const buffer = new ReplayBuffer({
    capacity: config.bufferSize,
    observationSizes: shapes.map((s) => s.observationSize),
    actionSizes: shapes.map((s) => (s.actionKind === "discrete" ? 1 : s.actionSize)),
  });
  return { config, env, algorithm, buffer, rng };
}

/**
 * A session's parts and bookkeeping. Subclasses hear about each finished episode
 * ({@linkcode TrainingSession.recordEpisode}) and may stop a run inside an episode
 * ({@linkcode TrainingSession.checkStop}).
 */
export class TrainingSession {
  readonly history: EpisodeMetrics[] = [];
  readonly counters: RunCounters;
  /** Where update rounds' batches are gathered: one, or one per agent (`--batch-per-agent`). */
  readonly batches: Batch[];
  readonly indices: Int32Array;
  readonly config: TrainConfig;
  readonly env: ParallelEnv;
  readonly algorithm: AlgorithmInstance;
  readonly buffer: ReplayBuffer;
  readonly rng: Pcg32;
  /** Episode to start from (after a resume, the one after the saved ones). */
  firstEpisode = 1;
  /** A saved episode to continue, if the run stopped inside one. */
  protected resumeInside: EpisodeSoFar | undefined;
  protected learnerInstance: Learner | undefined;
  #probeEnv: ParallelEnv | undefined;
  #lastYield = performance.now();

  constructor(parts: SessionParts) {
    ({
      config: this.config,
      env: this.env,
      algorithm: this.algorithm,
      buffer: this.buffer,
      rng: this.rng,
    } = parts);
    this.counters = { totalSteps: 0, updateRounds: 0, epsilon: parts.config.epsilonStart };
    const draws = parts.config.batchPerAgent ? parts.env.agents.length : 1;
    this.batches = Array.from(
      { length: draws },
      () => allocateBatch(parts.config.batchSize, parts.buffer),
    );
    this.indices = new Int32Array(parts.config.batchSize);
  }

  /** A session on the calling thread, for any runtime (a browser tab included). */
  static inline(config: TrainConfig): TrainingSession {
    const session = new TrainingSession(buildParts(config));
    session.learnerInstance = new InlineLearner(session.algorithm);
    return session;
  }

  /** The learner that runs the update rounds. */
  get learner(): Learner {
    return this.learnerInstance!;
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
    const saved = number === this.firstEpisode ? this.resumeInside : undefined;
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
   * Whether the loop should await {@linkcode TrainingSession.stopIfAsked} now: every 50 ms,
   * so that other work (signal handlers, a page's events) runs, or when a stop was asked.
   */
  pauseDue(): boolean {
    return performance.now() - this.#lastYield > 50 || this.stopRequested();
  }

  /** Lets other work run for a turn of the event loop; may stop the run. */
  async stopIfAsked(episode: Episode): Promise<void> {
    await yieldNow();
    this.#lastYield = performance.now();
    await this.checkStop(episode);
  }

  /** Whether a stop was asked for (nothing asks a plain session). */
  protected stopRequested(): boolean {
    return false;
  }

  /** Stops the run inside `episode` by throwing (nothing stops a plain session). */
  protected checkStop(_episode: Episode): Promise<void> {
    return Promise.resolve();
  }

  /** Ends an episode: its losses, a greedy probe episode, the metrics, then the subclass's record. */
  async endEpisode(episode: Episode): Promise<EpisodeMetrics> {
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
      returns: [...episode.returns],
    };
    this.#assertFinite(metrics);
    this.history.push(metrics);
    await this.recordEpisode(metrics);
    return metrics;
  }

  /** Hears about each finished episode (the files, progress and checkpoints of a run). */
  protected recordEpisode(_metrics: EpisodeMetrics): Promise<void> {
    return Promise.resolve();
  }

  /** Where the last good state is kept, for the error of a non-finite loss. */
  protected lastGoodState(): string {
    return "memory only";
  }

  /** One greedy episode on its own environment: no draws from the run's generator. */
  #greedyProbe(
    episode: number,
  ): Pick<EpisodeMetrics, "greedyReward" | "greedySuccess" | "greedyMeasures"> {
    this.#probeEnv ??= makeTrainingEnv(this.config);
    const [result] = runEpisodes({
      actors: this.learner.actors,
      env: this.#probeEnv,
      policy: "greedy",
      episodes: 1,
      maxSteps: this.config.maxSteps,
      seed: episode,
    }).episodes;
    const probe: Pick<EpisodeMetrics, "greedyReward" | "greedySuccess" | "greedyMeasures"> = {
      greedyReward: result.reward,
      greedySuccess: result.success,
    };
    if (result.measures) probe.greedyMeasures = result.measures;
    return probe;
  }

  #assertFinite(metrics: EpisodeMetrics): void {
    const networks = [["critic", metrics.criticLosses], ["actor", metrics.actorLosses]] as const;
    for (const [network, losses] of networks) {
      losses.forEach((loss, agent) => {
        if (!Number.isFinite(loss)) {
          throw new Error(
            `Non-finite ${network} loss (${loss}) of agent ${agent} in episode ${metrics.episode}; ` +
              `the last good state is kept in ${this.lastGoodState()}`,
          );
        }
      });
    }
  }

  /** The end-of-training tests and the summary numbers; the algorithm holds the final networks. */
  async finishSession(): Promise<{ result: SessionResult; algorithm: AlgorithmInstance }> {
    const algorithm = await this.learner.collect();
    const test = (policy: "sample" | "greedy") =>
      runEpisodes({
        actors: algorithm.actors,
        env: this.env,
        policy,
        episodes: this.config.testEpisodes,
        maxSteps: this.config.maxSteps,
        rng: this.rng,
      });
    const sample = test("sample"), greedy = test("greedy");
    const recent = this.history.slice(-50);
    const result: SessionResult = {
      firstGreedySuccess: this.history.find((m) => m.greedySuccess)?.episode ?? null,
      final50: {
        reward: mean(recent.map((m) => m.reward)),
        criticLoss: mean(recent.map((m) => m.criticLoss)),
        actorLoss: mean(recent.map((m) => m.actorLoss)),
        successRate: mean(recent.map((m) => (m.success ? 1 : 0))),
        greedySuccessRate: mean(recent.map((m) => (m.greedySuccess ? 1 : 0))),
      },
      test: { sample, greedy },
    };
    const teams = teamReturnMeans(recent, competitiveTeams(this.env.agents));
    if (teams) result.final50.teamReturns = { adversaries: teams[0], good: teams[1] };
    return { result, algorithm };
  }

  /** Frees the learner. */
  async close(): Promise<void> {
    await this.learnerInstance?.close();
  }
}
