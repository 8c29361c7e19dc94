/**
 * The index of the runs under a results directory, for the web page: what each run is
 * (algorithm, environment, seed), how it ended, and which of its files the page can load.
 * A damaged run is listed with its problems rather than failing the whole list.
 *
 * @module
 */

/** How deep below the results directory a run may be (`<exp>/<group>/seed_<n>` is 3). */
export const MAX_RUN_DEPTH = 3;

/** The file naming a run's first actor, which the page loads to watch it act. */
export const ACTOR_MODEL = "checkpoint/agent_0/actor/model.json";

/** One run as the page sees it. Fields it could not read are `null`, with a problem. */
export interface RunEntry {
  /** Run directory relative to the results directory, `/`-separated (`exp/seed_0`). */
  path: string;
  /** Display name: the directory's, prefixed by the experiment's for a `seed_<n>` run. */
  name: string;
  /** Experiment directory (relative, like `path`) when the run is its `seed_<n>`, else null. */
  experiment: string | null;
  /** `config.algo`. */
  algo: string | null;
  /** `config.env` (runs older than the particle worlds have none). */
  env: string | null;
  /** `config.seed`. */
  seed: number | null;
  /** `config.episodes`: episodes the run was asked for. */
  episodes: number | null;
  /** `summary.json`'s `final50.reward`; null while the run has no summary. */
  finalReward: number | null;
  /**
   * `summary.json`'s `final50.teamReturns`: in a competitive world, each team's mean return
   * per agent over the last 50 episodes; null otherwise.
   */
  finalTeamReturns: { adversaries: number; good: number } | null;
  /** `summary.json`'s `test.greedy.successRate`; null while the run has no summary. */
  greedySuccessRate: number | null;
  /** Whether `checkpoint/agent_0/actor/model.json` exists (the page can replay the run). */
  hasActors: boolean;
  /** Chart specs, relative to the run directory (`charts/reward.vl.json`), sorted. */
  charts: string[];
  /** What is wrong with the run (`metrics.csv missing`, …); empty for a sound run. */
  problems: string[];
}

/** Whether `path` is a regular file (a symlink is not followed, so it is not one). */
async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.lstat(path)).isFile;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return false;
    }
    throw error;
  }
}

/** The entries of a directory, or none when it cannot be read. */
async function entriesOf(dir: string): Promise<Deno.DirEntry[]> {
  const entries: Deno.DirEntry[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) entries.push(entry);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return [];
    }
    throw error;
  }
  return entries;
}

/** Reads and parses a JSON file; `undefined` when it is missing, a problem when it is bad. */
async function readJson(
  path: string,
  label: string,
  problems: string[],
): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    problems.push(`${label} cannot be read: ${(error as Error).message}`);
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    problems.push(`${label} is not valid JSON`);
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `record[key]` if it is of `type`, else null (and a problem when `required`). */
function field<T extends "string" | "number">(
  record: Record<string, unknown>,
  want: { key: string; type: T; problems?: string[] },
): (T extends "string" ? string : number) | null {
  const { key, type, problems } = want;
  const value = record[key];
  if (typeof value === type && (type !== "number" || Number.isFinite(value))) {
    return value as T extends "string" ? string : number;
  }
  problems?.push(`config.json lacks a ${type} ${key}`);
  return null;
}

/** `summary[path…]` when it is a finite number, else null. */
function numberAt(value: unknown, path: string[]): number | null {
  for (const key of path) {
    if (!isRecord(value)) return null;
    value = value[key];
  }
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

/** `final50.teamReturns` of a summary, when both teams' numbers are there. */
function teamReturnsAt(summary: unknown): { adversaries: number; good: number } | null {
  const adversaries = numberAt(summary, ["final50", "teamReturns", "adversaries"]);
  const good = numberAt(summary, ["final50", "teamReturns", "good"]);
  return adversaries === null || good === null ? null : { adversaries, good };
}

/** Whether a directory holds a run's files (either is enough to list it, with a problem). */
async function looksLikeRun(dir: string): Promise<boolean> {
  return await isFile(`${dir}/config.json`) || await isFile(`${dir}/metrics.csv`);
}

/** Reads one run directory, `path` relative to `resultsDir`. */
export async function readRunEntry(resultsDir: string, path: string): Promise<RunEntry> {
  const dir = `${resultsDir}/${path}`;
  const parts = path.split("/");
  const last = parts[parts.length - 1];
  const experiment = /^seed_\d+$/.test(last) && parts.length > 1
    ? parts.slice(0, -1).join("/")
    : null;
  const problems: string[] = [];

  const record = await readJson(`${dir}/config.json`, "config.json", problems);
  if (record === undefined && problems.length === 0) problems.push("config.json missing");
  // A run's config.json is `{ config, runtime }`; the committed baselines hold the bare config.
  const config = isRecord(record) ? (isRecord(record.config) ? record.config : record) : undefined;
  if (record !== undefined && config === undefined) problems.push("config.json is not an object");
  const configProblems = config ? problems : undefined;
  const algo = config
    ? field(config, { key: "algo", type: "string", problems: configProblems })
    : null;
  const env = config ? field(config, { key: "env", type: "string" }) : null;
  const seed = config
    ? field(config, { key: "seed", type: "number", problems: configProblems })
    : null;
  const episodes = config
    ? field(config, { key: "episodes", type: "number", problems: configProblems })
    : null;

  if (!(await isFile(`${dir}/metrics.csv`))) problems.push("metrics.csv missing");

  const summary = await readJson(`${dir}/summary.json`, "summary.json", problems);
  if (summary !== undefined && !isRecord(summary)) problems.push("summary.json is not an object");

  const charts = (await entriesOf(`${dir}/charts`))
    .filter((entry) => entry.isFile && entry.name.endsWith(".vl.json"))
    .map((entry) => `charts/${entry.name}`)
    .sort(byCodePoint);

  return {
    path,
    name: experiment === null ? last : `${parts[parts.length - 2]}/${last}`,
    experiment,
    algo,
    env,
    seed,
    episodes,
    finalReward: numberAt(summary, ["final50", "reward"]),
    finalTeamReturns: teamReturnsAt(summary),
    greedySuccessRate: numberAt(summary, ["test", "greedy", "successRate"]),
    hasActors: await isFile(`${dir}/${ACTOR_MODEL}`),
    charts,
    problems,
  };
}

/** Plain code-point order: the same on every machine, whatever its locale. */
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Every run under `resultsDir`: each directory holding a `config.json` or a `metrics.csv`,
 * at most {@linkcode MAX_RUN_DEPTH} levels down (`<run>/`, `<exp>/seed_<n>/`), sorted by
 * path. Symlinks and hidden directories are not followed, nor the insides of a run. A
 * missing `resultsDir` has no runs. Never writes.
 *
 * @example
 * ```ts
 * import { listRuns } from "./run_index.ts";
 * import assert from "node:assert/strict";
 * const results = await Deno.makeTempDir();
 * await Deno.mkdir(`${results}/exp/seed_3`, { recursive: true });
 * await Deno.writeTextFile(
 *   `${results}/exp/seed_3/config.json`,
 *   JSON.stringify({ config: { algo: "maddpg", env: "grid_world", seed: 3, episodes: 9 } }),
 * );
 * const [run] = await listRuns(results);
 * assert.equal(run.path, "exp/seed_3");
 * assert.equal(run.name, "exp/seed_3");
 * assert.equal(run.experiment, "exp");
 * assert.equal(run.seed, 3);
 * assert.deepEqual(run.problems, ["metrics.csv missing"]);
 * await Deno.remove(results, { recursive: true });
 * ```
 */
export async function listRuns(resultsDir: string): Promise<RunEntry[]> {
  const paths: string[] = [];
  const walk = async (relative: string, depth: number): Promise<void> => {
    const dir = relative === "" ? resultsDir : `${resultsDir}/${relative}`;
    if (depth > 0 && await looksLikeRun(dir)) {
      paths.push(relative);
      return;
    }
    if (depth === MAX_RUN_DEPTH) return;
    for (const entry of await entriesOf(dir)) {
      if (!entry.isDirectory || entry.name.startsWith(".")) continue;
      await walk(relative === "" ? entry.name : `${relative}/${entry.name}`, depth + 1);
    }
  };
  await walk("", 0);
  paths.sort(byCodePoint);
  return await Promise.all(paths.map((path) => readRunEntry(resultsDir, path)));
}
