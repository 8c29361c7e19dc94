/// <reference lib="dom" />
/**
 * The charts view (a run's `charts/*.vl.json`, or its panels built here from `metrics.csv`
 * when `deno task plot` has not run) and the compare view (runs' moving-average rewards
 * overlaid, as `deno task plot --compare`).
 *
 * @module
 */
import embed from "vega-embed";
import { lineChart, movingAverageCurve, PANELS } from "../lib/plot/specs.ts";
import type { Curve, Spec } from "../lib/plot/specs.ts";
import { runCharts, teamComparisons } from "../lib/plot/run_charts.ts";
import { WINDOW } from "../lib/plot/series.ts";
import { byId, fetchJson, h, showError } from "./dom.ts";
import { routeHash } from "./route.ts";
import { loadMetrics, runFileUrl } from "./run_files.ts";
import { fetchRuns, runName } from "./runs_view.ts";
import type { RunEntry } from "./runs_view.ts";

/**
 * Adds zooming and panning along the episode axis (an interval selection bound to the
 * scales) to every unit spec in `spec`: the spec itself, the first layer of a layered spec
 * (a layer's selection zooms the shared scales), each view of a concatenation (each with its
 * own selection name, as Vega-Lite requires). Other specs are returned unchanged.
 */
export function withEpisodeZoom(spec: Spec): Spec {
  let count = 0;
  const zoom = (unit: Spec): Spec => {
    if (typeof unit.mark !== "string" && typeof unit.mark !== "object") return unit;
    if (unit.params !== undefined) return unit;
    const name = count++ === 0 ? "grid" : `grid_${count}`;
    return { ...unit, params: [{ name, select: "interval", bind: "scales", encodings: ["x"] }] };
  };
  const visit = (node: Spec): Spec => {
    if (Array.isArray(node.layer)) {
      const [first, ...rest] = node.layer as Spec[];
      return first ? { ...node, layer: [zoom(first), ...rest] } : node;
    }
    for (const key of ["hconcat", "vconcat", "concat"]) {
      if (Array.isArray(node[key])) {
        return { ...node, [key]: (node[key] as Spec[]).map(visit) };
      }
    }
    return zoom(node);
  };
  return visit(spec);
}

/** Embeds `spec` into a new `.chart` element of `container`, with tooltips and zoom. */
async function addChart(container: HTMLElement, spec: Spec, label: string): Promise<void> {
  const element = h("div", { class: "chart", "data-chart": label });
  container.append(element);
  try {
    await embed(element, withEpisodeZoom(spec) as never, {
      tooltip: true,
      actions: { export: true, source: true, compiled: false, editor: false },
    });
  } catch (error) {
    element.replaceChildren();
    throw new Error(`Cannot draw ${label}: ${(error as Error).message}`);
  }
}

/** `reward.vl.json`, `charts/reward.vl.json` or `reward` → `reward.vl.json`. */
function chartFile(name: string): string {
  const base = name.replace(/^charts\//, "");
  return base.endsWith(".vl.json") ? base : `${base}.vl.json`;
}

/** The entry of `path` in `runs.json`, if the index can be read and lists it. */
async function findRun(path: string): Promise<RunEntry | undefined> {
  try {
    return (await fetchRuns()).find((run) => run.path === path);
  } catch {
    return undefined; // The run's own files still make its charts.
  }
}

/** Shows the run's charts; without `charts/`, builds the three panels from `metrics.csv`. */
export async function showCharts(path: string): Promise<void> {
  const run = await findRun(path);
  byId("charts-title").textContent = `Charts of ${run ? runName(run) : path}`;
  byId<HTMLAnchorElement>("charts-replay").href = routeHash({ view: "replay", path });
  const list = byId("charts-list");
  list.replaceChildren();
  const files = (run?.charts ?? []).map(chartFile).filter((f) => f.endsWith(".vl.json"));
  // The panels in the notebook's order, other charts after them, the wide dashboard last.
  const rank = (file: string) => {
    const panel = Object.keys(PANELS).indexOf(file.replace(/\.vl\.json$/, ""));
    return panel >= 0 ? panel : file === "dashboard.vl.json" ? 2 * files.length : files.length;
  };
  files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const note = byId("charts-note");
  if (files.length > 0) {
    note.textContent = `${files.length} charts written by deno task plot. ` +
      "Drag or scroll on a chart to pan or zoom along the episode axis; double-click resets.";
    for (const file of files) {
      const url = runFileUrl(path, `charts/${file}`);
      await addChart(list, (await fetchJson(url)) as Spec, url);
    }
    return;
  }
  note.textContent = "";
  const metrics = await loadMetrics(path); // a run that is not there says so, and nothing else
  note.textContent = "No charts/ in this run (deno task plot has not run on it): " +
    "these charts are built from its metrics.csv.";
  const name = run ? runName(run) : path;
  for (const chart of runCharts({ name, metrics })) {
    if (chart.name === "dashboard") continue;
    await addChart(list, chart.spec, `${chart.name} of ${path}`);
  }
}

/**
 * The runs' 50-episode moving-average rewards overlaid, named as `plot --compare` names
 * them; a run shorter than the window is drawn per episode (its label says so), since its
 * moving average is empty. A run that cannot be read is named in `#error` and left out.
 */
export async function showCompare(addressed: readonly string[]): Promise<void> {
  const requested = [...new Set(addressed)]; // a run named twice in the address is drawn once
  const list = byId("compare-list");
  list.replaceChildren();
  let index: RunEntry[] = [];
  try {
    index = await fetchRuns();
  } catch {
    // Names fall back to the paths.
  }
  // A run that cannot be read is reported and left out; the others are still compared.
  const settled = await Promise.allSettled(requested.map((path) => loadMetrics(path)));
  const failed = settled.flatMap((r) => r.status === "rejected" ? [r.reason] : []);
  if (failed.length === settled.length) throw failed[0];
  failed.forEach(showError);
  const paths = requested.filter((_, k) => settled[k].status === "fulfilled");
  const tables = settled.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
  const names = paths.map((path) => {
    const entry = index.find((run) => run.path === path);
    return entry ? runName(entry) : path;
  });
  const labels = names.map((name, k) => names.indexOf(name) === k ? name : `${name} (${k + 1})`);
  const curves: Curve[] = tables.map((table, k) => {
    const name = labels[k];
    const rewards = table.values.reward;
    return rewards.length >= WINDOW
      ? movingAverageCurve(name, rewards)
      : { name: `${name} (per episode: fewer than ${WINDOW} episodes)`, values: rewards };
  });
  byId("compare-title").textContent = `Comparing ${paths.length} run${
    paths.length === 1 ? "" : "s"
  }`;
  const short = tables.some((table) => table.values.reward.length < WINDOW);
  await addChart(
    list,
    lineChart({
      title: short
        ? `Episode reward (${WINDOW}-episode moving average where a run is long enough)`
        : `Episode reward, ${WINDOW}-episode moving average`,
      yTitle: "Total reward per episode",
      curves,
      width: 640,
      height: 320,
    }),
    "compare",
  );
  const runs = tables.map((metrics, k) => ({ label: labels[k], metrics }));
  for (const chart of teamComparisons(runs, { width: 640, height: 320 })) {
    await addChart(list, chart.spec, chart.name);
  }
}
