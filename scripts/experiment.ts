// deno-lint-ignore-file no-console
/**
 * `deno task experiment <name> [--seeds 0-4] [--workers N] [--episodes N]
 * [--eval-episodes 100] [--out results/experiments]`: reruns one of the MADDPG paper's
 * experiments (definitions in `lib/experiments.ts`) over seeds — training, greedy
 * evaluation, reward bands — and writes its table to `<out>/<name>/table.{md,json}`, with
 * each anchored measure's mean over seeds held against its anchor.
 *
 * @module
 */
import { integerFlag, parseFlags } from "../lib/cli.ts";
import {
  configArgs,
  configFromRecord,
  experimentFields,
  parseSeeds,
  parseTrainArgs,
  readJson,
} from "../lib/config.ts";
import type { TrainConfig } from "../lib/config.ts";
import { runMain, UsageError } from "../lib/errors.ts";
import {
  buildTable,
  EVAL_SEED_OFFSET,
  EXPERIMENTS,
  tableMarkdown,
  trainMeasures,
  variantArgs,
} from "../lib/experiments.ts";
import type { ExperimentDef, SeedMeasures, VariantResults } from "../lib/experiments.ts";
import { checkOutputPath, exists, writeFileAtomic } from "../lib/files.ts";
import { readMetrics } from "../lib/plot/metrics_csv.ts";
import { findState } from "../lib/run_state.ts";
import { runSeeds } from "../lib/sweep.ts";
import { isAdversary } from "../lib/env/teams.ts";
import { evaluate, loadRun } from "./evaluate.ts";

const ROOT = new URL("../", import.meta.url);

const HELP = `Usage: deno task experiment <name> [flags]

Reruns one of the MADDPG paper's experiments (or a *_peer one: continuous MADDPG with the
PyTorch peer's settings) over seeds and writes everything under <out>/<name>/:
<variant>/seed_<n>/ (the runs), <variant>/eval_seed_<n>.json (greedy evaluation),
<variant>/charts/reward_band.* (the band over seeds), table.md and table.json. The
*_peer tables also hold each variant's mean against the peer's returns: its 95% interval
over seeds, the seeds at or above, and a one-sample t-test; those of deception and tag also
compare it with all of the peer's runs of the same budget (Welch's t-test).
Re-running skips seeds whose run has summary.json and continues an interrupted seed from its
last saved state (train --resume), so an interrupted experiment loses at most the episodes
since each running seed's last checkpoint. A seed with only its eval_seed_<n>.json (a kept
record: git keeps these, not the runs) counts as finished when its settings are the same.
With --variants only those are trained; the table still has every variant, with the seeds
already trained of the others.

Experiments:
${
  Object.entries(EXPERIMENTS).map(([n, d]) =>
    `  ${n.padEnd(18)} ${d.title}\n  ${"".padEnd(18)} variants: ${
      Object.keys(d.variants).join(", ")
    }`
  ).join("\n")
}

  --seeds LIST         seeds, one run each per variant (0,1,2 or 0-4) [0-4]
  --variants LIST      train only these variants, comma-separated (the others' finished
                       seeds still go in the table) [all]
  --workers N          runs at a time, as separate processes [cores]
  --episodes N         training episodes per run (a smaller budget for quick checks)
                       [the preset's, configs/mpe/<scenario>.json]
  --eval-episodes N    greedy evaluation episodes per run [100]
  --out DIR            root of the experiments [results/experiments]
  --help               this text`;

/** The command line, checked. */
interface Options {
  name: string;
  def: ExperimentDef;
  seeds: number[];
  /** The variants to train (the others' finished seeds still go in the table). */
  variants: string[];
  workers: number;
  episodes?: number;
  evalEpisodes: number;
  /** `<out>/<name>`. */
  dir: string;
  /** Hidden, for tests: tiny networks, batch, buffer and episodes (`TINY_ARGS`). */
  tiny: boolean;
}

/** One variant: its directory and `train` flags. */
interface Plan {
  variant: string;
  dir: string;
  args: string[];
  /** Training episodes of each run. */
  episodes: number;
}

function parseOptions(args: string[]): Options | undefined {
  const { values, positionals } = parseFlags(args, {
    seeds: { type: "string" },
    variants: { type: "string" },
    workers: { type: "string" },
    episodes: { type: "string" },
    "eval-episodes": { type: "string" },
    out: { type: "string" },
    tiny: { type: "boolean" },
    help: { type: "boolean" },
  }, true);
  if (values.help) return undefined;
  const names = Object.keys(EXPERIMENTS).join(", ");
  if (positionals.length !== 1) {
    throw new UsageError(`name one experiment (${names}), got ${positionals.length}`);
  }
  const name = positionals[0];
  if (!Object.hasOwn(EXPERIMENTS, name)) {
    throw new UsageError(`unknown experiment ${JSON.stringify(name)}: one of ${names}`);
  }
  const out = (values.out as string | undefined) ?? "results/experiments";
  if (out === "") throw new UsageError("--out must name a directory");
  const def = EXPERIMENTS[name];
  return {
    name,
    def,
    seeds: parseSeeds((values.seeds as string | undefined) ?? "0-4"),
    variants: parseVariants(values.variants as string | undefined, def),
    workers: values.workers === undefined
      ? navigator.hardwareConcurrency
      : integerFlag("--workers", values.workers),
    episodes: values.episodes === undefined
      ? undefined
      : integerFlag("--episodes", values.episodes),
    evalEpisodes: integerFlag("--eval-episodes", values["eval-episodes"] ?? "100"),
    dir: `${out.replace(/\/+$/, "")}/${name}`,
    tiny: values.tiny === true,
  };
}

/** `--variants a,b`, each checked against the experiment's (all of them when absent). */
function parseVariants(raw: string | undefined, def: ExperimentDef): string[] {
  const known = Object.keys(def.variants);
  if (raw === undefined) return known;
  const names = raw.split(",").map((name) => name.trim());
  for (const name of names) {
    if (!known.includes(name)) {
      throw new UsageError(
        `--variants: unknown variant ${JSON.stringify(name)}: one of ${known.join(", ")}`,
      );
    }
  }
  return known.filter((name) => names.includes(name));
}

/** The variants' flags: the checked preset's, the variant's, `--tiny`'s, `--episodes`. */
async function planVariants(options: Options): Promise<Plan[]> {
  const path = new URL(`configs/mpe/${options.def.preset}.json`, ROOT).pathname;
  const preset = configArgs(configFromRecord(await readJson(path, ""), path));
  return Object.entries(options.def.variants).map(([variant, flags]) => {
    const args = variantArgs({
      preset,
      variant: flags,
      episodes: options.episodes,
      tiny: options.tiny,
    });
    const { config } = parseTrainArgs(args); // throws a UsageError on a bad combination
    return { variant, dir: `${options.dir}/${variant}`, args, episodes: config.episodes };
  });
}

/** The fields that make two runs the same experiment (and, with `budget`, the same budget). */
function identity(config: TrainConfig, budget: boolean): string {
  return JSON.stringify(settings(config, budget));
}

/** {@linkcode identity} as a record, as `eval_seed_<n>.json` keeps it. */
function settings(config: TrainConfig, budget = true): Partial<TrainConfig> {
  return { ...experimentFields(config), ...(budget ? { episodes: config.episodes } : {}) };
}

/** The config `seed`'s run of `plan` trains with. */
function seedConfig(plan: Plan, seed: number): TrainConfig {
  return parseTrainArgs([...plan.args, "--seed", String(seed)]).config;
}

/**
 * Where one seed's run stands: done, kept as its evaluation record only (the run itself is
 * gone: a fresh clone), stopped with a saved state to continue, or not begun.
 */
type RunStatus = "finished" | "kept" | "interrupted" | "new";

/**
 * Where `seed`'s run of `plan` stands. A run of other settings is refused: a finished one
 * must have the same budget too, an interrupted one continues to this budget.
 */
async function runStatus(plan: Plan, seed: number, evalEpisodes: number): Promise<RunStatus> {
  const dir = `${plan.dir}/seed_${seed}`;
  const done = await exists(`${dir}/summary.json`);
  const wanted = seedConfig(plan, seed);
  if (!done && (await findState(dir)) === undefined) {
    return (await readKept(plan, { seed, wanted, evalEpisodes })) ? "kept" : "new";
  }
  const path = `${dir}/config.json`;
  const record = await readJson(path, `: ${dir} holds a run of this experiment without it`);
  const saved = configFromRecord((record as { config?: unknown } | null)?.config, path);
  if (identity(saved, done) !== identity(wanted, done)) {
    throw new UsageError(
      `${dir} was trained with other settings (episodes or config): use another --out or remove it`,
    );
  }
  return done ? "finished" : "interrupted";
}

/** The runs {@linkcode trainAll} trained to the end, and those that failed. */
interface Trained {
  trained: Set<string>;
  failed: Set<string>;
}

/** `n` and `what`, plural unless `n` is 1: `count(1, "seed")` is `"1 seed"`. */
function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

/** Trains every unfinished (variant, seed) of the chosen variants, `workers` at a time. */
async function trainAll(
  plans: Plan[],
  context: { status: Map<string, RunStatus>; options: Options },
): Promise<Trained> {
  const { status, options } = context;
  const chosen = plans.filter((plan) => options.variants.includes(plan.variant));
  const jobs = chosen.flatMap((plan) =>
    options.seeds.map((seed) => ({ plan, seed, run: `${plan.dir}/seed_${seed}` }))
      .filter(({ run }) => status.get(run) !== "finished" && status.get(run) !== "kept")
  );
  const total = chosen.length * options.seeds.length;
  const interrupted = jobs.filter(({ run }) => status.get(run) === "interrupted").length;
  const size = `${count(chosen.length, "variant")} × ${count(options.seeds.length, "seed")}`;
  console.log(
    `${options.name}: ${size}; ` +
      `${total - jobs.length} already trained, training ${jobs.length} ` +
      `(${interrupted} from a saved state) with ${count(options.workers, "worker")}`,
  );
  const failed = new Set<string>(), trained = new Set<string>();
  const worker = async () => {
    for (let job = jobs.shift(); job !== undefined; job = jobs.shift()) {
      const start = performance.now();
      const resumed = status.get(job.run) === "interrupted";
      const [run] = await runSeeds({
        seeds: [job.seed],
        dir: job.plan.dir,
        args: job.plan.args,
        workers: 1,
        concurrentRuns: options.workers,
        resume: resumed ? { seeds: new Set([job.seed]), episodes: job.plan.episodes } : undefined,
      });
      const seconds = ((performance.now() - start) / 1000).toFixed(0);
      (run.code === 0 ? trained : failed).add(job.run);
      const how = resumed ? "continued from its saved state and trained" : "trained";
      console.log(
        run.code === 0
          ? `  ${job.plan.variant} seed ${job.seed}: ${how} in ${seconds} s`
          : `  ${job.plan.variant} seed ${job.seed}: FAILED (${run.error ?? `exit ${run.code}`})`,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.workers, jobs.length) }, worker));
  return { trained, failed };
}

/** `eval_seed_<n>.json`. */
interface SeedEvalFile {
  experiment: string;
  variant: string;
  seed: number;
  run: string;
  evalSeed: number;
  evalEpisodes: number;
  policy: "greedy";
  /** The run's experiment fields and episodes: what a kept record is matched by. */
  settings?: Partial<TrainConfig>;
  /** Evaluation means plus `train_return`. */
  measures: Record<string, number>;
  /** The full evaluation (per-episode records). */
  eval: unknown;
}

/** An `eval_seed_<n>.json`; one that is not valid JSON or not an object is refused. */
async function readEvalFile(path: string): Promise<SeedEvalFile> {
  const record = await readJson(path, "");
  if (typeof record !== "object" || record === null || !("measures" in record)) {
    throw new UsageError(`${path} is not an evaluation record (no measures): remove it`);
  }
  return record as SeedEvalFile;
}

/**
 * `seed`'s `eval_seed_<n>.json` standing for a run that is gone, if it has the same settings
 * (budget included) and evaluation episodes; one of other settings is refused. A record
 * without settings (written before they were kept) does not stand for a run.
 */
async function readKept(
  plan: Plan,
  options: { seed: number; wanted: TrainConfig; evalEpisodes: number },
): Promise<SeedEvalFile | undefined> {
  const path = `${plan.dir}/eval_seed_${options.seed}.json`;
  if (!(await exists(path))) return undefined;
  const kept = await readEvalFile(path);
  if (kept.settings === undefined) return undefined;
  // Fields added since the record was written take their defaults, as in an older config.json.
  if (identity(configFromRecord(kept.settings, path), true) !== identity(options.wanted, true)) {
    throw new UsageError(
      `${path} was made with other settings (episodes or config) and its run is gone: ` +
        `use another --out or remove it`,
    );
  }
  if (kept.evalEpisodes !== options.evalEpisodes) {
    throw new UsageError(
      `${path} has ${kept.evalEpisodes} evaluation episodes and its run is gone: ` +
        `pass --eval-episodes ${kept.evalEpisodes} or remove it`,
    );
  }
  return kept;
}

/**
 * One seed's measures: its greedy evaluation (reusing an `eval_seed_<n>.json` of the same
 * episodes) and its training measures.
 */
async function evaluateSeed(
  plan: Plan,
  options: { seed: number; fresh: boolean; kept: boolean; experiment: Options },
): Promise<SeedMeasures> {
  const { seed, fresh, experiment } = options;
  const path = `${plan.dir}/eval_seed_${seed}.json`;
  const run = `${plan.dir}/seed_${seed}`;
  if (options.kept) {
    const wanted = seedConfig(plan, seed);
    const kept = await readKept(plan, { seed, wanted, evalEpisodes: experiment.evalEpisodes });
    if (kept === undefined) throw new Error(`${path}: the kept record is gone`);
    return { seed, measures: kept.measures };
  }
  // Read anew each time from metrics.csv (cheap), so measures added since an evaluation
  // reach its table too.
  const metrics = await readMetrics(run);
  const adversary = (await loadRun(run)).env.agents.map(isAdversary);
  const train = trainMeasures(metrics.values, adversary);
  if (!fresh && (await exists(path))) {
    const saved = await readEvalFile(path);
    if (saved.evalEpisodes === experiment.evalEpisodes) {
      const measures = { ...saved.measures, ...train };
      // The record stays whole: its settings (older ones lack them) and training measures.
      const whole = { ...saved, settings: settings(seedConfig(plan, seed)), measures };
      if (JSON.stringify(whole) !== JSON.stringify(saved)) {
        await writeFileAtomic(path, JSON.stringify(whole, null, 2) + "\n");
      }
      return { seed, measures };
    }
  }
  const evalSeed = seed + EVAL_SEED_OFFSET;
  const result = await evaluate(run, {
    episodes: experiment.evalEpisodes,
    policy: "greedy",
    seed: evalSeed,
  });
  const measures = { ...result.measures, ...train };
  const file: SeedEvalFile = {
    experiment: experiment.name,
    variant: plan.variant,
    seed,
    run,
    evalSeed,
    evalEpisodes: experiment.evalEpisodes,
    policy: "greedy",
    settings: settings(seedConfig(plan, seed)),
    measures,
    eval: result,
  };
  await writeFileAtomic(path, JSON.stringify(file, null, 2) + "\n");
  return { seed, measures };
}

/** `scripts/plot.ts --run <variant dir>` as a subprocess (charts need --allow-ffi). */
async function plotVariant(dir: string): Promise<void> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--config",
      new URL("deno.json", ROOT).pathname,
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "--allow-ffi",
      new URL("scripts/plot.ts", ROOT).pathname,
      "--run",
      dir,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    const last = new TextDecoder().decode(stderr).trim().split("\n").pop();
    console.log(`  warning: plot of ${dir} failed: ${last}`);
  }
}

/**
 * Evaluates and plots every variant's finished seeds (those `done` holds); a kept seed gives
 * its recorded measures (its run, and so its curve, is gone).
 */
async function collect(
  plans: Plan[],
  options: { done: Set<string>; kept: Set<string>; trained: Set<string>; experiment: Options },
): Promise<VariantResults[]> {
  const results: VariantResults[] = [];
  for (const plan of plans) {
    const seeds: SeedMeasures[] = [];
    let runs = 0;
    for (const seed of options.experiment.seeds) {
      const run = `${plan.dir}/seed_${seed}`;
      const kept = options.kept.has(run);
      if (!options.done.has(run) && !kept) continue;
      const fresh = options.trained.has(run);
      seeds.push(await evaluateSeed(plan, { seed, fresh, kept, experiment: options.experiment }));
      if (!kept) runs++;
    }
    const keptCount = seeds.length - runs;
    console.log(
      `  ${plan.variant}: evaluated ${count(runs, "seed")}` +
        (keptCount > 0 ? `, ${keptCount} more from their kept records` : ""),
    );
    if (runs > 0) await plotVariant(plan.dir);
    results.push({ variant: plan.variant, seeds });
  }
  return results;
}

/** Parses flags, trains, evaluates, plots, writes and prints the table. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const options = parseOptions(args);
  if (options === undefined) {
    console.log(HELP);
    return;
  }
  await checkOutputPath("--out", options.dir, "dir");
  const plans = await planVariants(options);
  const status = new Map<string, RunStatus>();
  for (const plan of plans) {
    for (const seed of options.seeds) {
      status.set(
        `${plan.dir}/seed_${seed}`,
        await runStatus(plan, seed, options.evalEpisodes),
      );
    }
  }
  const { trained, failed } = await trainAll(plans, { status, options });
  const runsWith = (wanted: RunStatus) =>
    [...status].filter(([, s]) => s === wanted).map(([run]) => run);
  const done = new Set([...runsWith("finished"), ...trained]);
  const kept = new Set(runsWith("kept"));
  const results = await collect(plans, { done, kept, trained, experiment: options });
  const table = buildTable(options.name, options.def, results, plans[0]?.episodes);
  const markdown = tableMarkdown(table);
  await writeFileAtomic(`${options.dir}/table.md`, markdown);
  await writeFileAtomic(`${options.dir}/table.json`, JSON.stringify(table, null, 2) + "\n");
  console.log(`\n${markdown}\nWrote ${options.dir}/table.md and table.json`);
  if (failed.size > 0) throw new Error(`${failed.size} runs failed: ${[...failed].join(", ")}`);
}

if (import.meta.main) await runMain(() => main());
