// deno-lint-ignore-file no-console
/**
 * `deno task crossplay --runs A,B,… --against P`: the MADDPG paper's way of comparing trained
 * teams in a competitive world. Each run's adversaries play the good agents of run P, and P's
 * adversaries play each run's good agents, beside every run's own game and P's own game, all
 * on the same evaluation episodes. P is typically another algorithm's run, or a PyTorch
 * MADDPG's actors brought in with `deno task import-torch`.
 *
 * @module
 */
import { integerFlag, parseFlags } from "../lib/cli.ts";
import { runMain, UsageError } from "../lib/errors.ts";
import { checkOutputPath, parentOf, writeFileAtomic } from "../lib/files.ts";
import { mean, sampleStd } from "../lib/stats.ts";
import { evalEpisodesFlag, evaluate } from "./evaluate.ts";

const HELP = `Usage: deno task crossplay --runs DIR[,DIR…] --against DIR [flags]

Evaluates, greedy, on the same episodes: each run's own game, its adversaries against the
good agents of --against, the adversaries of --against against its good agents, and the
game of --against alone; prints the team returns and the scenario's measures of each
pairing, and their means over the runs.

  --runs DIRS        comma-separated run directories of one competitive environment (required)
  --against DIR      the run whose teams they meet (required)
  --episodes N       evaluation episodes per pairing, at most 1000000 [1000]
  --seed N           seed of the environment's first reset [1000]
  --out FILE.json    also write every pairing's measures as JSON, and the table as FILE.md
  --help             this text`;

/** One game: whose adversaries, whose good agents, and the measures' means. */
export interface Pairing {
  /** Run directory of the adversaries. */
  adversaries: string;
  /** Run directory of the good agents. */
  good: string;
  /** Mean of each measure over the episodes. */
  measures: Record<string, number>;
}

/** How every game is played: greedy, on the same episodes. */
export interface GameOptions {
  /** Evaluation episodes per pairing. */
  episodes: number;
  /** Seed of the environment's first reset. */
  seed: number;
}

/** What {@linkcode crossplay} plays. */
export interface CrossplayOptions extends GameOptions {
  /** The runs compared. */
  runs: string[];
  /** The run they meet. */
  against: string;
}

/** The game with `good`'s good agents and `adversaries`' adversaries. */
export async function play(
  good: string,
  adversaries: string,
  options: GameOptions,
): Promise<Pairing> {
  const result = await evaluate(good, {
    episodes: options.episodes,
    policy: "greedy",
    seed: options.seed,
    adversariesFrom: adversaries === good ? undefined : adversaries,
  });
  return { adversaries, good, measures: result.measures ?? {} };
}

/** The against run's own game, then for each run: its own game and both mixed games. */
export async function crossplay(options: CrossplayOptions): Promise<Pairing[]> {
  const { against } = options;
  const pairings = [await play(against, against, options)];
  for (const run of options.runs) {
    pairings.push(await play(run, run, options));
    pairings.push(await play(against, run, options));
    pairings.push(await play(run, against, options));
  }
  return pairings;
}

/** Measures worth a column: team returns and the scenario's own, not each agent's return. */
function columns(pairings: Pairing[]): string[] {
  const keys = Object.keys(pairings[0].measures).filter((k) =>
    !k.startsWith("return_") && !k.startsWith("train_")
  );
  return keys.sort((a, b) => Number(b.startsWith("team_")) - Number(a.startsWith("team_")));
}

/** A markdown table of every pairing, then each kind of pairing's mean ± std over the runs. */
export function crossplayTable(pairings: Pairing[], against: string): string {
  const keys = columns(pairings);
  const fmt = (v: number) => v.toFixed(3);
  const lines = [
    `| adversaries | good agents | ${keys.join(" | ")} |`,
    `| --- | --- | ${keys.map(() => "---").join(" | ")} |`,
    ...pairings.map((p) =>
      `| ${p.adversaries} | ${p.good} | ${keys.map((k) => fmt(p.measures[k])).join(" | ")} |`
    ),
  ];
  const kinds: [string, (p: Pairing) => boolean][] = [
    ["each run's own game", (p) => p.adversaries === p.good && p.good !== against],
    ["the runs' adversaries", (p) => p.good === against && p.adversaries !== against],
    ["the runs' good agents", (p) => p.adversaries === against && p.good !== against],
  ];
  for (const [label, pick] of kinds) {
    const chosen = pairings.filter(pick);
    const cell = (k: string) => {
      const values = chosen.map((p) => p.measures[k]);
      return values.length > 1
        ? `${fmt(mean(values))} ± ${fmt(sampleStd(values))}`
        : fmt(values[0]);
    };
    lines.push(`| ${label} (mean ± std of ${chosen.length}) | | ${keys.map(cell).join(" | ")} |`);
  }
  return lines.join("\n");
}

/** The flags of every tool that plays pairings, besides the runs. */
export const GAME_FLAGS = {
  episodes: { type: "string" },
  seed: { type: "string" },
  out: { type: "string" },
  help: { type: "boolean" },
} as const;

/**
 * The run directories of a comma-separated `--runs`, without trailing slashes; an empty name
 * or a run named twice is refused.
 */
export function splitRuns(raw: string): string[] {
  const runs = raw.split(",").map((r) => r.replace(/[/\\]+$/, ""));
  if (runs.some((r) => r === "")) {
    throw new UsageError(`--runs ${JSON.stringify(raw)} has an empty run name`);
  }
  const twice = runs.find((r, i) => runs.indexOf(r) !== i);
  if (twice !== undefined) throw new UsageError(`--runs names ${twice} twice`);
  return runs;
}

/** `--episodes`, `--seed` and `--out` checked: how the games are played, and where written. */
export async function gameFlags(
  values: Record<string, unknown>,
): Promise<GameOptions & { out?: string }> {
  const episodes = evalEpisodesFlag(values.episodes ?? "1000");
  const seed = integerFlag("--seed", values.seed ?? "1000", true);
  const out = values.out as string | undefined;
  if (out !== undefined && !out.endsWith(".json")) {
    throw new UsageError(`--out ${out} must name a .json file (the tables go beside it as .md)`);
  }
  if (out !== undefined) await checkOutputPath("--out", out, "file");
  return { episodes, seed, out };
}

/** Writes the record as `out` and the table beside it as `.md`, making their folder. */
export async function writeRecord(out: string, record: object, table: string): Promise<void> {
  const md = out.replace(/\.json$/, ".md");
  await Deno.mkdir(parentOf(out), { recursive: true });
  await writeFileAtomic(out, JSON.stringify(record, null, 2) + "\n");
  await writeFileAtomic(md, table + "\n");
  console.log(`Wrote ${out} and ${md}`);
}

/** Parses flags, plays, prints the table, writes `--out`. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseFlags(args, {
    runs: { type: "string" },
    against: { type: "string" },
    ...GAME_FLAGS,
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (values.runs === undefined || values.against === undefined) {
    throw new UsageError("--runs and --against are required (see --help)");
  }
  const runs = splitRuns(values.runs as string);
  const against = (values.against as string).replace(/[/\\]+$/, "");
  if (runs.includes(against)) {
    throw new UsageError(`--against ${against} is also in --runs: a run meets the others' teams`);
  }
  const { episodes, seed, out } = await gameFlags(values);
  const pairings = await crossplay({ runs, against, episodes, seed });
  const table = crossplayTable(pairings, against);
  console.log(table);
  if (out !== undefined) {
    await writeRecord(out, { against, runs, episodes, seed, policy: "greedy", pairings }, table);
  }
}

if (import.meta.main) await runMain(() => main());
