/// <reference lib="dom" />
/**
 * The `#train` view: trains a preset in a Web Worker (`train_worker.ts`, served as
 * `./train_worker.js`) with the project's library, draws the reward curve as it goes, and
 * offers the zipped run directory (which `deno task evaluate --run <unzipped dir>` accepts).
 *
 * @module
 */
import maddpgJson from "../configs/maddpg.json" with { type: "json" };
import { DEFAULT_TRAIN_CONFIG } from "../lib/config_fields.ts";
import type { TrainConfig } from "../lib/config_fields.ts";
import type { EpisodeMetrics } from "../lib/train/episode_log.ts";
import { clearError as clearPageError, showError as showPageError } from "./dom.ts";
import type { BrowserSummary, StartMessage, WorkerMessage } from "./train_worker.ts";

/** What `#train-preset` offers. */
export interface TrainPreset {
  /** Shown in the select. */
  label: string;
  /** The whole config. */
  config: TrainConfig;
}

/**
 * The presets. `grid-maddpg` is `configs/maddpg.json` (imported) over the defaults: MADDPG on
 * the 5×5 grid world, 200 episodes. `spread-small` is MADDPG on `simple_spread_v3` with a small
 * budget.
 */
export const TRAIN_PRESETS: Record<string, TrainPreset> = {
  "grid-maddpg": {
    label: "MADDPG, grid world (configs/maddpg.json, 200 episodes)",
    config: {
      ...DEFAULT_TRAIN_CONFIG,
      ...(maddpgJson as Partial<TrainConfig>),
    },
  },
  "spread-small": {
    label: "MADDPG, simple_spread_v3 (60 episodes, small networks)",
    config: {
      ...DEFAULT_TRAIN_CONFIG,
      ...(maddpgJson as Partial<TrainConfig>),
      env: "simple_spread_v3",
      episodes: 60,
      maxSteps: 25,
      batchSize: 64,
      bufferSize: 20_000,
      actorHidden: [64, 64],
      criticHidden: [64, 64],
      epsilonDecay: 1000,
    },
  },
};

/** Options of {@linkcode train}. */
export interface TrainViewOptions {
  /** A key of {@linkcode TRAIN_PRESETS}. */
  preset: string;
  /** Episodes (default: the preset's). */
  episodes?: number;
  /** Seed (default: the preset's). */
  seed?: number;
}

/** What {@linkcode train} resolves with. */
export interface TrainViewResult {
  /** Episodes trained. */
  episodes: number;
  /** Whether a greedy probe episode succeeded during training. */
  greedySuccess: boolean;
  /** The first episode after which one did (null: none). */
  firstGreedySuccess: number | null;
}

const SVG_NS = "http://www.w3.org/2000/svg";
const CHART_WIDTH = 640, CHART_HEIGHT = 240, MARGIN = 36;

let lastZip: Uint8Array | undefined;
let lastUrl: string | undefined;
let running = false;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = Object.assign(document.createElement(tag), props);
  element.append(...children);
  return element;
}

function byId<T extends HTMLElement>(id: string): T | null {
  return document.getElementById(id) as T | null;
}

/**
 * Builds the view in `container` (itself when it is `#view-train`, else a new `#view-train`
 * section appended to it).
 */
export function mountTrainView(container: HTMLElement): HTMLElement {
  const view = trainSection(container);
  const controls = trainControls();
  view.replaceChildren(
    el(
      "div",
      { className: "view-head" },
      el("h2", { textContent: "Train in the browser" }),
    ),
    el(
      "p",
      { className: "muted" },
      "Trains in a Web Worker with the project's library (tfjs, wasm backend); the zipped run " +
        "directory is accepted by deno task evaluate --run <unzipped dir>.",
    ),
    controls.row,
    el("p", { id: "train-status", textContent: "idle", ariaLive: "polite" }),
    el("div", { id: "train-chart" }),
    el("p", {}, controls.download),
  );
  drawChart(byIdIn(view, "train-chart"), []);
  if (lastUrl) showDownload(controls.download, lastUrl, lastZip!.byteLength);
  return view;
}

/** `container` when it is `#view-train`, else the page's `#view-train` (made if missing). */
function trainSection(container: HTMLElement): HTMLElement {
  if (container.id === "view-train") return container;
  const view = byId("view-train") ?? el("section", { id: "view-train" });
  if (!view.parentElement) container.append(view);
  return view;
}

/** A number input for a whole number of at least `min`, empty meaning the preset's value. */
function wholeNumberInput(
  id: string,
  what: string,
  min: number,
): HTMLInputElement {
  const input = el("input", {
    id,
    type: "number",
    min: String(min),
    step: "1",
    title: `${what} (empty: the preset's)`,
  });
  input.style.width = "6em";
  return input;
}

/** The preset, episodes and seed controls, the Train button, and the (hidden) download link. */
function trainControls(): { row: HTMLElement; download: HTMLAnchorElement } {
  const select = el("select", { id: "train-preset" });
  for (const [name, preset] of Object.entries(TRAIN_PRESETS)) {
    select.append(el("option", { value: name, textContent: preset.label }));
  }
  const episodes = wholeNumberInput("train-episodes", "episodes", 1);
  const seed = wholeNumberInput("train-seed", "seed", 0);
  const showPresetValues = () => {
    const config = TRAIN_PRESETS[select.value].config;
    episodes.placeholder = String(config.episodes);
    seed.placeholder = String(config.seed);
  };
  showPresetValues();
  select.addEventListener("change", () => {
    // Another preset: its own values, not those the last run used.
    episodes.value = "";
    seed.value = "";
    showPresetValues();
  });
  const start = el("button", {
    id: "train-start",
    type: "button",
    textContent: "Train",
  });
  const download = el("a", {
    id: "train-download",
    hidden: true,
    textContent: "run.zip",
  });
  download.download = "run.zip";
  start.addEventListener("click", () => {
    const parse = (input: HTMLInputElement) =>
      input.value.trim() === "" ? undefined : Number(input.value);
    train({
      preset: select.value,
      episodes: parse(episodes),
      seed: parse(seed),
    }).catch(() => {
      // Shown in #train-status and #error by train().
    });
  });
  const row = el(
    "div",
    { className: "controls" },
    el("label", {}, "preset ", select),
    " ",
    el("label", {}, "episodes ", episodes),
    " ",
    el("label", {}, "seed ", seed),
    " ",
    start,
  );
  return { row, download };
}

function byIdIn<T extends HTMLElement>(root: HTMLElement, id: string): T {
  return root.querySelector(`#${id}`) as T;
}

/** Moving average over the last `window` values. */
function movingAverage(values: readonly number[], window: number): number[] {
  let sum = 0;
  return values.map((v, i) => {
    sum += v;
    if (i >= window) sum -= values[i - window];
    return sum / Math.min(i + 1, window);
  });
}

/** The plot area inside the chart's margins. */
const PLOT = {
  left: MARGIN + 14,
  right: CHART_WIDTH - 10,
  top: 10,
  bottom: CHART_HEIGHT - MARGIN,
};

/** Appends an SVG element with `attrs` (and `text`) to the chart. */
type AddSvg = (
  tag: string,
  attrs: Record<string, string | number>,
  text?: string,
) => Element;

/** Where episode `i` of `n` and a reward between `lo` and `hi` are drawn. */
interface ChartScale {
  lo: number;
  hi: number;
  x(i: number): number;
  y(reward: number): number;
}

/** Draws the reward per episode (and its 10-episode moving average) into `chart`. */
function drawChart(
  chart: HTMLElement | null,
  history: readonly EpisodeMetrics[],
): void {
  if (!chart) return;
  const svg = document.createElementNS(SVG_NS, "svg");
  const svgAttrs = {
    viewBox: `0 0 ${CHART_WIDTH} ${CHART_HEIGHT}`,
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    role: "img",
    "aria-label": "reward per episode",
  };
  for (const [k, v] of Object.entries(svgAttrs)) svg.setAttribute(k, String(v));
  const add: AddSvg = (tag, attrs, text) => {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    svg.append(node);
    return node;
  };
  const rewards = history.map((m) => m.reward);
  const scale = chartScale(rewards);
  drawAxes(add, scale, rewards.length);
  if (rewards.length > 0) {
    const points = (values: readonly number[]) =>
      values.map((v, i) => `${scale.x(i).toFixed(1)},${scale.y(v).toFixed(1)}`)
        .join(" ");
    const line = { fill: "none" };
    add("polyline", {
      ...line,
      class: "reward",
      points: points(rewards),
      stroke: "#bbb",
      "stroke-width": 1,
    });
    add("polyline", {
      ...line,
      class: "reward-mean",
      points: points(movingAverage(rewards, 10)),
      stroke: "#1f77b4",
      "stroke-width": 2,
    });
  }
  chart.replaceChildren(svg);
}

/** The scale that fits `rewards` and zero. */
function chartScale(rewards: readonly number[]): ChartScale {
  const n = Math.max(rewards.length, 2);
  const lo = Math.min(...rewards, 0);
  let hi = Math.max(...rewards, 0);
  if (hi - lo < 1e-9) hi = lo + 1;
  const { left, right, top, bottom } = PLOT;
  return {
    lo,
    hi,
    x: (i) => left + (i / (n - 1)) * (right - left),
    y: (r) => bottom - ((r - lo) / (hi - lo)) * (bottom - top),
  };
}

/** The frame, the zero line, and the labels of both axes. */
function drawAxes(add: AddSvg, scale: ChartScale, episodes: number): void {
  const { left, right, top, bottom } = PLOT;
  const small = { "font-size": 11 };
  add("rect", {
    x: left,
    y: top,
    width: right - left,
    height: bottom - top,
    fill: "none",
    stroke: "#ccc",
  });
  add("line", {
    x1: left,
    x2: right,
    y1: scale.y(0),
    y2: scale.y(0),
    stroke: "#eee",
  });
  add(
    "text",
    { ...small, x: left - 4, y: top + 10, "text-anchor": "end" },
    fmt(scale.hi),
  );
  add(
    "text",
    { ...small, x: left - 4, y: bottom, "text-anchor": "end" },
    fmt(scale.lo),
  );
  add("text", { ...small, x: left, y: bottom + 14 }, "1");
  add(
    "text",
    { ...small, x: right, y: bottom + 14, "text-anchor": "end" },
    String(Math.max(episodes, 1)),
  );
  add(
    "text",
    {
      x: (left + right) / 2,
      y: bottom + 28,
      "text-anchor": "middle",
      "font-size": 12,
    },
    "episode (reward: grey; 10-episode mean: blue)",
  );
}

function fmt(value: number): string {
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function showDownload(
  link: HTMLAnchorElement | null,
  url: string,
  bytes: number,
): void {
  if (!link) return;
  link.href = url;
  link.download = "run.zip";
  link.textContent = `run.zip (${(bytes / 1024).toFixed(0)} KB): the run directory`;
  link.hidden = false;
}

function showError(message: string): void {
  const status = byId("train-status");
  if (status) status.textContent = `error: ${message}`;
  try {
    showPageError(message);
  } catch {
    // A page without #error: the status says it.
  }
}

/** The config of `options` (preset, episodes, seed), or an error message. */
function trainConfig(options: TrainViewOptions): TrainConfig | string {
  const preset = TRAIN_PRESETS[options.preset];
  if (!preset) {
    return `unknown preset ${JSON.stringify(options.preset)} (known: ${
      Object.keys(TRAIN_PRESETS).join(", ")
    })`;
  }
  const config: TrainConfig = { ...preset.config };
  if (options.episodes !== undefined) config.episodes = options.episodes;
  if (options.seed !== undefined) config.seed = options.seed;
  if (!Number.isInteger(config.episodes) || config.episodes < 1) {
    return `episodes must be a positive integer, got ${options.episodes}`;
  }
  if (!Number.isInteger(config.seed) || config.seed < 0) {
    return `seed must be a non-negative integer, got ${options.seed}`;
  }
  return config;
}

/** The view's elements a run updates (any may be missing when the view is not mounted). */
interface TrainUi {
  start: HTMLButtonElement | null;
  chart: HTMLElement | null;
  link: HTMLAnchorElement | null;
  setStatus(text: string): void;
}

/** Shows what this run uses, whoever started it, and resets the status, chart and link. */
function prepareUi(preset: string, config: TrainConfig): TrainUi {
  const select = byId<HTMLSelectElement>("train-preset");
  if (select) select.value = preset;
  const episodesInput = byId<HTMLInputElement>("train-episodes");
  if (episodesInput) episodesInput.value = String(config.episodes);
  const seedInput = byId<HTMLInputElement>("train-seed");
  if (seedInput) seedInput.value = String(config.seed);
  const status = byId("train-status");
  const ui: TrainUi = {
    start: byId<HTMLButtonElement>("train-start"),
    chart: byId("train-chart"),
    link: byId<HTMLAnchorElement>("train-download"),
    setStatus: (text) => {
      if (status) status.textContent = text;
    },
  };
  if (ui.start) ui.start.disabled = true;
  if (ui.link) ui.link.hidden = true;
  ui.setStatus(
    `starting: ${config.episodes} episodes of ${config.algo} on ${config.env}`,
  );
  drawChart(ui.chart, []);
  return ui;
}

/**
 * Trains `options.preset` in a Web Worker, updating `#train-status`, `#train-chart` and, when
 * done, `#train-download` (when the view is mounted). Resolves when training is done.
 */
export function train(options: TrainViewOptions): Promise<TrainViewResult> {
  try {
    clearPageError(); // the messages of earlier attempts no longer hold
  } catch {
    // A page without #error.
  }
  const config = trainConfig(options);
  if (typeof config === "string") {
    showError(config);
    return Promise.reject(new Error(config));
  }
  if (running) {
    return Promise.reject(new Error("a training run is already in progress"));
  }
  running = true;
  return runWorker(config, prepareUi(options.preset, config));
}

/** What a run has shown so far. */
interface RunProgress {
  history: EpisodeMetrics[];
  firstGreedySuccess: number | null;
  /** `performance.now()` of the last redraw of the chart. */
  lastDraw: number;
}

/** Runs the worker and follows its messages until it is done or fails. */
function runWorker(config: TrainConfig, ui: TrainUi): Promise<TrainViewResult> {
  const progress: RunProgress = {
    history: [],
    firstGreedySuccess: null,
    lastDraw: 0,
  };
  const worker = new Worker("./train_worker.js", { type: "module" });
  return new Promise<TrainViewResult>((resolve, reject) => {
    const finish = () => {
      running = false;
      worker.terminate();
      if (ui.start) ui.start.disabled = false;
    };
    const fail = (message: string) => {
      finish();
      showError(message);
      reject(new Error(message));
    };
    worker.addEventListener("error", (event) => {
      event.preventDefault();
      fail(
        `training worker: ${event.message || "failed to load ./train_worker.js"}`,
      );
    });
    worker.addEventListener(
      "messageerror",
      () => fail("training worker: unreadable message"),
    );
    worker.addEventListener("message", (event: MessageEvent<WorkerMessage>) => {
      const message = event.data;
      if (message.type === "ready") {
        ui.setStatus(
          `training on tfjs ${message.runtime.backend} (${config.episodes} episodes)`,
        );
      } else if (message.type === "episode") {
        showEpisode(message.metrics, progress, config, ui);
      } else if (message.type === "error") fail(message.message);
      else if (message.type === "done") {
        const result = showDone(message.files, message.summary, progress, ui);
        finish();
        resolve(result);
      }
    });
    const startMessage: StartMessage = { type: "start", config };
    worker.postMessage(startMessage);
  });
}

/** Records episode `m`, shows it in the status and redraws the chart (at most every 100 ms). */
function showEpisode(
  m: EpisodeMetrics,
  progress: RunProgress,
  config: TrainConfig,
  ui: TrainUi,
): void {
  progress.history.push(m);
  if (m.greedySuccess && progress.firstGreedySuccess === null) {
    progress.firstGreedySuccess = m.episode;
  }
  const first = progress.firstGreedySuccess;
  const greedy = first === null ? "" : ` (greedy success at episode ${first})`;
  ui.setStatus(
    `episode ${m.episode}/${config.episodes}, reward ${m.reward.toFixed(2)}${greedy}`,
  );
  const now = performance.now();
  if (now - progress.lastDraw > 100 || m.episode === config.episodes) {
    drawChart(ui.chart, progress.history);
    progress.lastDraw = now;
  }
}

/** Keeps the run's zip, offers it for download, shows the final chart and status. */
function showDone(
  files: Uint8Array,
  summary: BrowserSummary,
  progress: RunProgress,
  ui: TrainUi,
): TrainViewResult {
  const first = summary.firstGreedySuccess ?? progress.firstGreedySuccess;
  lastZip = files;
  if (lastUrl) URL.revokeObjectURL(lastUrl);
  lastUrl = URL.createObjectURL(
    new Blob([files as Uint8Array<ArrayBuffer>], { type: "application/zip" }),
  );
  showDownload(ui.link, lastUrl, files.byteLength);
  drawChart(ui.chart, progress.history);
  const seconds = summary.wallSeconds.toFixed(1);
  ui.setStatus(
    first === null
      ? `no greedy success in ${summary.episodes} episodes (${seconds} s): done`
      : `greedy success at episode ${first} of ${summary.episodes} (${seconds} s): done`,
  );
  return {
    episodes: summary.episodes,
    greedySuccess: first !== null,
    firstGreedySuccess: first,
  };
}

/** The zip of the last trained run directory, base64-encoded (undefined before any). */
export function lastDownload(): { name: string; base64: string } | undefined {
  if (!lastZip) return undefined;
  let binary = "";
  for (let i = 0; i < lastZip.length; i += 0x8000) {
    binary += String.fromCharCode(...lastZip.subarray(i, i + 0x8000));
  }
  return { name: "run.zip", base64: btoa(binary) };
}
