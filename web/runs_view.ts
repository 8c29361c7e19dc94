/// <reference lib="dom" />
/**
 * The runs view: `runs.json` as a table with filters by environment and algorithm, links to
 * each run's charts and replay, and checkboxes to compare runs.
 *
 * @module
 */
import type { RunEntry } from "../lib/serve/run_index.ts";
import { byId, fetchJson, h } from "./dom.ts";
import { routeHash } from "./route.ts";

export type { RunEntry };

/** Fetches `runs.json`, the `listRuns()` index of the results directory. */
export async function fetchRuns(): Promise<RunEntry[]> {
  const runs = await fetchJson("runs.json");
  if (!Array.isArray(runs)) throw new Error("runs.json holds no list of runs");
  return runs.filter((run): run is RunEntry => typeof run?.path === "string");
}

/** The run's display name. */
export function runName(run: RunEntry): string {
  return run.name || run.path;
}

function formatNumber(value: number | null | undefined, digits: number): string {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "–";
}

function formatRate(value: number | null | undefined): string {
  return typeof value === "number" && Number.isFinite(value) ? `${Math.round(value * 100)} %` : "–";
}

/** Puts `values` into a filter `select`, keeping its choice when still offered. */
function fillFilter(select: HTMLSelectElement, values: string[]): void {
  const previous = select.value;
  select.replaceChildren(
    h("option", { value: "" }, "all"),
    ...values.map((value) => h("option", { value }, value)),
  );
  select.value = values.includes(previous) ? previous : "";
}

function row(run: RunEntry, onSelect: (event: Event) => void): HTMLTableRowElement {
  const problems = run.problems ?? [];
  return h(
    "tr",
    { "data-path": run.path, class: problems.length > 0 ? "has-problems" : undefined },
    h("td", {}, selectBox(run, onSelect)),
    nameCell(run, problems),
    h("td", {}, run.algo ?? "–"),
    h("td", {}, run.env ?? "–"),
    h("td", { class: "num" }, run.seed?.toString() ?? "–"),
    episodesCell(run, problems),
    rewardCell(run),
    h("td", { class: "num" }, formatRate(run.greedySuccessRate)),
    linksCell(run),
  );
}

function selectBox(run: RunEntry, onSelect: (event: Event) => void): HTMLInputElement {
  return h("input", {
    type: "checkbox",
    class: "run-select",
    value: run.path,
    "aria-label": `select ${runName(run)}`,
    checked: selected.has(run.path),
    onchange: onSelect,
  });
}

function nameCell(run: RunEntry, problems: readonly string[]): HTMLTableCellElement {
  return h(
    "td",
    { class: "name" },
    h("a", { href: routeHash({ view: "charts", path: run.path }) }, runName(run)),
    run.experiment ? h("span", { class: "muted" }, ` (${run.experiment})`) : null,
    ...problems.map((problem) => h("div", { class: "problem" }, problem)),
  );
}

function episodesCell(run: RunEntry, problems: readonly string[]): HTMLTableCellElement {
  // Every finished run has both numbers of its summary.json.
  const unfinished = run.finalReward === null && run.greedySuccessRate === null &&
    problems.length === 0;
  return h(
    "td",
    { class: "num" },
    run.episodes?.toString() ?? "–",
    unfinished
      ? h(
        "div",
        { class: "muted", title: "no summary.json: in progress, or stopped (train --resume)" },
        "unfinished",
      )
      : null,
  );
}

function rewardCell(run: RunEntry): HTMLTableCellElement {
  const teams = run.finalTeamReturns;
  return h(
    "td",
    { class: "num" },
    formatNumber(run.finalReward, 2),
    teams
      ? h(
        "div",
        { class: "muted teams", title: "each team's mean return per agent, last 50 episodes" },
        `adversaries ${formatNumber(teams.adversaries, 2)} · good ${formatNumber(teams.good, 2)}`,
      )
      : null,
  );
}

function linksCell(run: RunEntry): HTMLTableCellElement {
  const replay = run.hasActors === false
    ? h("span", { class: "muted", title: "the run has no saved actors" }, "replay")
    : h("a", { href: routeHash({ view: "replay", path: run.path }) }, "replay");
  return h(
    "td",
    { class: "links" },
    h("a", { href: routeHash({ view: "charts", path: run.path }) }, "charts"),
    " · ",
    replay,
  );
}

let runs: RunEntry[] = [];
/** The runs ticked for comparison; kept while the filters hide some of them. */
const selected = new Set<string>();

/** Draws the table of the runs that pass the filters. */
function render(): void {
  const env = byId<HTMLSelectElement>("filter-env").value;
  const algo = byId<HTMLSelectElement>("filter-algo").value;
  const shown = runs.filter((run) => (!env || run.env === env) && (!algo || run.algo === algo));
  const compare = byId<HTMLButtonElement>("runs-compare");
  const updateCompare = () => {
    // As `plot --compare`: two or more runs.
    compare.disabled = selected.size < 2;
    compare.textContent = selected.size > 0 ? `Compare (${selected.size})` : "Compare";
    compare.title = selected.size < 2 ? "Tick two or more runs to compare them" : "";
  };
  const onSelect = (event: Event) => {
    const box = event.target as HTMLInputElement;
    if (box.checked) selected.add(box.value);
    else selected.delete(box.value);
    updateCompare();
  };
  byId("runs-table").querySelector("tbody")!.replaceChildren(
    ...shown.map((run) => row(run, onSelect)),
  );
  byId("runs-empty").hidden = runs.length > 0;
  byId("runs-table").hidden = runs.length === 0;
  byId("runs-none-match").hidden = runs.length === 0 || shown.length > 0;
  updateCompare();
}

/** Wires the filters and the compare button (once). */
export function initRunsView(): void {
  byId("filter-env").addEventListener("change", render);
  byId("filter-algo").addEventListener("change", render);
  byId("runs-compare").addEventListener("click", () => {
    // In the table's order, hidden ones included.
    const paths = runs.map((run) => run.path).filter((path) => selected.has(path));
    if (paths.length > 1) location.hash = routeHash({ view: "compare", paths });
  });
}

/** Fetches `runs.json` and shows the table. */
export async function showRuns(): Promise<void> {
  runs = await fetchRuns();
  for (const path of selected) if (!runs.some((run) => run.path === path)) selected.delete(path);
  const distinct = (key: "env" | "algo") =>
    [...new Set(runs.map((run) => run[key]).filter((v): v is string => !!v))].sort();
  fillFilter(byId<HTMLSelectElement>("filter-env"), distinct("env"));
  fillFilter(byId<HTMLSelectElement>("filter-algo"), distinct("algo"));
  render();
}
