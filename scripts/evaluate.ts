// deno-lint-ignore-file no-console
/**
 * `deno task evaluate --run results/<run> [--episodes 5] [--policy greedy|sample]`:
 * loads a run's actors and runs decentralized test episodes (each actor sees only its own
 * observation) in the run's environment; writes `eval.json` into the run directory.
 *
 * @module
 */
import type { ActionMode } from "../lib/agent/policy.ts";
import { integerFlag, parseFlags } from "../lib/cli.ts";
import { loadMlp } from "../lib/checkpoint.ts";
import { configFromRecord } from "../lib/config.ts";
import type { TrainConfig } from "../lib/config.ts";
import type { ParallelEnv } from "../lib/env/parallel_env.ts";
import { runMain, UsageError } from "../lib/errors.ts";
import { writeFileAtomic } from "../lib/files.ts";
import type { Mlp } from "../lib/nn/mlp.ts";
import { Pcg32 } from "../lib/rng.ts";
import { agentShapes, makeTrainingEnv } from "../lib/train/run.ts";
import { isAdversary } from "../lib/env/teams.ts";
import { runEpisodes } from "../lib/trainer.ts";
import type { EpisodeOptions, TestResult } from "../lib/trainer.ts";

const HELP = `Usage: deno task evaluate --run results/<run> [flags]

Runs a trained run's actors, decentralized, in the run's environment, and writes
<run>/eval.json.

  --run DIR          run directory written by train (required)
  --episodes N       test episodes, at most 1000000 [5]
  --policy P         greedy (argmax, default) or sample (the notebook's test)
  --seed N           seed of the sampling policy and of the environment's first reset
                     [the run's seed]
  --max-steps N      step limit per episode [the run's max-steps]
  --adversaries-from DIR
                     the adversaries (adversary_*, eve_0) act with the actors of this other
                     run of the same environment, as the MADDPG paper pits teams
  --help             this text`;

/** Contents of `eval.json`. */
export interface EvalRecord extends TestResult {
  /** Seed of the sampling generator and of the environment. */
  seed: number;
  /** Step limit per episode. */
  maxSteps: number;
}

/** A trained run: its config, a fresh environment, and its actors. */
export interface LoadedRun {
  config: TrainConfig;
  env: ParallelEnv;
  actors: Mlp[];
}

/** Loads `runDir`'s config and actors; every problem is one line naming the file. */
export async function loadRun(runDir: string): Promise<LoadedRun> {
  const configPath = `${runDir}/config.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(configPath);
  } catch {
    throw new UsageError(`Cannot read ${configPath}: not a run directory written by train`);
  }
  let record: { config?: unknown };
  try {
    record = JSON.parse(text);
  } catch {
    throw new UsageError(`${configPath} is not valid JSON`);
  }
  const config = configFromRecord(record.config, configPath);
  const env = makeTrainingEnv(config);
  const actors = [];
  for (const [i, shape] of agentShapes(env).entries()) {
    const sizes = [shape.observationSize, ...config.actorHidden, shape.actionSize];
    actors.push(await loadMlp(`${runDir}/checkpoint/agent_${i}/actor`, sizes));
  }
  return { config, env, actors };
}

/**
 * Replaces the adversaries' actors of `run` by those of the run in `dir` (the same
 * environment and agents).
 */
export async function takeAdversaries(run: LoadedRun, dir: string): Promise<void> {
  const other = await loadRun(dir);
  if (other.env.id !== run.env.id || other.env.agents.join() !== run.env.agents.join()) {
    throw new UsageError(
      `${dir} trained ${other.env.id} (${other.env.agents.join(", ")}): its adversaries cannot ` +
        `play ${run.env.id} (${run.env.agents.join(", ")})`,
    );
  }
  const adversaries = run.env.agents.map(isAdversary);
  if (!adversaries.some(Boolean)) throw new UsageError(`${run.env.id} has no adversaries`);
  adversaries.forEach((adversary, i) => {
    if (adversary) run.actors[i] = other.actors[i];
  });
}

/** Evaluates `runDir`'s actors (with another run's adversaries, if `adversariesFrom`). */
export async function evaluate(
  runDir: string,
  options: Pick<EpisodeOptions, "episodes" | "policy" | "onScene"> & {
    seed?: number;
    maxSteps?: number;
    adversariesFrom?: string;
  },
): Promise<EvalRecord> {
  const run = await loadRun(runDir);
  if (options.adversariesFrom) await takeAdversaries(run, options.adversariesFrom);
  const { config, env, actors } = run;
  const seed = options.seed ?? config.seed;
  const maxSteps = options.maxSteps ?? config.maxSteps;
  const result = runEpisodes({ ...options, actors, env, maxSteps, rng: new Pcg32(seed), seed });
  return { ...result, seed, maxSteps };
}

/** `--policy`: greedy or sample. */
export function parsePolicy(raw: unknown): ActionMode {
  const policy = (raw ?? "greedy") as string;
  if (policy !== "greedy" && policy !== "sample") {
    throw new UsageError(`--policy must be greedy or sample, got ${JSON.stringify(policy)}`);
  }
  return policy;
}

/** The most evaluation episodes one command plays: each is kept in its record. */
export const MAX_EVAL_EPISODES = 1_000_000;

/** `--episodes` of an evaluation: a positive integer up to {@linkcode MAX_EVAL_EPISODES}. */
export function evalEpisodesFlag(raw: unknown): number {
  const episodes = integerFlag("--episodes", raw);
  if (episodes > MAX_EVAL_EPISODES) {
    throw new UsageError(`--episodes must be at most ${MAX_EVAL_EPISODES}, got ${episodes}`);
  }
  return episodes;
}

/** Parses flags, evaluates, prints, writes `eval.json`. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseFlags(args, {
    run: { type: "string" },
    episodes: { type: "string" },
    policy: { type: "string" },
    seed: { type: "string" },
    "max-steps": { type: "string" },
    "adversaries-from": { type: "string" },
    help: { type: "boolean" },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const runDir = values.run as string | undefined;
  if (!runDir) throw new UsageError("--run DIR is required (a directory written by train)");
  const policy = parsePolicy(values.policy);
  const episodes = evalEpisodesFlag(values.episodes ?? "5");
  const seed = values.seed === undefined ? undefined : integerFlag("--seed", values.seed, true);
  const maxSteps = values["max-steps"] === undefined
    ? undefined
    : integerFlag("--max-steps", values["max-steps"]);
  const adversariesFrom = values["adversaries-from"] as string | undefined;
  const result = await evaluate(runDir, { episodes, policy, seed, maxSteps, adversariesFrom });
  console.log(`--- Evaluating ${runDir} (${policy}, ${episodes} episodes) ---`);
  result.episodes.forEach((e, i) =>
    console.log(
      `Episode ${i + 1}: Reward = ${e.reward.toFixed(2)}, Length = ${e.length}${
        e.success ? ", success" : ""
      }`,
    )
  );
  console.log(
    `Average Reward: ${result.averageReward.toFixed(2)} | Success rate: ${result.successRate}`,
  );
  for (const [name, value] of Object.entries(result.measures ?? {})) {
    console.log(`  ${name}: ${Number.isInteger(value) ? value : value.toFixed(3)} (mean)`);
  }
  await writeFileAtomic(`${runDir}/eval.json`, JSON.stringify(result, null, 2) + "\n");
  console.log(`Wrote ${runDir}/eval.json`);
}

if (import.meta.main) await runMain(() => main());
