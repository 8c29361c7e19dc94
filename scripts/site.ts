// deno-lint-ignore-file no-console
/**
 * `deno task site --out DIR [--run results/<run>]… [--results results] [--web dist/web]`:
 * a static copy of the web page and chosen runs that any static host serves as it is:
 * `DIR/index.html` (and the rest of the built page), `DIR/results/<run>/` with only the
 * files the page loads, and `DIR/runs.json`.
 *
 * @module
 */
import { resolve, sep } from "node:path";
import { parseFlags } from "../lib/cli.ts";
import { runMain, UsageError } from "../lib/errors.ts";
import { checkOutputPath, isNonEmptyDir, writeFileAtomic } from "../lib/files.ts";
import { listRuns } from "../lib/serve/run_index.ts";
import { DEFAULT_WEB_DIR, ensureWebBuilt } from "../lib/serve/web_build.ts";

const HELP = `Usage: deno task site --out DIR [flags]

Writes a static copy of the web page and runs, for any static host: DIR/index.html (the
built page), DIR/results/<run>/ (config.json, metrics.csv, summary.json, charts/*.vl.json,
the actors) and DIR/runs.json.

  --out DIR       where to write (refused if it holds files, unless --force)
  --run DIR       a run (or an experiment: its seed_<n> runs) under --results; repeatable;
                  default: every run under --results
  --results DIR   the results directory [results]
  --web DIR       the built page [dist/web, built with deno task build-web when missing]
  --force         write into a non-empty --out (files of the same name are replaced)
  --help          this text`;

/** What {@linkcode buildSite} copies, and where. */
export interface SiteOptions {
  /** The directory to write. */
  out: string;
  /** Runs (or experiments) to copy, as paths; empty: every run under `results`. @default [] */
  runs: string[];
  /** The results directory. @default "results" */
  results: string;
  /** The built page. @default "dist/web" (of the repository) */
  web: string;
  /** Write into a non-empty `out`. @default false */
  force: boolean;
}

/** The defaults of {@linkcode SiteOptions} (all but `out`). */
export const DEFAULT_SITE_OPTIONS = {
  runs: [],
  results: "results",
  web: DEFAULT_WEB_DIR,
  force: false,
} satisfies Omit<SiteOptions, "out">;

/** A run's files the page loads, relative to the run; the rest (state, logs) stays behind. */
async function pageFiles(runDir: string): Promise<string[]> {
  const files = ["config.json", "metrics.csv", "summary.json"];
  const list = async (dir: string, keep: (entry: Deno.DirEntry) => boolean) => {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(`${runDir}/${dir}`)) {
        if (keep(entry)) names.push(entry.name);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return names.sort();
  };
  for (const chart of await list("charts", (e) => e.isFile && e.name.endsWith(".vl.json"))) {
    files.push(`charts/${chart}`);
  }
  const agents = await list("checkpoint", (e) => e.isDirectory && /^agent_\d+$/.test(e.name));
  for (const agent of agents) {
    files.push(`checkpoint/${agent}/actor/model.json`, `checkpoint/${agent}/actor/weights.bin`);
  }
  const present: string[] = [];
  for (const file of files) {
    // Regular files only: a symlink could publish something outside the results.
    const info = await Deno.lstat(`${runDir}/${file}`).catch(() => undefined);
    if (info?.isFile) present.push(file);
  }
  return present;
}

/** Every regular file under `dir`, relative to it, `/`-separated. */
async function treeFiles(dir: string, relative = ""): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(relative === "" ? dir : `${dir}/${relative}`)) {
    const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
    if (entry.isDirectory) files.push(...await treeFiles(dir, path));
    else if (entry.isFile) files.push(path);
  }
  return files.sort();
}

/** Copies `from` to `to` (its directory made), atomically. */
async function copyFile(from: string, to: string): Promise<void> {
  await Deno.mkdir(to.slice(0, to.lastIndexOf("/")), { recursive: true });
  await writeFileAtomic(to, await Deno.readFile(from));
}

/** The run paths (relative to `results`) that `--run` values name; refuses any that is not. */
async function chosenRuns(results: string, runs: string[]): Promise<string[]> {
  const all: string[] = [];
  for (const run of await listRuns(results)) {
    const files = await pageFiles(`${results}/${run.path}`);
    if (files.includes("config.json") && files.includes("metrics.csv")) all.push(run.path);
  }
  if (runs.length === 0) return all;
  const realResults = await Deno.realPath(results);
  const chosen = new Set<string>();
  for (const run of runs) {
    const real = await Deno.realPath(run).catch(() => {
      throw new UsageError(`--run ${run} does not exist`);
    });
    if (!real.startsWith(realResults + sep)) {
      throw new UsageError(`--run ${run} is not under --results ${results}`);
    }
    const relative = real.slice(realResults.length + 1).split(sep).join("/");
    const matches = all.filter((path) => path === relative || path.startsWith(`${relative}/`));
    if (matches.length === 0) {
      throw new UsageError(`--run ${run} is not a run (no config.json and metrics.csv)`);
    }
    for (const path of matches) chosen.add(path);
  }
  return [...chosen].sort();
}

/**
 * Writes the static site. Everything is checked before the first file is written: a bad
 * `--out`, `--run` or `--results` writes nothing.
 */
export async function buildSite(options: SiteOptions): Promise<{ runs: number; files: number }> {
  const { out, results, web, force } = options;
  if (!(await Deno.stat(results).then((info) => info.isDirectory, () => false))) {
    throw new UsageError(`--results ${results} is not a directory`);
  }
  await checkOutputPath("--out", out, "dir");
  if (!force && await isNonEmptyDir(out)) {
    throw new UsageError(`--out ${out} is not empty; choose another or pass --force`);
  }
  const realResults = await Deno.realPath(results);
  const outPath = await Deno.realPath(out).catch(() => resolve(out));
  if (isWithin(outPath, realResults) || resolve(outPath, "results") === realResults) {
    throw new UsageError(`--out ${out} overlaps --results ${results}`);
  }
  const runs = await chosenRuns(results, options.runs);
  await ensureWebBuilt(web);
  const realWeb = await Deno.realPath(web);
  if (isWithin(outPath, realWeb) || isWithin(realWeb, outPath)) {
    throw new UsageError(`--out ${out} overlaps --web ${web}`);
  }

  let files = 0;
  for (const file of await treeFiles(web)) {
    await copyFile(`${web}/${file}`, `${out}/${file}`);
    files++;
  }
  for (const run of runs) {
    for (const file of await pageFiles(`${results}/${run}`)) {
      await copyFile(`${results}/${run}/${file}`, `${out}/results/${run}/${file}`);
      files++;
    }
  }
  await Deno.mkdir(`${out}/results`, { recursive: true });
  const index = await listRuns(`${out}/results`);
  await writeFileAtomic(`${out}/runs.json`, JSON.stringify(index, null, 2) + "\n");
  return { runs: index.length, files: files + 1 };
}

/** Whether `path` is `root` or below it. */
function isWithin(path: string, root: string): boolean {
  return path === root || path.startsWith(root + sep);
}

async function main(args = Deno.args): Promise<void> {
  const { values } = parseFlags(args, {
    out: { type: "string" },
    run: { type: "string", multiple: true },
    results: { type: "string", default: DEFAULT_SITE_OPTIONS.results },
    web: { type: "string", default: DEFAULT_SITE_OPTIONS.web },
    force: { type: "boolean", default: false },
    help: { type: "boolean" },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (typeof values.out !== "string" || values.out === "") {
    throw new UsageError("--out DIR is required");
  }
  const out = values.out.replace(/\/+$/, "") || "/";
  const { runs, files } = await buildSite({
    out,
    runs: (values.run as string[] | undefined) ?? DEFAULT_SITE_OPTIONS.runs,
    results: (values.results as string).replace(/\/+$/, "") || "/",
    web: values.web as string,
    force: values.force as boolean,
  });
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  console.log(
    `Wrote ${out}/: ${count(runs, "run")}, ${count(files, "file")}; serve it with any static host`,
  );
}

if (import.meta.main) await runMain(() => main());
