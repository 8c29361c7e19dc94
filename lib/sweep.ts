/**
 * Multi-seed experiments: one training run per seed, in separate processes, each
 * identical to the single run with that seed.
 *
 * @module
 */
import type { TrainConfig } from "./config_fields.ts";
import { resolveOutDir } from "./files.ts";

/** Outcome of one seed's run. */
export interface SeedRun {
  /** The seed. */
  seed: number;
  /** Its run directory. */
  dir: string;
  /** Process exit code. */
  code: number;
  /** Last line the run printed on stderr (its error, if it failed). */
  error?: string;
}

/** The experiment directory: `out`, or `results/<algo>-seeds<a>-<b>` with a free suffix. */
export function resolveExperimentDir(
  config: TrainConfig,
  seeds: readonly number[],
  options: { out?: string; force?: boolean; root?: string } = {},
): Promise<string> {
  const { out, force = false, root = "results" } = options;
  return resolveOutDir(
    `${root}/${config.algo}-seeds${seeds[0]}-${seeds[seeds.length - 1]}`,
    out,
    force,
  );
}

/** What {@linkcode runSeeds} runs. */
export interface SeedRunOptions {
  /** The seeds, one run each. */
  seeds: readonly number[];
  /** The experiment directory; runs go to `<dir>/seed_<n>/`. */
  dir: string;
  /** `train` flags shared by every run (all but `--seed`, `--out`). */
  args: readonly string[];
  /** Runs at a time. */
  workers: number;
  /**
   * Runs at once on this machine, counting other callers' (default: `workers`, or fewer if
   * there are fewer seeds): each run is told its share of the cores
   * ({@linkcode RUN_CORES_VARIABLE}).
   */
  concurrentRuns?: number;
  /** Hears about each run as it ends. */
  onDone?: (run: SeedRun) => void;
  /**
   * Seeds whose interrupted run continues from its saved state (`train --resume`, with its
   * own config) up to `episodes`, instead of starting over.
   */
  resume?: { seeds: ReadonlySet<number>; episodes: number };
}

/**
 * The environment variable that tells a `train` process how many cores it may use when
 * several runs share the machine; `--threads auto` decides from it (`learnerThreads`).
 */
export const RUN_CORES_VARIABLE = "MADDPG_RUN_CORES";

/** Each of `runs` concurrent runs' share of this machine's cores (at least 1). */
export function coresPerRun(runs: number): number {
  return Math.max(1, Math.floor(navigator.hardwareConcurrency / Math.max(1, runs)));
}

/**
 * The cores this process may use: its share if a sweep set one (and the process may read it),
 * else every core.
 */
export function availableCores(): number {
  const readable = Deno.permissions.querySync({ name: "env", variable: RUN_CORES_VARIABLE });
  if (readable.state !== "granted") return navigator.hardwareConcurrency;
  const share = Number(Deno.env.get(RUN_CORES_VARIABLE));
  return Number.isSafeInteger(share) && share >= 1 ? share : navigator.hardwareConcurrency;
}

/** The `train` flags of one seed's run: a new run into `out`, or the interrupted one resumed. */
function seedArgs(seed: number, out: string, options: SeedRunOptions): string[] {
  const { args, resume } = options;
  if (resume?.seeds.has(seed)) {
    return ["--resume", out, "--episodes", String(resume.episodes), "--quiet"];
  }
  return [...args, "--seed", String(seed), "--out", out, "--force", "--quiet"];
}

/**
 * Runs `train` once per seed into `<dir>/seed_<n>/`, at most `workers` at a time, each as
 * `deno run … scripts/train.ts <args> --seed n --out <dir>/seed_<n> --force --quiet` (or
 * `--resume <dir>/seed_<n>` for the seeds of `options.resume`).
 */
export async function runSeeds(options: SeedRunOptions): Promise<SeedRun[]> {
  const { seeds, dir, workers, onDone = () => {} } = options;
  const concurrent = options.concurrentRuns ?? Math.min(workers, seeds.length);
  const root = new URL("../", import.meta.url);
  const script = new URL("scripts/train.ts", root).pathname;
  const config = new URL("deno.json", root).pathname;
  await Deno.mkdir(dir, { recursive: true });
  const queue = [...seeds];
  const results: SeedRun[] = [];
  const worker = async () => {
    for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
      const out = `${dir}/seed_${seed}`;
      const command = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          "--config",
          config,
          "--allow-read",
          "--allow-write",
          "--allow-env",
          "--allow-sys",
          "--v8-flags=--max-semi-space-size=1,--optimize-for-size",
          script,
          ...seedArgs(seed, out, options),
        ],
        stdout: "null",
        stderr: "piped",
        env: { [RUN_CORES_VARIABLE]: String(coresPerRun(concurrent)) },
      });
      const { code, stderr } = await command.output();
      const error = code === 0
        ? undefined
        : new TextDecoder().decode(stderr).trim().split("\n").pop();
      const run: SeedRun = { seed, dir: out, code, error };
      results.push(run);
      onDone(run);
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, seeds.length) }, worker));
  return seeds.map((seed) => results.find((run) => run.seed === seed)!);
}
