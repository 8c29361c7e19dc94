// deno-lint-ignore-file no-console
/**
 * `deno task plot [--run results/<run>]… [--reference ref.json] [--compare A B …]`:
 * Vega-Lite charts of training runs (specs, SVG and PNG), bands over seeds for multi-seed
 * experiments, and comparisons of runs.
 *
 * @module
 */
import { resolve } from "node:path";
import { mean, sampleStd } from "../lib/stats.ts";
import { parseFlags } from "../lib/cli.ts";
import { runMain, UsageError } from "../lib/errors.ts";
import { checkOutputPath, exists, writeFileAtomic } from "../lib/files.ts";
import { readMetrics } from "../lib/plot/metrics_csv.ts";
import type { MetricsTable } from "../lib/plot/metrics_csv.ts";
import { meanReference, readReference } from "../lib/plot/reference.ts";
import type { ReferenceRun } from "../lib/plot/reference.ts";
import { renderSvg, svgToPng } from "../lib/plot/render.ts";
import { tailMean } from "../lib/plot/series.ts";
import { bandChart, lineChart, movingAverageCurve, stableStringify } from "../lib/plot/specs.ts";
import { metricsTeams, runCharts, teamComparisons, teamReturns } from "../lib/plot/run_charts.ts";
import type { Panel, Spec } from "../lib/plot/specs.ts";

const HELP = `Usage: deno task plot [flags]

Writes Vega-Lite charts (.vl.json, .svg, .png) of training runs.

  --run DIR          a run (DIR/charts/: the notebook's panels, and on a particle
                     world its teams' returns and the paper's measures) or a multi-seed
                     experiment with DIR/seed_<n>/ runs (each finished seed's charts,
                     plus DIR/charts/reward_band.*, each team's return_band_*.* in a
                     competitive world, and DIR/summary.csv over them; seeds still
                     training are named and left out); repeatable; default: every run
                     under results/
  --reference FILE   add the PyTorch notebook's curves (run_notebook.sh output);
                     repeatable: several files are averaged per episode
  --compare A B …    overlay the moving-average rewards of runs A, B, … in one chart
                     (and, for runs of one competitive world, each team's returns);
                     two or more runs (each once), or one with --reference
  --out DIR          where --compare writes [results/compare]
  --help             this text`;

/** A run or an experiment, read and checked before anything is written. */
type Target =
  | { kind: "run"; dir: string; name: string; metrics: MetricsTable }
  | {
    kind: "experiment";
    dir: string;
    name: string;
    seeds: { seed: number; dir: string; metrics: MetricsTable }[];
  };

/** A run's name: its directory's, with the experiment's for a `seed_<n>` run. */
function baseName(dir: string): string {
  const parts = dir.replace(/\/+$/, "").split("/");
  const last = parts[parts.length - 1];
  return /^seed_\d+$/.test(last) && parts.length > 1 ? `${parts[parts.length - 2]}/${last}` : last;
}

async function seedDirs(dir: string): Promise<{ seed: number; dir: string }[]> {
  const found: { seed: number; dir: string }[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const match = /^seed_(\d+)$/.exec(entry.name);
    if (entry.isDirectory && match) {
      found.push({ seed: Number(match[1]), dir: `${dir}/${entry.name}` });
    }
  }
  return found.sort((a, b) => a.seed - b.seed);
}

/**
 * The `seed_<n>` runs of an experiment that have finished (a `summary.json`); those still
 * training or interrupted are named and left out of its band. `undefined`: no seed runs.
 */
async function finishedSeeds(
  dir: string,
  flag: string,
): Promise<{ seed: number; dir: string }[] | undefined> {
  const seeds = await seedDirs(dir);
  if (seeds.length === 0) return undefined;
  const done = await Promise.all(seeds.map((s) => exists(`${s.dir}/summary.json`)));
  const finished = seeds.filter((_, k) => done[k]);
  const unfinished = seeds.filter((_, k) => !done[k]).map((s) => s.seed);
  if (finished.length === 0) {
    throw new UsageError(
      `${flag} ${dir}: none of its seeds (${unfinished.join(", ")}) has finished`,
    );
  }
  if (unfinished.length > 0) {
    const which = unfinished.length === 1 ? "seed" : "seeds";
    const verb = unfinished.length === 1 ? "has" : "have";
    console.log(
      `${dir}: ${which} ${unfinished.join(", ")} ${verb} not finished; the band is over the others`,
    );
  }
  return finished;
}

/** The run or experiment at `dir`, named by the flag that gave it in errors. */
async function readTarget(dir: string, flag: "--run" | "--compare"): Promise<Target> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch {
    throw new UsageError(`${flag} ${dir} does not exist`);
  }
  if (!info.isDirectory) throw new UsageError(`${flag} ${dir} is not a directory`);
  if (!(await exists(`${dir}/metrics.csv`))) {
    const seeds = await finishedSeeds(dir, flag);
    if (seeds !== undefined) {
      return {
        kind: "experiment",
        dir,
        name: baseName(dir),
        seeds: await Promise.all(
          seeds.map(async (s) => ({ ...s, metrics: await readMetrics(s.dir) })),
        ),
      };
    }
  }
  return { kind: "run", dir, name: baseName(dir), metrics: await readMetrics(dir) };
}

/** Every run and experiment directly under `root` (not `baselines/`, `compare/`). */
async function discover(root: string): Promise<string[]> {
  const dirs: string[] = [];
  if (!(await exists(root))) return dirs;
  for await (const entry of Deno.readDir(root)) {
    if (!entry.isDirectory || entry.name === "baselines" || entry.name === "compare") continue;
    const dir = `${root}/${entry.name}`;
    if (await exists(`${dir}/metrics.csv`) || (await seedDirs(dir)).length > 0) dirs.push(dir);
  }
  return dirs.sort();
}

/** Writes `<base>.vl.json`, `.svg` and `.png`, each atomically. */
async function writeChart(base: string, spec: Spec): Promise<void> {
  const svg = await renderSvg(spec);
  const png = svgToPng(svg);
  await writeFileAtomic(`${base}.vl.json`, stableStringify(spec));
  await writeFileAtomic(`${base}.svg`, svg);
  await writeFileAtomic(`${base}.png`, png);
}

function referenceCurve(reference: ReferenceRun, panel: Panel) {
  const which = reference.seeds
    ? ` (mean of seeds ${reference.seeds.join(", ")})`
    : reference.seed === undefined
    ? ""
    : ` (seed ${reference.seed})`;
  return movingAverageCurve(`PyTorch notebook${which}, 50-episode MA`, reference[panel]);
}

/** The charts of one run into `<dir>/charts/`. */
export async function plotRun(
  dir: string,
  run: { name: string; metrics: MetricsTable; reference?: ReferenceRun },
): Promise<string[]> {
  const { name, metrics, reference } = run;
  const charts = `${dir}/charts`;
  await Deno.mkdir(charts, { recursive: true });
  const extra = (panel: Panel) => reference ? [referenceCurve(reference, panel)] : [];
  const written = runCharts({ name, metrics, extra });
  for (const chart of written) await writeChart(`${charts}/${chart.name}`, chart.spec);
  return written.map((chart) => `${charts}/${chart.name}.vl.json`);
}

interface SeedSummary {
  final50: number;
  sampled: number;
  greedy: number;
  greedySuccess: number;
  wall: number;
}

async function seedSummary(dir: string, metrics: MetricsTable): Promise<SeedSummary> {
  const path = `${dir}/summary.json`;
  let summary: {
    wallSeconds?: number;
    test?: {
      sample?: { averageReward?: number };
      greedy?: { averageReward?: number; successRate?: number };
    };
  };
  try {
    summary = JSON.parse(await Deno.readTextFile(path));
  } catch {
    throw new UsageError(`Cannot read ${path}: the run did not finish`);
  }
  const number = (value: unknown, field: string) => {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new UsageError(`${path}: "${field}" is missing`);
    }
    return value;
  };
  return {
    final50: tailMean(metrics.values.reward),
    sampled: number(summary.test?.sample?.averageReward, "test.sample.averageReward"),
    greedy: number(summary.test?.greedy?.averageReward, "test.greedy.averageReward"),
    greedySuccess: number(summary.test?.greedy?.successRate, "test.greedy.successRate"),
    wall: number(summary.wallSeconds, "wallSeconds"),
  };
}

/** `summary.csv` of an experiment: a row per seed, then mean and (sample) std. */
export function summaryCsv(rows: { seed: number; summary: SeedSummary }[]): string {
  const fields = ["final50", "sampled", "greedy", "greedySuccess", "wall"] as const;
  const lines = [
    "seed,final50_reward,sampled_test_reward,greedy_test_reward,greedy_success_rate,wall_s",
  ];
  for (const { seed, summary } of rows) {
    lines.push([seed, ...fields.map((f) => summary[f])].join(","));
  }
  const columns = fields.map((f) => rows.map((r) => r.summary[f]));
  lines.push(
    ["mean", ...columns.map(mean)].join(","),
    ["std", ...columns.map(sampleStd)].join(","),
  );
  return lines.join("\n") + "\n";
}

/** `--compare A B …`: the runs' moving-average rewards in one chart (read first, then written). */
async function plotCompare(
  dirs: readonly string[],
  options: { out: string; reference?: ReferenceRun },
): Promise<void> {
  const runs = await Promise.all(dirs.map(async (dir) => {
    const target = await readTarget(dir, "--compare");
    if (target.kind !== "run") throw new UsageError(`--compare ${dir} is an experiment, not a run`);
    return target;
  }));
  const names = runs.map((run) => run.name);
  const curves = runs.map((run, k) =>
    movingAverageCurve(
      names.indexOf(run.name) === k ? run.name : `${run.name} (${k + 1})`,
      run.metrics.values.reward,
    )
  );
  if (options.reference) curves.push(referenceCurve(options.reference, "reward"));
  await Deno.mkdir(options.out, { recursive: true });
  await writeChart(
    `${options.out}/compare_reward`,
    lineChart({
      title: "Episode reward, 50-episode moving average",
      yTitle: "Total reward per episode",
      curves,
    }),
  );
  const teams = teamComparisons(
    runs.map((run, k) => ({ label: curves[k].name, metrics: run.metrics })),
  );
  for (const chart of teams) await writeChart(`${options.out}/${chart.name}`, chart.spec);
  const written = ["compare_reward", ...teams.map((chart) => chart.name)];
  console.log(
    `Wrote ${written.map((c) => `${options.out}/${c}`).join(", ")} (.vl.json, .svg, .png)`,
  );
}

type ExperimentTarget = Extract<Target, { kind: "experiment" }>;

/** Each seed's summary row of an experiment (read before anything is written). */
function experimentRows(target: ExperimentTarget) {
  return Promise.all(
    target.seeds.map(async (s) => ({ seed: s.seed, summary: await seedSummary(s.dir, s.metrics) })),
  );
}

/**
 * In a competitive world, each team's band over the seeds of its mean return per agent
 * (`return_band_adversaries`, `return_band_good_agents`); the names of the charts written.
 */
async function plotTeamBands(target: ExperimentTarget): Promise<string[]> {
  const seeds = target.seeds.map((s) => s.seed).join(", ");
  const names: string[] = [];
  for (const team of metricsTeams(target.seeds[0].metrics)) {
    const name = `return_band_${team.label.replaceAll(" ", "_")}`;
    await writeChart(
      `${target.dir}/charts/${name}`,
      bandChart({
        title:
          `${target.name}: ${team.label}' return per agent over ${target.seeds.length} seeds (${seeds})`,
        seedCurves: target.seeds.map((s) => teamReturns(s.metrics, team)),
        yTitle: "Mean return per agent",
      }),
    );
    names.push(name);
  }
  return names;
}

/** A multi-seed experiment: each seed's charts, the band over seeds, `summary.csv`. */
async function plotExperiment(
  target: ExperimentTarget,
  options: { rows: Parameters<typeof summaryCsv>[0]; reference?: ReferenceRun },
): Promise<void> {
  const { rows, reference } = options;
  for (const seed of target.seeds) {
    await plotRun(seed.dir, {
      name: `${target.name} seed ${seed.seed}`,
      metrics: seed.metrics,
      reference,
    });
  }
  await Deno.mkdir(`${target.dir}/charts`, { recursive: true });
  await writeChart(
    `${target.dir}/charts/reward_band`,
    bandChart({
      title: `${target.name}: episode reward over ${target.seeds.length} seeds (${
        target.seeds.map((s) => s.seed).join(", ")
      })`,
      seedCurves: target.seeds.map((s) => s.metrics.values.reward),
      reference: reference ? referenceCurve(reference, "reward") : undefined,
    }),
  );
  const teamBands = await plotTeamBands(target);
  await writeFileAtomic(`${target.dir}/summary.csv`, summaryCsv(rows));
  console.log(
    `Wrote ${target.dir}/charts/${
      ["reward_band", ...teamBands].join(".*, ")
    }.*, ${target.dir}/summary.csv and each seed's charts`,
  );
}

/** Parses flags and writes the charts. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values, positionals } = parseFlags(args, {
    run: { type: "string", multiple: true },
    reference: { type: "string", multiple: true },
    compare: { type: "string", multiple: true },
    out: { type: "string", default: "results/compare" },
    help: { type: "boolean" },
  }, true);
  if (values.help) {
    console.log(HELP);
    return;
  }
  const compare = (values.compare as string[] | undefined) ?? [];
  if (positionals.length > 0 && compare.length === 0) {
    throw new UsageError(
      `Unexpected argument ${JSON.stringify(positionals[0])}: runs go after --run or --compare`,
    );
  }
  compare.push(...positionals);
  const referencePaths = (values.reference as string[] | undefined) ?? [];
  const reference = referencePaths.length > 0
    ? meanReference(await Promise.all(referencePaths.map(readReference)))
    : undefined;
  if (compare.length === 1 && !reference) {
    throw new UsageError(
      `--compare needs two or more runs (or one with --reference), got only ${compare[0]}`,
    );
  }
  const twice = compare.find((dir, i) =>
    compare.findIndex((d) => resolve(d) === resolve(dir)) !== i
  );
  if (twice !== undefined) throw new UsageError(`--compare names ${twice} twice`);
  if (compare.length > 0) {
    await checkOutputPath("--out", values.out as string, "dir");
    return await plotCompare(compare, { out: values.out as string, reference });
  }
  const dirs = (values.run as string[] | undefined) ?? await discover("results");
  if (dirs.length === 0) throw new UsageError("No runs found under results/; pass --run DIR");
  // Read everything first: a bad input writes nothing.
  const targets = await Promise.all(dirs.map((dir) => readTarget(dir, "--run")));
  const rows = await Promise.all(
    targets.map((t) => (t.kind === "experiment" ? experimentRows(t) : undefined)),
  );
  for (const [k, target] of targets.entries()) {
    if (target.kind === "experiment") {
      await plotExperiment(target, { rows: rows[k]!, reference });
      continue;
    }
    await plotRun(target.dir, { name: target.name, metrics: target.metrics, reference });
    console.log(`Wrote ${target.dir}/charts/`);
  }
}

if (import.meta.main) await runMain(() => main());
