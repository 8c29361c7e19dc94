/**
 * Multi-seed experiments: one training run per seed, in separate processes, each
 * identical to the single run with that seed.
 *
 * @module
 */
import type { TrainConfig } from "./config.ts";
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
  out: string | undefined,
  force: boolean,
  root = "results",
): Promise<string> {
  return resolveOutDir(
    `${root}/${config.algo}-seeds${seeds[0]}-${seeds[seeds.length - 1]}`,
    out,
    force,
  );
}

/**
 * Runs `train` once per seed into `<dir>/seed_<n>/`, at most `workers` at a time, each as
 * `deno run … scripts/train.ts <args> --seed n --out <dir>/seed_<n> --quiet`.
 * `onDone` hears about each run as it ends.
 */
export async function runSeeds(
  seeds: readonly number[],
  dir: string,
  args: readonly string[],
  workers: number,
  onDone: (run: SeedRun) => void = () => {},
): Promise<SeedRun[]> {
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
          "--v8-flags=--max-semi-space-size=1",
          script,
          ...args,
          "--seed",
          String(seed),
          "--out",
          out,
          "--force",
          "--quiet",
        ],
        stdout: "null",
        stderr: "piped",
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
