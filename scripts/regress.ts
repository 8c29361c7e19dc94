// deno-lint-ignore-file no-console
/**
 * `deno task regress [--seeds 0-4] [--workers N]`: the slow statistical regression check.
 * Trains the notebook config (200 episodes) on K seeds and checks that the mean over seeds of
 * the final-50-episode mean reward stays inside the committed band
 * derived from the PyTorch notebook's own runs (`results/baselines/regress.json`). Prints a
 * table; exits 1 on a regression.
 *
 * @module
 */
import { integerFlag, parseFlags } from "../lib/cli.ts";
import { configArgs, DEFAULT_TRAIN_CONFIG, parseSeeds } from "../lib/config.ts";
import { readReference } from "../lib/plot/reference.ts";
import { mean, sampleStd } from "../lib/stats.ts";
import { runMain } from "../lib/errors.ts";
import { checkOutputPath } from "../lib/files.ts";
import { runSeeds } from "../lib/sweep.ts";
import type { TrainSummary } from "../lib/trainer.ts";

/** The committed band's definition. */
interface BandSpec {
  seeds: number[];
  episodes: number;
  /** PyTorch reference runs, relative to `results/baselines/`. */
  references: string[];
  note: string;
}

/**
 * The band of the mean over `k` seeds: the references' mean final-50 reward ± 3 · their
 * sample std · √(1/k + 1/m) (a two-sample check that both come from one distribution).
 */
export function referenceBand(
  referenceFinals: readonly number[],
  k: number,
): { low: number; high: number; center: number } {
  const center = mean(referenceFinals);
  const half = 3 * sampleStd(referenceFinals) * Math.sqrt(1 / k + 1 / referenceFinals.length);
  return { low: center - half, high: center + half, center };
}

async function referenceFinals(spec: BandSpec): Promise<number[]> {
  const finals: number[] = [];
  for (const file of spec.references) {
    const run = await readReference(
      new URL(`../results/baselines/${file}`, import.meta.url).pathname,
    );
    finals.push(mean(run.reward.slice(-50)));
  }
  return finals;
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
        "Trains the notebook config on each seed (200 episodes) and checks that the mean\n" +
        "final-50 reward lies in the band of the PyTorch reference runs listed in\n" +
        "results/baselines/regress.json. Exit code 1 on a regression.",
    );
    return;
  }
  const specPath = new URL("../results/baselines/regress.json", import.meta.url).pathname;
  const spec: BandSpec = JSON.parse(await Deno.readTextFile(specPath));
  const seeds = values.seeds ? parseSeeds(values.seeds as string) : spec.seeds;
  const workers = values.workers === undefined
    ? navigator.hardwareConcurrency
    : integerFlag("--workers", values.workers);
  const references = await referenceFinals(spec);
  const band = referenceBand(references, seeds.length);
  const config = { ...DEFAULT_TRAIN_CONFIG, episodes: spec.episodes };
  const out = values.out as string;
  await checkOutputPath("--out", out, "dir");
  console.log(`Training seeds ${seeds.join(", ")} (${spec.episodes} episodes each) into ${out}/ …`);
  const runs = await runSeeds({ seeds, dir: out, args: configArgs(config, ["seed"]), workers });
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
  const ours = mean(finals);
  const pass = ours >= band.low && ours <= band.high;
  console.log(
    `mean final-50 reward ${ours.toFixed(2)}; PyTorch reference ${
      band.center.toFixed(2)
    } over ${references.length} runs; band [${band.low.toFixed(2)}, ${band.high.toFixed(2)}]: ${
      pass ? "PASS" : "FAIL"
    }`,
  );
  if (!pass) Deno.exit(1);
}

if (import.meta.main) await runMain(() => main());
