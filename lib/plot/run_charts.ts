/**
 * The charts of one run from its `metrics.csv`, as `deno task plot` writes them and the page
 * draws them: the notebook's three panels and their dashboard; on a particle world the reward
 * panel shows each agent's mean return (by team in a competitive world), and a `measures`
 * chart shows the paper's measures of the greedy probe after each episode.
 *
 * @module
 */
import { competitiveTeams } from "../env/teams.ts";
import type { Team } from "../env/teams.ts";
import type { MetricsTable } from "./metrics_csv.ts";
import { WINDOW } from "./series.ts";
import { dashboard, lineChart, movingAverageCurve, panelChart, PANELS, SCHEMA } from "./specs.ts";
import type { Curve, Panel, Spec } from "./specs.ts";

/** One chart of a run: its file name (without `.vl.json`) and its spec. */
export interface RunChart {
  /** File name without the extension: a panel's name, `measures` or `dashboard`. */
  name: string;
  /** The Vega-Lite spec. */
  spec: Spec;
}

const GREEDY_RETURN = /^greedy_return_(.+)$/;

/**
 * The agents' names in a particle world's metrics (its `greedy_return_<name>` columns, in the
 * environment's order); empty for the grid world.
 */
export function metricsAgentNames(metrics: MetricsTable): string[] {
  return metrics.columns.flatMap((c) => GREEDY_RETURN.exec(c)?.[1] ?? []);
}

/**
 * The teams of a competitive world, from its agents' names; empty when every agent is on one
 * side (a cooperative world, the grid world) or the run has no `return_<i>` columns.
 *
 * @example
 * ```ts
 * import { metricsTeams } from "./run_charts.ts";
 * import { parseMetricsCsv } from "./metrics_csv.ts";
 * import assert from "node:assert/strict";
 * const header = "episode,steps,total_steps,reward,critic_loss,actor_loss,epsilon,success," +
 *   "greedy_return_adversary_0,greedy_return_agent_0,greedy_return_agent_1,return_0,return_1,return_2";
 * const metrics = parseMetricsCsv(`${header}\n1,25,25,0,0,0,0,0,0,0,0,-3,1,2\n`, "m.csv");
 * assert.deepEqual(metricsTeams(metrics), [
 *   { label: "adversaries", agents: [0] },
 *   { label: "good agents", agents: [1, 2] },
 * ]);
 * ```
 */
export function metricsTeams(metrics: MetricsTable): Team[] {
  const names = metricsAgentNames(metrics);
  if (!names.every((_, i) => metrics.columns.includes(`return_${i}`))) return [];
  return competitiveTeams(names);
}

/** Per episode, the mean of a team's agents' returns. */
export function teamReturns(metrics: MetricsTable, team: Team): number[] {
  const columns = team.agents.map((i) => metrics.values[`return_${i}`]);
  return Array.from(
    { length: metrics.length },
    (_, e) => columns.reduce((sum, column) => sum + column[e], 0) / columns.length,
  );
}

/**
 * The greedy probe's scenario measures in a run's metrics (`greedy_<measure>` columns other
 * than the probe's reward, success and returns), by column.
 */
export function measureColumns(metrics: MetricsTable): string[] {
  return metrics.columns.filter((c) =>
    c.startsWith("greedy_") && !c.includes(".") && c !== "greedy_reward" &&
    c !== "greedy_success" && !GREEDY_RETURN.test(c) && !c.startsWith("greedy_team_")
  );
}

/** A measure's label: its column without `greedy_` (or `greedy_scenario_`), spaced. */
function measureLabel(column: string): string {
  return column.replace(/^greedy_(scenario_)?/, "").replaceAll("_", " ");
}

/** Each team's colour: red adversaries and green good agents, as MPE draws them. */
const TEAM_COLORS: Record<string, string> = {
  "adversaries": "#d62728",
  "good agents": "#2ca02c",
  "all agents": "#1f77b4",
};

/** The reward panel of a particle world: the agents' mean return, or each team's. */
function returnsPanel(name: string, metrics: MetricsTable, extra: readonly Curve[]): Spec {
  const teams = metricsTeams(metrics);
  const series = teams.length > 0
    ? teams.map((team) => ({
      label: team.label,
      values: teamReturns(metrics, team),
      color: TEAM_COLORS[team.label],
    }))
    : [{ label: "all agents", values: metrics.values.reward, color: TEAM_COLORS["all agents"] }];
  return lineChart({
    title: teams.length > 0
      ? "Episode return per agent, by team"
      : "Episode return per agent (mean over agents)",
    subtitle: name,
    yTitle: "Mean return per agent",
    curves: [
      ...series.map((s) => ({
        name: `${s.label}, per episode`,
        values: s.values,
        faint: true,
        color: s.color,
      })),
      ...series.map((s) => ({
        ...movingAverageCurve(`${s.label}, ${WINDOW}-episode average`, s.values),
        color: s.color,
      })),
      ...extra,
    ],
  });
}

/** The measures chart: one small panel per measure, side by side. */
function measuresChart(name: string, metrics: MetricsTable, columns: readonly string[]): Spec {
  const panels = columns.map((column) => {
    const { $schema: _, ...panel } = lineChart({
      title: measureLabel(column),
      yTitle: measureLabel(column),
      width: 260,
      height: 200,
      curves: [
        { name: "Per episode", values: metrics.values[column], faint: true },
        movingAverageCurve(`${WINDOW}-episode moving average`, metrics.values[column]),
      ],
    });
    return panel;
  });
  return {
    $schema: SCHEMA,
    title: {
      text: "The paper's measures, one greedy episode after each training episode",
      subtitle: name,
    },
    hconcat: panels,
    resolve: { scale: { color: "independent" } },
  };
}

/**
 * The charts of one run: the notebook's panels (`reward`, `critic_loss`, `actor_loss`), the
 * particle worlds' `measures`, and the `dashboard` of the three panels. `extra` adds curves
 * to a panel (the PyTorch notebook's, say).
 */
export function runCharts(run: {
  name: string;
  metrics: MetricsTable;
  extra?: (panel: Panel) => readonly Curve[];
}): RunChart[] {
  const { name, metrics, extra = () => [] } = run;
  const particleWorld = metricsAgentNames(metrics).length > 0;
  const panels = (Object.keys(PANELS) as Panel[]).map((panel) => ({
    name: panel,
    spec: panel === "reward" && particleWorld
      ? returnsPanel(name, metrics, extra(panel))
      : panelChart(panel, {
        name,
        values: metrics.values[PANELS[panel].column],
        extra: extra(panel),
      }),
  }));
  const measures = measureColumns(metrics);
  return [
    ...panels,
    ...(measures.length > 0
      ? [{ name: "measures", spec: measuresChart(name, metrics, measures) }]
      : []),
    { name: "dashboard", spec: dashboard(name, panels.map((p) => p.spec)) },
  ];
}

/**
 * When every run is of one competitive world (the same teams), each team's mean return per
 * agent, of every run, overlaid: `compare_return_adversaries` and `compare_return_good_agents`;
 * otherwise none. A run shorter than the moving average's window is drawn per episode.
 */
export function teamComparisons(
  runs: readonly { label: string; metrics: MetricsTable }[],
  size: { width?: number; height?: number } = {},
): RunChart[] {
  const teams = runs.map((run) => metricsTeams(run.metrics));
  const first = JSON.stringify(teams[0] ?? []);
  if (first === "[]" || teams.some((t) => JSON.stringify(t) !== first)) return [];
  const short = runs.some((run) => run.metrics.values.reward.length < WINDOW);
  const average = short
    ? `${WINDOW}-episode moving average where a run is long enough`
    : `${WINDOW}-episode moving average`;
  return teams[0].map((team, k) => ({
    name: `compare_return_${team.label.replaceAll(" ", "_")}`,
    spec: lineChart({
      title: `The ${team.label}' return per agent, ${average}`,
      yTitle: "Mean return per agent",
      curves: runs.map((run, r) => {
        const values = teamReturns(run.metrics, teams[r][k]);
        return values.length >= WINDOW
          ? movingAverageCurve(run.label, values)
          : { name: `${run.label} (per episode: fewer than ${WINDOW} episodes)`, values };
      }),
      ...size,
    }),
  }));
}
