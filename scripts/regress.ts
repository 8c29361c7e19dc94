// deno-lint-ignore-file no-console
/**
 * `deno task regress [--seeds 0-4] [--workers N]`: the slow statistical regression check.
 * Trains the notebook config (200 episodes) on K seeds and checks that the mean over seeds of
 * the final-50-episode mean reward stays inside the committed band
 * (`results/baselines/regress.json`). Prints a table; exits 1 on a regression.
 *
 * @module
 */
import { integerFlag, parseFlags } from "../lib/cli.ts";
import { CONFIG_FIELDS, DEFAULT_TRAIN_CONFIG, kebab, parseSeeds } from "../lib/config.ts";
import { runMain } from "../lib/errors.ts";
import { runSeeds } from "../lib/sweep.ts";
import type { TrainSummary } from "../lib/trainer.ts";

/** The committed band. */
interface Band {
  seeds: number[];
  episodes: number;
  low: number;
  high: number;
  note: string;
}

/** Parses flags, trains the seeds, prints the table, checks the band. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseFlags(args, {
    seeds: { type: "string" },
    workers: { type: "string" },
    out: { type: "string", default: "results/regress" },
    help: { type: "boolean" },
  });
  if (values.help) {
    console.log(
      "Usage: deno task regress [--seeds 0-4] [--workers N] [--out results/regress]\n" +
        "Trains the notebook config on each seed (200 episodes) and checks the band in\n" +
        "results/baselines/regress.json. Exit code 1 on a regression.",
    );
    return;
  }
  const bandPath = new URL("../results/baselines/regress.json", import.meta.url).pathname;
  const band: Band = JSON.parse(await Deno.readTextFile(bandPath));
  const seeds = values.seeds ? parseSeeds(values.seeds as string) : band.seeds;
  const workers = values.workers === undefined
    ? navigator.hardwareConcurrency
    : integerFlag("--workers", values.workers);
  const config = { ...DEFAULT_TRAIN_CONFIG, episodes: band.episodes };
  const configArgs = CONFIG_FIELDS.filter((f) => f !== "seed").flatMap((
    f,
  ) => [`--${kebab(f)}`, String(config[f])]);
  const out = values.out as string;
  console.log(`Training seeds ${seeds.join(", ")} (${band.episodes} episodes each) into ${out}/ …`);
  const runs = await runSeeds(seeds, out, configArgs, workers);
  const failed = runs.find((run) => run.code !== 0);
  if (failed) throw new Error(`seed ${failed.seed} failed: ${failed.error}`);
  const finals: number[] = [];
  console.log("seed | final-50 reward | sampled test | greedy test | wall s");
  for (const run of runs) {
    const summary: TrainSummary = JSON.parse(await Deno.readTextFile(`${run.dir}/summary.json`));
    finals.push(summary.final50.reward);
    console.log(
      `${run.seed} | ${summary.final50.reward.toFixed(2)} | ${
        summary.test.sample.averageReward.toFixed(2)
      } | ${summary.test.greedy.averageReward.toFixed(2)} | ${summary.wallSeconds.toFixed(1)}`,
    );
  }
  const mean = finals.reduce((a, b) => a + b, 0) / finals.length;
  const pass = mean >= band.low && mean <= band.high;
  console.log(
    `mean final-50 reward ${mean.toFixed(2)}; band [${band.low}, ${band.high}]: ${
      pass ? "PASS" : "FAIL"
    }`,
  );
  if (!pass) Deno.exit(1);
}

if (import.meta.main) await runMain(() => main());
