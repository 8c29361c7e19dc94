// deno-lint-ignore-file no-console
/**
 * `deno task train [flags]`: trains agents and writes `results/<run>/`.
 *
 * @module
 */
import { parseTrainArgs, trainHelp } from "../lib/config.ts";
import { runMain } from "../lib/errors.ts";
import { resolveRunDir, train } from "../lib/trainer.ts";

/** Parses flags, trains, prints the test results. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const flags = parseTrainArgs(args);
  if (flags.help) {
    console.log(trainHelp());
    return;
  }
  const outDir = await resolveRunDir(flags.config, flags.out, flags.force);
  const log = flags.quiet ? () => {} : (line: string) => console.log(line);
  const terminal = !flags.quiet && Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  const status = terminal
    ? (line: string) => Deno.stderr.writeSync(encoder.encode(`\r\x1b[K${line}`))
    : undefined;
  log(`Config: ${JSON.stringify(flags.config)}`);
  log(`Writing ${outDir}/`);
  const summary = await train(flags.config, { outDir, log, status });
  if (terminal) Deno.stderr.writeSync(encoder.encode("\r\x1b[K"));
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
  log(`Results in ${outDir}/`);
}

if (import.meta.main) await runMain(() => main());
