// deno-lint-ignore-file no-console
/**
 * `deno task evaluate --run results/<run> [--episodes 5] [--policy greedy|sample]`:
 * loads a run's actors and runs decentralized test episodes (each actor sees only its own
 * observation); writes `eval.json` into the run directory.
 *
 * @module
 */
import { integerFlag, parseFlags } from "../lib/cli.ts";
import type { ActionMode } from "../lib/agent/maddpg.ts";
import { loadMlp } from "../lib/checkpoint.ts";
import { configFromRecord } from "../lib/config.ts";
import { MultiAgentGridEnv } from "../lib/env/grid_world.ts";
import { runMain, UsageError } from "../lib/errors.ts";
import { writeFileAtomic } from "../lib/files.ts";
import { Pcg32 } from "../lib/rng.ts";
import { runTestEpisodes } from "../lib/trainer.ts";
import type { TestResult } from "../lib/trainer.ts";

const HELP = `Usage: deno task evaluate --run results/<run> [flags]

Runs a trained run's actors, decentralized, and writes <run>/eval.json.

  --run DIR          run directory written by train (required)
  --episodes N       test episodes [5]
  --policy P         greedy (argmax, default) or sample (the notebook's test)
  --seed N           seed of the sampling policy [the run's seed]
  --max-steps N      step limit per episode [the run's max-steps]
  --help             this text`;

/** Contents of `eval.json`. */
export interface EvalRecord extends TestResult {
  /** Seed of the sampling generator. */
  seed: number;
  /** Step limit per episode. */
  maxSteps: number;
}

/** Evaluates `runDir`'s actors. */
export async function evaluate(
  runDir: string,
  options: { episodes: number; policy: ActionMode; seed?: number; maxSteps?: number },
): Promise<EvalRecord> {
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
  const env = new MultiAgentGridEnv({ size: config.gridSize, numAgents: 2 });
  const actors = [];
  for (let i = 0; i < env.numAgents; i++) {
    actors.push(
      await loadMlp(`${runDir}/checkpoint/agent_${i}/actor`, [
        env.observationDim,
        128,
        128,
        env.actionDim,
      ]),
    );
  }
  const seed = options.seed ?? config.seed;
  const maxSteps = options.maxSteps ?? config.maxSteps;
  const result = runTestEpisodes(
    actors,
    env,
    options.policy,
    options.episodes,
    maxSteps,
    new Pcg32(seed),
  );
  return { ...result, seed, maxSteps };
}

/** Parses flags, evaluates, prints, writes `eval.json`. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseFlags(args, {
    run: { type: "string" },
    episodes: { type: "string" },
    policy: { type: "string" },
    seed: { type: "string" },
    "max-steps": { type: "string" },
    help: { type: "boolean" },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const runDir = values.run as string | undefined;
  if (!runDir) throw new UsageError("--run DIR is required (a directory written by train)");
  const policy = (values.policy ?? "greedy") as string;
  if (policy !== "greedy" && policy !== "sample") {
    throw new UsageError(`--policy must be greedy or sample, got ${JSON.stringify(policy)}`);
  }
  const episodes = integerFlag("--episodes", values.episodes ?? "5");
  const seed = values.seed === undefined ? undefined : integerFlag("--seed", values.seed, true);
  const maxSteps = values["max-steps"] === undefined
    ? undefined
    : integerFlag("--max-steps", values["max-steps"]);
  const result = await evaluate(runDir, { episodes, policy, seed, maxSteps });
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
  await writeFileAtomic(`${runDir}/eval.json`, JSON.stringify(result, null, 2) + "\n");
  console.log(`Wrote ${runDir}/eval.json`);
}

if (import.meta.main) await runMain(() => main());
