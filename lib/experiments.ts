/**
 * The MADDPG paper's experiments (Lowe et al. 2017) as data — each a preset of
 * `configs/mpe/`, a record of variants with their `train` flags, the measures of its table
 * and the published anchors to compare with — and the pure table building over seeds that
 * `deno task experiment` uses.
 *
 * @module
 */
import { meanInterval, oneSampleP, welch } from "./confidence.ts";
import { mean, sampleStd } from "./stats.ts";

/** One column of an experiment's table. */
export interface MeasureSpec {
  /** Key in a seed's measures (`train_return` or an evaluation measure's name). */
  key: string;
  /** Column header. */
  label: string;
  /** Decimals of mean and std. */
  digits: number;
  /** Factor applied before formatting (100 for a rate shown in %). @default 1 */
  scale?: number;
}

/** One of the paper's experiments. */
export interface ExperimentDef {
  /** What it is, in the paper's words. */
  title: string;
  /** The preset under `configs/mpe/` every variant starts from. */
  preset: string;
  /** Variant name → the `train` flags it adds to the preset. */
  variants: Readonly<Record<string, readonly string[]>>;
  /** The table's columns. */
  measures: readonly MeasureSpec[];
  /** Published numbers to compare with (printed under the table). */
  anchors: readonly string[];
  /** Those of the anchors that a measure of the table is held against, seed by seed. */
  anchorValues?: readonly AnchorValue[];
  /** The peer's own runs' values of measures, which the table's seeds are compared with. */
  peerRuns?: readonly PeerRuns[];
}

/** One measure's values in the peer's own runs at one budget (one value per run). */
export interface PeerRuns {
  /** The measure's key (one of the table's {@linkcode MeasureSpec} keys). */
  key: string;
  /** The runs' training episodes at the end of the measure's window. */
  episodes: number;
  /** One value per run, in the measure's unit (before its `scale`). */
  values: readonly number[];
  /** Which runs they are. */
  runs: string;
}

/** A published number that one measure of a table is held against. */
export interface AnchorValue {
  /** The measure's key (one of the table's {@linkcode MeasureSpec} keys). */
  key: string;
  /** The published number, in the measure's unit (before its `scale`). */
  value: number;
  /** Whose number it is. */
  source: string;
}

/** Key of the mean per-agent training return over the last {@linkcode TRAIN_WINDOW} episodes. */
export const TRAIN_RETURN = "train_return";

/** Training episodes (the last ones of `metrics.csv`) that {@linkcode TRAIN_RETURN} averages. */
export const TRAIN_WINDOW = 100;

/**
 * Keys of each team's mean training return per agent over the last
 * {@linkcode TRAIN_WINDOW} episodes, and of the good team's margin over the adversaries
 * (the first minus the second: the MADDPG paper's physical deception compares it across
 * pairings).
 */
export const TRAIN_TEAM_RETURNS = {
  good: "train_team_good_return",
  adversaries: "train_team_adversaries_return",
  margin: "train_team_margin",
} as const;

/**
 * A run's training measures over its last {@linkcode TRAIN_WINDOW} episodes of `metrics.csv`
 * (`values`: its columns): the mean per-agent return ({@linkcode TRAIN_RETURN}) and, when some
 * agents are adversaries, each team's mean return per agent, which is how maddpg-zoo-torch
 * reports, and the good team's margin ({@linkcode TRAIN_TEAM_RETURNS}). Team returns need the
 * `return_<i>` columns, which runs written before them lack.
 *
 * @example
 * ```ts
 * import { trainMeasures } from "./experiments.ts";
 * import assert from "node:assert/strict";
 * const values = { reward: [0, 1], return_0: [-3, -1], return_1: [1, 2], return_2: [2, 4] };
 * assert.deepEqual(trainMeasures(values, [true, false, false]), {
 *   train_return: 0.5,
 *   train_team_adversaries_return: -2,
 *   train_team_good_return: 2.25,
 *   train_team_margin: 4.25,
 * });
 * ```
 */
export function trainMeasures(
  values: Readonly<Record<string, readonly number[]>>,
  adversary: readonly boolean[],
): Record<string, number> {
  const tail = (column: readonly number[]) => mean(column.slice(-TRAIN_WINDOW));
  const out: Record<string, number> = { [TRAIN_RETURN]: tail(values.reward) };
  const returns = adversary.map((_, i) => values[`return_${i}`]);
  if (!adversary.some(Boolean) || returns.some((r) => r === undefined)) return out;
  const team = (which: boolean) =>
    mean(returns.filter((_, i) => adversary[i] === which).map((r) => tail(r)));
  const [good, adversaries] = [team(false), team(true)];
  out[TRAIN_TEAM_RETURNS.adversaries] = adversaries;
  out[TRAIN_TEAM_RETURNS.good] = good;
  out[TRAIN_TEAM_RETURNS.margin] = good - adversaries;
  return out;
}

/** Offset of the evaluation seed from the run's seed. */
export const EVAL_SEED_OFFSET = 1000;

/** Said under every table: the anchors come from other code on another simulator. */
export const MPE_NOTE =
  "The paper's code ran on the older openai/multiagent-particle-envs, whose rewards and " +
  "integration order differ from MPE2 (PettingZoo), which this project ports: compare " +
  "orders of magnitude, not digits.";

const CONTINUOUS = ["--env-option", "continuous_actions=true"] as const;

/** `--algo X --adversary-algo Y` for the four pairings of good agents vs adversaries. */
function pairings(): Record<string, readonly string[]> {
  const algos = { maddpg: "maddpg", ddpg: "iddpg" } as const;
  const out: Record<string, readonly string[]> = {};
  for (const [good, goodAlgo] of Object.entries(algos)) {
    for (const adversary of ["maddpg", "ddpg"]) {
      out[`${good}_vs_${adversary}`] = ["--algo", goodAlgo, "--adversary-algo", adversary];
    }
  }
  return out;
}

const TRAIN_RETURN_COLUMN: MeasureSpec = {
  key: TRAIN_RETURN,
  label: `return per agent (last ${TRAIN_WINDOW} train ep.)`,
  digits: 2,
};

const TEAM_RETURNS: readonly MeasureSpec[] = [
  { key: "team_good_return", label: "good return", digits: 2 },
  { key: "team_adversaries_return", label: "adversary return", digits: 2 },
  {
    key: TRAIN_TEAM_RETURNS.good,
    label: `good return (last ${TRAIN_WINDOW} train ep.)`,
    digits: 2,
  },
  {
    key: TRAIN_TEAM_RETURNS.adversaries,
    label: `adversary return (last ${TRAIN_WINDOW} train ep.)`,
    digits: 2,
  },
  { key: TRAIN_TEAM_RETURNS.margin, label: "margin (good − adversary, train)", digits: 2 },
];

/** The public PyTorch MADDPG whose returns the `_peer` experiments' anchors are. */
const PEER = "legalaspro/maddpg-zoo-torch";

/** The peer's published returns per agent: spread's, and each team's in the team games. */
const PEER_RETURNS = {
  spread: -10.7,
  adversary: { adversaries: -16.5, good: 7.1 },
  tag: { adversaries: 18.1, good: -23.8 },
} as const;

/** A published number as the anchors print it: signed, with a true minus. */
function signed(value: number): string {
  return value < 0 ? `−${-value}` : `+${value}`;
}

/** The peer's team returns in a team game, as anchor values of the team-return measures. */
function peerTeamValues(returns: { adversaries: number; good: number }): AnchorValue[] {
  return [
    { key: TRAIN_TEAM_RETURNS.adversaries, value: returns.adversaries, source: PEER },
    { key: TRAIN_TEAM_RETURNS.good, value: returns.good, source: PEER },
  ];
}

/** The peer's team returns in physical deception. */
const PEER_ADVERSARY = `${PEER} after 1–1.5 M steps: ${
  signed(PEER_RETURNS.adversary.adversaries)
} adversary / ${signed(PEER_RETURNS.adversary.good)} good`;

/** The peer's team returns in predator-prey, and a random policy's. */
const TAG_ANCHORS: readonly string[] = [
  `${PEER} after 1–1.5 M steps: ${signed(PEER_RETURNS.tag.adversaries)} each chaser / ${
    signed(PEER_RETURNS.tag.good)
  } prey`,
  "uniform random policy on MPE2: adversaries +2.8, prey −14.8",
];

/**
 * The peer's runs of deception and tag: each team's mean return per agent over the last 100
 * training episodes, of its shipped run (`agent_rewards.npy`) and of its reruns on this
 * project's machines (`peer_run.py`, unmodified code and hyperparameters; README, "Self-play
 * beside the anchors").
 */
const PEER_RUNS = {
  adversary: [
    ...peerTeams(
      40000,
      "shipped, seeds 0–3 here",
      [-16.92, -16.39, -17.04, -16.32, -16.32],
      [7.0, 5.68, 5.95, 4.88, 5.37],
    ),
    ...peerTeams(
      60000,
      "shipped, seeds 0, 2 and 3 here",
      [-16.47, -15.86, -16.18, -17.18],
      [7.11, 6.09, 5.71, 6.91],
    ),
  ],
  tag: peerTeams(
    40000,
    "shipped, seeds 0–4 here",
    [18.1, 12.6, 13.7, 9.8, 12.3, 11.3],
    [-23.81, -15.52, -20.27, -18.29, -20.42, -16.43],
  ),
};

function peerTeams(
  episodes: number,
  runs: string,
  adversaries: readonly number[],
  good: readonly number[],
): PeerRuns[] {
  return [
    { key: TRAIN_TEAM_RETURNS.adversaries, episodes, values: adversaries, runs },
    { key: TRAIN_TEAM_RETURNS.good, episodes, values: good, runs },
  ];
}

/** The variants of the `_peer` experiments: actors of their own, or shared (`--share-actors`). */
const PEER_VARIANTS: Readonly<Record<string, readonly string[]>> = {
  maddpg: ["--algo", "maddpg"],
  maddpg_shared: ["--algo", "maddpg", "--share-actors"],
};

const SPREAD_MEASURES: readonly MeasureSpec[] = [
  TRAIN_RETURN_COLUMN,
  { key: "min_distance_sum", label: "min_distance_sum", digits: 3 },
  { key: "collisions", label: "collisions", digits: 3 },
];

const ADVERSARY_MEASURES: readonly MeasureSpec[] = [
  { key: "good_success", label: "good success %", digits: 1, scale: 100 },
  { key: "adversary_success", label: "adversary success %", digits: 1, scale: 100 },
  ...TEAM_RETURNS,
];

const TAG_MEASURES: readonly MeasureSpec[] = [
  { key: "touches", label: "touches per episode", digits: 2 },
  ...TEAM_RETURNS,
];

/**
 * The experiments, by the name `deno task experiment <name>` takes: the paper's four tables
 * on its presets, and the `_peer` ones, continuous MADDPG on the presets of the PyTorch peer
 * (legalaspro/maddpg-zoo-torch) whose returns the anchors are.
 */
export const EXPERIMENTS: Readonly<Record<string, ExperimentDef>> = {
  spread: {
    title: "Cooperative navigation (simple_spread_v3): MADDPG vs DDPG vs MATD3",
    preset: "simple_spread",
    variants: {
      maddpg: ["--algo", "maddpg"],
      iddpg: ["--algo", "iddpg"],
      matd3: ["--algo", "matd3"],
      maddpg_continuous: ["--algo", "maddpg", ...CONTINUOUS],
      iddpg_continuous: ["--algo", "iddpg", ...CONTINUOUS],
      matd3_continuous: ["--algo", "matd3", ...CONTINUOUS],
    },
    measures: SPREAD_MEASURES,
    anchors: [
      "legalaspro/maddpg-zoo-torch after 1–1.5 M steps: −10.7 per agent",
      "google/maddpg-replication (the paper's code): distance 0.629, 0.388 collisions",
      "uniform random policy on MPE2: −27.0 per agent per episode",
    ],
  },
  adversary: {
    title: "Physical deception (simple_adversary_v3): good agents vs adversary, MADDPG/DDPG",
    preset: "simple_adversary",
    variants: pairings(),
    measures: ADVERSARY_MEASURES,
    anchors: [
      PEER_ADVERSARY,
      "google/maddpg-replication (the paper's code): 94.7 % MADDPG agents vs 34.0 % MADDPG adversary",
    ],
  },
  tag: {
    title: "Predator-prey (simple_tag_v3): good agents vs adversaries, MADDPG/DDPG",
    preset: "simple_tag",
    variants: pairings(),
    measures: TAG_MEASURES,
    anchors: TAG_ANCHORS,
  },
  speaker_listener: {
    title: "Cooperative communication (simple_speaker_listener_v4): MADDPG vs DDPG",
    preset: "simple_speaker_listener",
    variants: { maddpg: ["--algo", "maddpg"], iddpg: ["--algo", "iddpg"] },
    measures: [
      { key: "final_distance", label: "final_distance", digits: 3 },
      { key: "success", label: "success %", digits: 1, scale: 100 },
      TRAIN_RETURN_COLUMN,
    ],
    anchors: ["uniform random policy on MPE2: −42.0"],
  },
  spread_peer: {
    title: "Cooperative navigation (simple_spread_v3): continuous MADDPG, the peer's settings",
    preset: "simple_spread_continuous_peer",
    variants: PEER_VARIANTS,
    measures: SPREAD_MEASURES,
    anchors: [
      `${PEER} after 1–1.5 M steps: ${signed(PEER_RETURNS.spread)} per agent (the bar: every seed)`,
      "uniform random policy on MPE2: −27.0 per agent per episode",
    ],
    anchorValues: [{ key: TRAIN_RETURN, value: PEER_RETURNS.spread, source: PEER }],
  },
  adversary_peer: {
    title: "Physical deception (simple_adversary_v3): continuous MADDPG, the peer's settings",
    preset: "simple_adversary_continuous_peer",
    variants: PEER_VARIANTS,
    measures: ADVERSARY_MEASURES,
    anchors: [PEER_ADVERSARY],
    anchorValues: peerTeamValues(PEER_RETURNS.adversary),
    peerRuns: PEER_RUNS.adversary,
  },
  tag_peer: {
    title: "Predator-prey (simple_tag_v3): continuous MADDPG, the peer's settings",
    preset: "simple_tag_continuous_peer",
    variants: PEER_VARIANTS,
    measures: TAG_MEASURES,
    anchors: TAG_ANCHORS,
    anchorValues: peerTeamValues(PEER_RETURNS.tag),
    peerRuns: PEER_RUNS.tag,
  },
};

/**
 * Flags that make a run tiny, for tests only (`--tiny`): batch 8, hidden layers of 8, a
 * buffer of 100, no warmup, 5 steps per episode.
 */
export const TINY_ARGS: readonly string[] = [
  "--batch-size",
  "8",
  "--actor-hidden",
  "8",
  "--critic-hidden",
  "8",
  "--buffer-size",
  "100",
  "--warmup-steps",
  "0",
  "--env-option",
  "max_cycles=5",
];

/** What {@linkcode variantArgs} combines. */
export interface VariantArgsOptions {
  /** The preset's flags (`configArgs` of the checked preset). */
  preset: readonly string[];
  /** The variant's flags. */
  variant: readonly string[];
  /** `--episodes`, when given (else the preset's). */
  episodes?: number;
  /** Add {@linkcode TINY_ARGS}. */
  tiny?: boolean;
}

/** The `train` flags of one variant: later flags override earlier ones. */
export function variantArgs(options: VariantArgsOptions): string[] {
  const { preset, variant, episodes, tiny = false } = options;
  return [
    ...preset,
    ...variant,
    ...(tiny ? TINY_ARGS : []),
    ...(episodes === undefined ? [] : ["--episodes", String(episodes)]),
  ];
}

/** One seed's measures (evaluation means plus {@linkcode TRAIN_RETURN}). */
export interface SeedMeasures {
  /** The run's seed. */
  seed: number;
  /** Measure name → value. */
  measures: Readonly<Record<string, number>>;
}

/** A variant's seeds. */
export interface VariantResults {
  /** Variant name. */
  variant: string;
  /** One entry per finished seed. */
  seeds: readonly SeedMeasures[];
}

/** Mean and sample std over seeds of one measure (already scaled). */
export interface TableCell {
  mean: number;
  std: number;
  /** Seeds that had the measure. */
  n: number;
  /** Each seed's value, in the order of the row's seeds; null where a seed lacks it. */
  values: (number | null)[];
}

/** One row of the table. */
export interface TableRow {
  variant: string;
  /** The seeds of the row. */
  seeds: number[];
  /** Measure key → cell; null when no seed had it. */
  cells: Record<string, TableCell | null>;
}

/**
 * Where a variant's mean over seeds stands against an anchor: `above` or `below` when the
 * whole 95% interval of the mean is, `within` when it holds the anchor (the seeds cannot tell
 * the mean from it at 5%), `one seed` when there is no spread to go by.
 */
export type AnchorVerdict = "above" | "below" | "within" | "one seed";

/** Where an interval lies against `value`: wholly above, wholly below, or holding it. */
function side(low: number, high: number, value: number): "above" | "below" | "within" {
  return low > value ? "above" : high < value ? "below" : "within";
}

/** One variant's measure held against one anchor value (scaled as the measure is). */
export interface AnchorCheck {
  variant: string;
  /** The measure's key. */
  key: string;
  /** The anchor's value and whose it is. */
  anchor: number;
  source: string;
  /** Seeds with the measure, and how many of them are at or above the anchor. */
  n: number;
  atOrAbove: number;
  mean: number;
  /** The mean's 95% interval (Student's t); null for one seed. */
  low: number | null;
  high: number | null;
  /** Two-sided p of a one-sample t-test of the mean against the anchor; null for one seed. */
  p: number | null;
  verdict: AnchorVerdict;
}

/** An experiment's table, as `table.json` holds it. */
export interface ExperimentTable {
  experiment: string;
  title: string;
  measures: readonly MeasureSpec[];
  rows: TableRow[];
  anchors: readonly string[];
  /** Each variant's anchored measures against their anchors. */
  checks: AnchorCheck[];
  /** Each variant's measures against the peer's runs of the table's budget. */
  comparisons: PeerComparison[];
  note: string;
}

/** One variant's measure against the peer's runs of it (scaled as the measure is). */
export interface PeerComparison {
  variant: string;
  /** The measure's key, and which of the peer's runs. */
  key: string;
  runs: string;
  /** Runs and mean of each side. */
  peer: { n: number; mean: number };
  ours: { n: number; mean: number };
  /** Ours minus the peer's, with its 95% interval and Welch's two-sided p; null below 2 a side. */
  difference: number;
  low: number | null;
  high: number | null;
  p: number | null;
  /** Where the difference's interval lies against 0; `one run` when a side has no spread. */
  verdict: "above" | "below" | "within" | "one run";
}

/**
 * A variant's `values` (one per seed, scaled) against the peer's runs of the same measure.
 *
 * @example
 * ```ts
 * import { compareWithPeer } from "./experiments.ts";
 * import assert from "node:assert/strict";
 * const peer = { key: "r", episodes: 10, values: [7.11, 6.09], runs: "two" };
 * const c = compareWithPeer("v", peer, 1, [7.35, 6.37, 6.6, 6.5, 6.27]);
 * assert.deepEqual([c.difference.toFixed(2), c.p?.toFixed(3), c.verdict], ["0.02", "0.978", "within"]);
 * assert.deepEqual([c.peer.n, c.ours.n], [2, 5]);
 * ```
 */
export function compareWithPeer(
  variant: string,
  peer: PeerRuns,
  scale: number,
  values: readonly number[],
): PeerComparison {
  const theirs = peer.values.map((v) => v * scale);
  const test = welch(values, theirs);
  return {
    variant,
    key: peer.key,
    runs: peer.runs,
    peer: { n: theirs.length, mean: mean(theirs) },
    ours: { n: values.length, mean: mean(values) },
    difference: mean(values) - mean(theirs),
    low: test?.low ?? null,
    high: test?.high ?? null,
    p: test?.p ?? null,
    verdict: test === null ? "one run" : side(test.low, test.high, 0),
  };
}

/**
 * Holds `values` (one per seed, scaled) against `anchor`.
 *
 * @example
 * ```ts
 * import { checkAnchor } from "./experiments.ts";
 * import assert from "node:assert/strict";
 * const anchor = { key: "r", value: 7.1, source: "peer" };
 * const check = checkAnchor("v", anchor, 1, [7.35, 6.37, 6.6, 6.5, 6.27]); // mean 6.618
 * assert.deepEqual(
 *   [check.atOrAbove, check.low?.toFixed(2), check.high?.toFixed(2), check.p?.toFixed(3)],
 *   [1, "6.09", "7.15", "0.065"],
 * );
 * assert.equal(check.verdict, "within");
 * assert.equal(checkAnchor("v", anchor, 1, [6.0, 6.1, 6.2]).verdict, "below");
 * assert.equal(checkAnchor("v", anchor, 10, [72, 72.5, 73]).verdict, "above"); // anchor 71
 * assert.equal(checkAnchor("v", anchor, 1, [7.2]).verdict, "one seed");
 * ```
 */
export function checkAnchor(
  variant: string,
  anchor: AnchorValue,
  scale: number,
  values: readonly number[],
): AnchorCheck {
  const value = anchor.value * scale;
  const interval = meanInterval(values);
  const p = oneSampleP(values, value);
  const verdict = interval === null ? "one seed" : side(interval.low, interval.high, value);
  return {
    variant,
    key: anchor.key,
    anchor: value,
    source: anchor.source,
    n: values.length,
    atOrAbove: values.filter((v) => v >= value).length,
    mean: mean(values),
    low: interval?.low ?? null,
    high: interval?.high ?? null,
    p: Number.isNaN(p) ? null : p,
    verdict,
  };
}

/**
 * `held(variant, item, scale, values)` for every row and every item of `items` whose measure
 * the row has (its seeds' values, scaled; seeds without the measure left out).
 */
function perRow<T extends { key: string }, R>(
  measures: readonly MeasureSpec[],
  rows: readonly TableRow[],
  items: readonly T[],
  held: (variant: string, item: T, scale: number, values: number[]) => R,
): R[] {
  const out: R[] = [];
  for (const row of rows) {
    for (const item of items) {
      const spec = measures.find((m) => m.key === item.key);
      const values = row.cells[item.key]?.values.filter((v): v is number => v !== null) ?? [];
      if (spec !== undefined && values.length > 0) {
        out.push(held(row.variant, item, spec.scale ?? 1, values));
      }
    }
  }
  return out;
}

/**
 * Builds the table: each measure's mean ± sample std over each variant's seeds, the anchored
 * measures against their anchors, and, when the runs had `episodes` training episodes, the
 * measures against the peer's runs of that budget.
 */
export function buildTable(
  name: string,
  def: Pick<ExperimentDef, "title" | "measures" | "anchors" | "anchorValues" | "peerRuns">,
  results: readonly VariantResults[],
  episodes?: number,
): ExperimentTable {
  const rows = results.map(({ variant, seeds }): TableRow => {
    const cells: Record<string, TableCell | null> = {};
    for (const spec of def.measures) {
      const perSeed = seeds.map((s) => {
        const v = s.measures[spec.key];
        return typeof v === "number" && Number.isFinite(v) ? v * (spec.scale ?? 1) : null;
      });
      const values = perSeed.filter((v): v is number => v !== null);
      cells[spec.key] = values.length === 0
        ? null
        : { mean: mean(values), std: sampleStd(values), n: values.length, values: perSeed };
    }
    return { variant, seeds: seeds.map((s) => s.seed), cells };
  });
  return {
    experiment: name,
    title: def.title,
    measures: def.measures,
    rows,
    anchors: def.anchors,
    checks: perRow(def.measures, rows, def.anchorValues ?? [], checkAnchor),
    comparisons: perRow(
      def.measures,
      rows,
      (def.peerRuns ?? []).filter((peer) => peer.episodes === episodes),
      compareWithPeer,
    ),
    note: MPE_NOTE,
  };
}

function fixed(value: number, digits: number): string {
  const text = value.toFixed(digits);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
}

/**
 * `mean ± std` with `digits` decimals (no `-0`); the value alone for one seed (it has no
 * spread); `—` for no value.
 *
 * @example
 * ```ts
 * import { formatCell } from "./experiments.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatCell({ mean: -1.234, std: 0.5, n: 2, values: [-1, -1.5] }, 2), "-1.23 ± 0.50");
 * assert.equal(formatCell({ mean: 2, std: 0, n: 1, values: [2] }, 1), "2.0");
 * assert.equal(formatCell(null, 1), "—");
 * ```
 */
export function formatCell(cell: TableCell | null, digits: number): string {
  if (cell === null) return "—";
  if (cell.n === 1) return fixed(cell.mean, digits);
  return `${fixed(cell.mean, digits)} ± ${fixed(cell.std, digits)}`;
}

/** Each seed's value of a cell, comma-separated (`—` for a seed without it, or no cell). */
export function formatSeeds(cell: TableCell | null, digits: number): string {
  if (cell === null) return "—";
  return cell.values.map((v) => (v === null ? "—" : fixed(v, digits))).join(", ");
}

/** A Markdown table: header row, rule, rows. */
function markdownRows(header: readonly string[], rows: readonly string[][]): string[] {
  return [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((cells) => `| ${cells.join(" | ")} |`),
  ];
}

/**
 * The table in Markdown: variant | each measure | seeds; then each seed's values; then the
 * anchors and the note.
 */
export function tableMarkdown(table: ExperimentTable): string {
  const labels = table.measures.map((m) => m.label);
  const lines = [
    `## ${table.title}`,
    "",
    ...markdownRows(
      ["variant", ...labels, "seeds"],
      table.rows.map((row) => [
        row.variant,
        ...table.measures.map((m) => formatCell(row.cells[m.key], m.digits)),
        String(row.seeds.length),
      ]),
    ),
    "",
    "Mean ± sample std over seeds (a row of one seed: its value); evaluation measures are " +
    "means over greedy episodes.",
    "",
    "Per seed:",
    "",
    ...markdownRows(
      ["variant", "seeds", ...labels],
      table.rows.map((row) => [
        row.variant,
        row.seeds.length === 0 ? "—" : row.seeds.join(", "),
        ...table.measures.map((m) => formatSeeds(row.cells[m.key], m.digits)),
      ]),
    ),
    "",
    "Anchors:",
    ...table.anchors.map((a) => `- ${a}`),
    ...checksMarkdown(table),
    ...comparisonsMarkdown(table),
    "",
    `Note: ${table.note}`,
  ];
  return lines.join("\n") + "\n";
}

/** Said under the checks: what the interval and the verdicts mean, and what they assume. */
const CHECKS_NOTE = "Mean over seeds with its 95% interval (Student's t), and the two-sided " +
  "p of a one-sample t-test of the mean against the anchor: above or below when the whole " +
  "interval is, within when it holds the anchor (the seeds cannot tell the mean from it at " +
  "5%). The test takes the anchor as exact, though it is one run of its code and another " +
  "run lands elsewhere; with the anchor's own spread the intervals would only be wider.";

/** Said under the comparisons: what they compare and assume. */
const COMPARISONS_NOTE = "Ours minus the peer's, with the difference's 95% interval and " +
  "the two-sided p of Welch's t-test (no equal spread assumed): the peer's runs are its " +
  "shipped run and its reruns with the same code and settings on this project's machines, " +
  "so this compares the two codes rather than one run of each.";

/** The table's measure of `key` (checks and comparisons are only made for its measures). */
function measureSpec(table: ExperimentTable, key: string): MeasureSpec {
  return table.measures.find((m) => m.key === key)!;
}

/** `value [low, high]` with `digits` decimals; the value alone without an interval. */
function withInterval(value: number, low: number | null, high: number | null, digits: number) {
  if (low === null || high === null) return fixed(value, digits);
  return `${fixed(value, digits)} [${fixed(low, digits)}, ${fixed(high, digits)}]`;
}

/** The comparisons in Markdown, after a blank line; nothing when the table has none. */
function comparisonsMarkdown(table: ExperimentTable): string[] {
  if (table.comparisons.length === 0) return [];
  const header = ["variant", "measure", "the peer's runs", "peer (runs)", "ours (seeds)"];
  return [
    "",
    "Against the peer's runs:",
    "",
    ...markdownRows(
      [...header, "difference [95% interval]", "p", "verdict"],
      table.comparisons.map((c) => {
        const { label, digits } = measureSpec(table, c.key);
        return [
          c.variant,
          label,
          c.runs,
          `${fixed(c.peer.mean, digits)} (${c.peer.n})`,
          `${fixed(c.ours.mean, digits)} (${c.ours.n})`,
          withInterval(c.difference, c.low, c.high, digits),
          c.p === null ? "—" : c.p.toFixed(3),
          c.verdict,
        ];
      }),
    ),
    "",
    COMPARISONS_NOTE,
  ];
}

/** The checks in Markdown, after a blank line; nothing when the table has none. */
function checksMarkdown(table: ExperimentTable): string[] {
  if (table.checks.length === 0) return [];
  return [
    "",
    "Against the anchors:",
    "",
    ...markdownRows(
      ["variant", "measure", "anchor", "mean [95% interval]", "seeds at or above", "p", "verdict"],
      table.checks.map((c) => {
        const { label, digits } = measureSpec(table, c.key);
        return [
          c.variant,
          label,
          `${fixed(c.anchor, digits)} (${c.source})`,
          withInterval(c.mean, c.low, c.high, digits),
          `${c.atOrAbove} of ${c.n}`,
          c.p === null ? "—" : c.p.toFixed(3),
          c.verdict,
        ];
      }),
    ),
    "",
    CHECKS_NOTE,
  ];
}
