// deno-lint-ignore-file no-console
/**
 * `deno task round-robin --runs A,B,C,…`: every run's adversaries play every run's good agents,
 * on the same greedy episodes. A team is then compared with another on common opponents: the
 * margin of run a's team over run b's is the mean, over the runs o other than a and b, of a's
 * team's return against o's other team minus b's. Neither side then meets the team it was
 * trained with, so runs of different code (ours, a PyTorch peer's imported with
 * `deno task import-torch`) are compared on the same footing. Runs in one folder form a group,
 * and each pair of groups is compared over every pair of their runs.
 *
 * @module
 */
import { parseFlags } from "../lib/cli.ts";
import { runMain, UsageError } from "../lib/errors.ts";
import { parentOf } from "../lib/files.ts";
import { mean } from "../lib/stats.ts";
import {
  GAME_FLAGS,
  gameFlags,
  type GameOptions,
  type Pairing,
  play,
  splitRuns,
  writeRecord,
} from "./crossplay.ts";

const HELP = `Usage: deno task round-robin --runs DIR,DIR[,DIR…] [flags]

Evaluates, greedy, on the same episodes, every run's adversaries against every run's good
agents; prints each run's own game, each team's mean return against the other runs, and how
many runs' teams it beats on common opponents (the runs other than the two compared), then
the matrices of team returns and of margins. Runs in one folder (the seeds of one experiment's
variant, say) form a group, and groups are compared too: on common opponents, on the other
group's runs only, and on their own only.

  --runs DIRS        comma-separated run directories of one competitive environment, two or more
  --episodes N       evaluation episodes per pairing, at most 1000000 [1000]
  --seed N           seed of the environment's first reset [1000]
  --out FILE.json    also write every pairing's measures as JSON, and the tables as FILE.md
  --help             this text`;

/** The two teams of a competitive world, and the measure that scores each. */
export const TEAMS = {
  adversaries: "team_adversaries_return",
  good: "team_good_return",
} as const;

/** A team of a competitive world. */
export type Team = keyof typeof TEAMS;

/** How the tables name each team. */
const TEAM_NAMES: Record<Team, string> = { adversaries: "adversaries", good: "good agents" };

/** What {@linkcode roundRobin} plays. */
export interface RoundRobinOptions extends GameOptions {
  /** The runs, two or more, each named once. */
  runs: string[];
}

/** Every pairing: for each run's adversaries, every run's good agents, in the order of runs. */
export async function roundRobin(options: RoundRobinOptions): Promise<Pairing[]> {
  const pairings: Pairing[] = [];
  for (const adversaries of options.runs) {
    for (const good of options.runs) pairings.push(await play(good, adversaries, options));
  }
  return pairings;
}

/** The returns of one team, read from a round robin's pairings. */
export class Scores {
  readonly #runs: string[];
  readonly #pairings: Pairing[];

  /** `pairings` as {@linkcode roundRobin} orders them. */
  constructor(runs: string[], pairings: Pairing[]) {
    if (pairings.length !== runs.length ** 2) {
      throw new UsageError(`${pairings.length} pairings do not make a round robin of ${runs}`);
    }
    this.#runs = runs;
    this.#pairings = pairings;
  }

  /** Return of run `a`'s `team` against the other team of run `o`. */
  score(team: Team, a: number, o: number): number {
    const n = this.#runs.length;
    const pairing = team === "adversaries" ? this.#pairings[a * n + o] : this.#pairings[o * n + a];
    return pairing.measures[TEAMS[team]];
  }

  /** Mean return of run `a`'s `team` against every other run. */
  againstOthers(team: Team, a: number): number {
    return mean(this.#others([a]).map((o) => this.score(team, a, o)));
  }

  /**
   * Mean margin of run `a`'s `team` over run `b`'s against the `opponents` (all runs unless
   * given) other than both; NaN if none is left.
   */
  margin(team: Team, a: number, b: number, opponents?: number[]): number {
    const common = this.#others([a, b]).filter((o) => opponents?.includes(o) ?? true);
    if (a === b || common.length === 0) return NaN;
    return mean(common.map((o) => this.score(team, a, o) - this.score(team, b, o)));
  }

  /** How many other runs' `team` run `a`'s beats on common opponents. */
  wins(team: Team, a: number): number {
    return this.#others([a]).filter((b) => this.margin(team, a, b) > 0).length;
  }

  #others(excluded: number[]): number[] {
    return this.#runs.map((_, i) => i).filter((i) => !excluded.includes(i));
  }
}

/** The runs' indices grouped by the folder that holds each run, groups in order of appearance. */
export function groupsOf(runs: string[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  runs.forEach((run, i) => {
    const folder = parentOf(run);
    groups.set(folder, [...(groups.get(folder) ?? []), i]);
  });
  return groups;
}

/**
 * Group `g` against group `h`, one team: the mean margin over every pair of their runs, and in
 * how many pairs `g`'s run is ahead, against the `opponents` of each set.
 */
function groupCells(scores: Scores, team: Team, g: number[], h: number[], opponents: number[][]) {
  return opponents.map((among) => {
    const margins = g.flatMap((a) => h.map((b) => scores.margin(team, a, b, among)))
      .filter((m) => !Number.isNaN(m));
    if (margins.length === 0) return "–";
    const ahead = margins.filter((m) => m > 0).length;
    return `${fmt(mean(margins))} (${ahead} of ${margins.length})`;
  });
}

/** The groups' table (runs grouped by folder), or nothing for fewer than two groups. */
function groupTable(runs: string[], scores: Scores): string[] {
  const groups = [...groupsOf(runs)];
  if (groups.length < 2) return [];
  const all = runs.map((_, i) => i);
  const lines = [
    "",
    "Groups (the runs of one folder): the mean margin of the first group's team over the second's, over every pair of their runs, and in how many pairs the first is ahead; against every common opponent, then only the second group's runs, then only the first's.",
    "",
    "| team | group | against group | on common opponents | on the second group's runs | on the first group's runs |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  for (const team of Object.keys(TEAMS) as Team[]) {
    groups.forEach(([first, g], i) => {
      for (const [second, h] of groups.slice(i + 1)) {
        const cells = groupCells(scores, team, g, h, [all, h, g]);
        lines.push(`| ${TEAM_NAMES[team]} | ${first} | ${second} | ${cells.join(" | ")} |`);
      }
    });
  }
  return lines;
}

/** Column label of the `i`-th run: A, B, … Z, then R27, R28, … */
export function label(i: number): string {
  return i < 26 ? String.fromCharCode(65 + i) : `R${i + 1}`;
}

const fmt = (v: number) => (Number.isNaN(v) ? "–" : v.toFixed(2));

/** One square matrix, rows and columns labelled by run. */
function matrix(title: string, n: number, cell: (row: number, column: number) => string) {
  const indices = [...Array(n).keys()];
  return [
    title,
    "",
    `| | ${indices.map(label).join(" | ")} |`,
    `| --- | ${indices.map(() => "---").join(" | ")} |`,
    ...indices.map((r) => `| ${label(r)} | ${indices.map((c) => cell(r, c)).join(" | ")} |`),
  ];
}

/** The standings, then the matrices of returns and of margins, as markdown. */
export function roundRobinTable(runs: string[], pairings: Pairing[]): string {
  const scores = new Scores(runs, pairings);
  const n = runs.length;
  const own = (team: Team, a: number) => fmt(scores.score(team, a, a));
  const lines = [
    ...runs.map((run, i) => `- ${label(i)}: ${run}`),
    "",
    "| run | own game: adversaries | own game: good agents | adversaries against the others | good agents against the others | adversaries beat, on common opponents | good agents beat, on common opponents |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...runs.map((_, a) =>
      `| ${label(a)} | ${own("adversaries", a)} | ${own("good", a)} | ${
        fmt(scores.againstOthers("adversaries", a))
      } | ${fmt(scores.againstOthers("good", a))} | ${scores.wins("adversaries", a)} of ${
        n - 1
      } | ${scores.wins("good", a)} of ${n - 1} |`
    ),
  ];
  for (const team of Object.keys(TEAMS) as Team[]) {
    const whose = TEAM_NAMES[team];
    const other = TEAM_NAMES[team === "adversaries" ? "good" : "adversaries"];
    lines.push(
      "",
      ...matrix(
        `The ${whose}' return: the row's ${whose} against the column's ${other}.`,
        n,
        (r, c) => fmt(scores.score(team, r, c)),
      ),
    );
  }
  for (const team of Object.keys(TEAMS) as Team[]) {
    const whose = TEAM_NAMES[team];
    lines.push(
      "",
      ...matrix(
        `Margin of the row's ${whose} over the column's, on the runs other than both.`,
        n,
        (r, c) => fmt(scores.margin(team, r, c)),
      ),
    );
  }
  return [...lines, ...groupTable(runs, scores)].join("\n");
}

/** Parses flags, plays, prints the tables, writes `--out`. */
export async function main(args: string[] = Deno.args): Promise<void> {
  const { values } = parseFlags(args, { runs: { type: "string" }, ...GAME_FLAGS });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (values.runs === undefined) throw new UsageError("--runs is required (see --help)");
  const runs = splitRuns(values.runs as string);
  if (runs.length < 2) {
    throw new UsageError(`--runs ${JSON.stringify(values.runs)} names fewer than two runs`);
  }
  const { episodes, seed, out } = await gameFlags(values);
  const pairings = await roundRobin({ runs, episodes, seed });
  const table = roundRobinTable(runs, pairings);
  console.log(table);
  if (out !== undefined) {
    await writeRecord(out, { runs, episodes, seed, policy: "greedy", pairings }, table);
  }
}

if (import.meta.main) await runMain(() => main());
