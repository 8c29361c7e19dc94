// deno-lint-ignore-file no-console
/**
 * `deno task train [flags]`: trains agents and writes `results/<run>/`.
 *
 * @module
 */
import { configArgs, parseTrainArgs, resolveConfig, trainHelp } from "../lib/config.ts";
import { runMain, UsageError } from "../lib/errors.ts";
import { resolveExperimentDir, runSeeds } from "../lib/sweep.ts";
import { Interrupted, resolveRunDir, threadsError, train } from "../lib/trainer.ts";
import { listenForStop, signalExitCode } from "../lib/train/stop_signals.ts";
import type { TrainSummary } from "../lib/trainer.ts";

/** `--seeds`: one run per seed in separate processes, then a table of their results. */
async function trainSeeds(flags: ReturnType<typeof parseTrainArgs>): Promise<void> {
  const seeds = flags.seeds!;
  const dir = await resolveExperimentDir(flags.config, seeds, flags);
  const log = flags.quiet ? () => {} : (line: string) => console.log(line);
  log(`Config: ${JSON.stringify({ ...flags.config, seed: undefined })}`);
  log(`Training seeds ${seeds.join(", ")} into ${dir}/seed_<n>/, ${flags.workers} at a time`);
  const runs = await runSeeds({
    seeds,
    dir,
    args: [...configArgs(flags.config, ["seed"]), "--threads", String(flags.threads)],
    workers: flags.workers,
    onDone: (run) =>
      log(run.code === 0 ? `  seed ${run.seed}: done` : `  seed ${run.seed}: failed: ${run.error}`),
  });
  log("seed | final-50 reward | sampled test | greedy test | greedy success | wall s");
  for (const run of runs) {
    if (run.code !== 0) continue;
    const summary: TrainSummary = JSON.parse(await Deno.readTextFile(`${run.dir}/summary.json`));
    log(
      [
        run.seed,
        summary.final50.reward.toFixed(2),
        summary.test.sample.averageReward.toFixed(2),
        summary.test.greedy.averageReward.toFixed(2),
        summary.test.greedy.successRate,
        summary.wallSeconds.toFixed(1),
      ].join(" | "),
    );
  }
  const failed = runs.filter((run) => run.code !== 0);
  if (failed.length > 0) {
    throw new Error(
      `${failed.length} of ${runs.length} seeds failed (first: seed ${failed[0].seed}: ${
        failed[0].error
      })`,
    );
  }
  log(`Results in ${dir}/`);
}

/** The run's size and speed, and its sampled and greedy test results. */
function printResults(summary: TrainSummary, log: (line: string) => void): void {
  const { sample, greedy } = summary.test;
  log(
    `Trained ${summary.episodes} episodes, ${summary.totalSteps} steps in ${
      summary.wallSeconds.toFixed(1)
    } s (${summary.stepsPerSecond.toFixed(0)} steps/s)`,
  );
  sample.episodes.forEach((e, i) =>
    log(`Test Episode ${i + 1}: Reward = ${e.reward.toFixed(2)}, Length = ${e.length}`)
  );
  log(`--- Testing Complete. Average Reward: ${sample.averageReward.toFixed(2)} ---`);
  log(
    `Greedy test: average reward ${
      greedy.averageReward.toFixed(2)
    }, success rate ${greedy.successRate}`,
  );
  for (const [name, value] of Object.entries(greedy.measures ?? {})) {
    log(`  ${name}: ${Number.isInteger(value) ? value : value.toFixed(3)} (mean)`);
  }
}

/** Parses flags, trains, prints the test results. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const flags = parseTrainArgs(args);
  if (flags.help) {
    console.log(trainHelp());
    return;
  }
  flags.config = await resolveConfig(flags);
  const threads = threadsError(flags.threads, flags.config.shareActors);
  if (threads) throw new UsageError(threads);
  if (flags.seeds) return await trainSeeds(flags);
  if (flags.resume !== undefined && flags.out !== undefined) {
    throw new UsageError("--resume continues in its own directory: drop --out");
  }
  const outDir = flags.resume ?? await resolveRunDir(flags.config, flags);
  const log = flags.quiet ? () => {} : (line: string) => console.log(line);
  const terminal = !flags.quiet && Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const status = terminal
    ? (line: string) => Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${line}`))
    : undefined;
  log(`Config: ${JSON.stringify(flags.config)}`);
  log(`Writing ${outDir}/`);
  const stop = listenForStop((signal) => {
    if (terminal) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
    console.error(`${signal}: saving the state after this step…`);
  });
  let summary;
  try {
    summary = await train(flags.config, {
      outDir,
      log,
      status,
      resume: flags.resume !== undefined,
      shouldStop: stop.received,
      threads: flags.threads,
    });
  } catch (error) {
    if (error instanceof Interrupted) {
      const where = error.steps > 0
        ? `${error.steps} steps into episode ${error.episode + 1}`
        : `after episode ${error.episode}`;
      console.error(
        `Stopped by ${error.signal} ${where}; state saved in ${outDir}/checkpoint/state.`,
      );
      console.error(`Resume with: deno task train --resume ${outDir}`);
      Deno.exit(signalExitCode(error.signal));
    }
    throw error;
  } finally {
    stop.close();
  }
  if (terminal) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
  printResults(summary, log);
  log(`Results in ${outDir}/`);
}

if (import.meta.main) await runMain(() => main());
