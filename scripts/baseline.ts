// deno-lint-ignore-file no-console
/**
 * `deno task baseline`: regenerates the committed baselines under `results/baselines/`,
 * which the test suite compares short seeded runs against. Run it when a change alters
 * learning on purpose; the diff of the baseline files then shows in review.
 *
 * @module
 */
import { parseFlags } from "../lib/cli.ts";
import { DEFAULT_TRAIN_CONFIG } from "../lib/config.ts";
import type { TrainConfig } from "../lib/config.ts";
import { runMain } from "../lib/errors.ts";
import { writeFileAtomic } from "../lib/files.ts";
import { train } from "../lib/trainer.ts";

/** The baselines: a name and the config of its run. */
export const BASELINES: { name: string; config: TrainConfig }[] = [
  { name: "notebook-seed42-ep25", config: { ...DEFAULT_TRAIN_CONFIG, episodes: 25 } },
  {
    name: "maddpg-seed42-ep15",
    config: {
      ...DEFAULT_TRAIN_CONFIG,
      algo: "maddpg",
      episodes: 15,
      maxSteps: 40,
      actionSelection: "sample",
      actorLr: 1e-3,
      gamma: 0.95,
      tau: 0.01,
      epsilonDecay: 5000,
    },
  },
];

/** Where a baseline's files live. */
export function baselineDir(name: string): string {
  return new URL(`../results/baselines/${name}`, import.meta.url).pathname;
}

const HELP = `Usage: deno task baseline

Reruns the committed baselines (${BASELINES.map((b) => b.name).join(", ")}) and rewrites their
metrics.csv, config.json and COMMAND.md under results/baselines/. It takes no flags: the
baselines' configs are in scripts/baseline.ts.
`;

/**
 * Reruns every baseline and rewrites its `metrics.csv` and `config.json`; any argument but
 * `--help` is refused before anything is written.
 */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseFlags(args, { help: { type: "boolean" } });
  if (values.help) {
    console.log(HELP);
    return;
  }
  for (const { name, config } of BASELINES) {
    const outDir = await Deno.makeTempDir({ prefix: `baseline-${name}-` });
    await train(config, { outDir });
    const dir = baselineDir(name);
    await Deno.mkdir(dir, { recursive: true });
    await writeFileAtomic(`${dir}/metrics.csv`, await Deno.readTextFile(`${outDir}/metrics.csv`));
    await writeFileAtomic(`${dir}/config.json`, JSON.stringify(config, null, 2) + "\n");
    await writeFileAtomic(
      `${dir}/COMMAND.md`,
      `Made by \`deno task baseline\` (scripts/baseline.ts) with the config in config.json.\n` +
        `tests/baseline_test.ts reruns it and compares: rewards exactly, losses to 1e-6.\n`,
    );
    await Deno.remove(outDir, { recursive: true });
    console.log(`Wrote ${dir}/metrics.csv`);
  }
}

if (import.meta.main) await runMain(() => main());
