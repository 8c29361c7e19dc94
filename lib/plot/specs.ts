/**
 * Vega-Lite v6 specs of training curves: self-contained (data inlined), titled, labelled.
 *
 * @module
 */
import { band, movingAverage, WINDOW } from "./series.ts";

/** A Vega-Lite spec as plain JSON. */
export type Spec = Record<string, unknown>;

/** The schema every spec declares. */
export const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/** One named curve. */
export interface Curve {
  /** Legend label. */
  name: string;
  /** y value at episode `firstEpisode + k`. */
  values: readonly number[];
  /** Episode of `values[0]`. @default 1 */
  firstEpisode?: number;
  /** Drawn thin and light (raw per-episode values under their average). */
  faint?: boolean;
  /** Its colour (CSS); when every curve has one, they replace the default scheme. */
  color?: string;
}

/** The three panels of the notebook's figure. */
export const PANELS = {
  reward: { column: "reward", title: "Episode reward (shared)", y: "Total reward per episode" },
  critic_loss: {
    column: "critic_loss",
    title: "Critic loss per episode (mean over agents)",
    y: "Mean critic MSE loss per update",
  },
  actor_loss: {
    column: "actor_loss",
    title: "Actor loss per episode (mean over agents)",
    y: "Mean actor loss per update",
  },
} as const;

/** The name of a panel. */
export type Panel = keyof typeof PANELS;

/** The 50-episode moving average of `values`, as a curve starting at episode 50. */
export function movingAverageCurve(name: string, values: readonly number[]): Curve {
  return { name, values: movingAverage(values), firstEpisode: WINDOW };
}

function points(curves: readonly Curve[]): Record<string, number | string>[] {
  return curves.flatMap((curve) =>
    curve.values.map((value, k) => ({
      episode: (curve.firstEpisode ?? 1) + k,
      series: curve.name,
      value,
    }))
  );
}

/** A line chart of several curves, coloured by curve name; curves without values are left out. */
export function lineChart(options: {
  title: string;
  subtitle?: string;
  yTitle: string;
  curves: readonly Curve[];
  width?: number;
  height?: number;
}): Spec {
  // A curve with no points (the moving average of a run shorter than its window) gets no
  // legend entry either.
  const curves = options.curves.filter((c) => c.values.length > 0);
  const faint = curves.filter((c) => c.faint).map((c) => c.name);
  return {
    $schema: SCHEMA,
    title: options.subtitle ? { text: options.title, subtitle: options.subtitle } : options.title,
    width: options.width ?? 420,
    height: options.height ?? 260,
    data: { values: points(curves) },
    mark: { type: "line", interpolate: "linear" },
    encoding: {
      x: { field: "episode", type: "quantitative", title: "Episode" },
      y: { field: "value", type: "quantitative", title: options.yTitle, scale: yScale(curves) },
      color: {
        field: "series",
        type: "nominal",
        title: null,
        scale: curves.length > 0 && curves.every((c) => c.color)
          ? { domain: curves.map((c) => c.name), range: curves.map((c) => c.color) }
          : { domain: curves.map((c) => c.name) },
        legend: { orient: "bottom", direction: "vertical", labelLimit: 600 },
      },
      strokeWidth: {
        condition: { test: { field: "series", oneOf: faint }, value: 1 },
        value: 2,
      },
      opacity: {
        condition: { test: { field: "series", oneOf: faint }, value: 0.45 },
        value: 1,
      },
    },
  };
}

/**
 * The y scale: fitted to the values (not from zero); around a constant, ±0.5 of it, since a
 * scale of one value draws one garbled tick ("0.000000").
 */
function yScale(curves: readonly Curve[]): { zero: false; domain?: [number, number] } {
  const values = curves.flatMap((c) => c.values).filter(Number.isFinite);
  const first = values[0];
  if (values.length === 0 || values.some((v) => v !== first)) return { zero: false };
  return { zero: false, domain: [first - 0.5, first + 0.5] };
}

/** A panel of one run (raw per-episode values and their moving average), plus extra curves. */
export function panelChart(
  panel: Panel,
  run: { name: string; values: readonly number[]; extra?: readonly Curve[] },
): Spec {
  const { name: runName, values, extra = [] } = run;
  const { title, y } = PANELS[panel];
  return lineChart({
    title,
    subtitle: runName,
    yTitle: y,
    curves: [
      { name: "Per episode", values, faint: true },
      movingAverageCurve(`${WINDOW}-episode moving average`, values),
      ...extra,
    ],
  });
}

/** The notebook's figure: the three panels side by side. */
export function dashboard(runName: string, panels: readonly Spec[]): Spec {
  return {
    $schema: SCHEMA,
    title: { text: `Training of ${runName}`, fontSize: 16 },
    hconcat: panels.map((spec) => {
      const { $schema: _, ...rest } = spec;
      return rest;
    }),
    resolve: { scale: { color: "independent" } },
  };
}

/** Per-episode rows of the band chart: mean, mean ± std and min–max over seeds of the moving average. */
function bandRows(seedCurves: readonly (readonly number[])[]) {
  const stats = band(seedCurves.map((values) => movingAverage(values)));
  return stats.mean.map((mean, k) => ({
    episode: WINDOW + k,
    max: stats.max[k],
    mean,
    min: stats.min[k],
    std_high: mean + stats.std[k],
    std_low: mean - stats.std[k],
  }));
}

/** The band chart's three layers (min–max, mean ± std, mean) over `n` seeds. */
function bandLayers(rows: ReturnType<typeof bandRows>, n: number, yTitle: string): Spec[] {
  const x = { field: "episode", type: "quantitative" };
  return [
    {
      data: { values: rows },
      mark: { type: "area", opacity: 0.15 },
      encoding: {
        x: { ...x, title: "Episode" },
        y: {
          field: "min",
          type: "quantitative",
          title: `${yTitle} (${WINDOW}-episode moving average)`,
        },
        y2: { field: "max" },
        color: { datum: `min–max over ${n} seeds` },
      },
    },
    {
      data: { values: rows },
      mark: { type: "area", opacity: 0.35 },
      encoding: {
        x,
        y: { field: "std_low", type: "quantitative" },
        y2: { field: "std_high" },
        color: { datum: "mean ± std over seeds" },
      },
    },
    {
      data: { values: rows },
      mark: { type: "line", strokeWidth: 2 },
      encoding: {
        x,
        y: { field: "mean", type: "quantitative" },
        color: { datum: `mean over ${n} seeds` },
      },
    },
  ];
}

/** A reference curve as a dashed line layer. */
function referenceLayer(ref: Curve): Spec {
  return {
    data: {
      values: ref.values.map((value, k) => ({ episode: (ref.firstEpisode ?? 1) + k, value })),
    },
    mark: { type: "line", strokeWidth: 2, strokeDash: [6, 3] },
    encoding: {
      x: { field: "episode", type: "quantitative" },
      y: { field: "value", type: "quantitative" },
      color: { datum: ref.name },
    },
  };
}

/**
 * Mean over seeds of the 50-episode moving average, a band of mean ± std (sample std over
 * seeds) and a lighter one of min–max; `reference`, if given, as one more line.
 */
export function bandChart(options: {
  title: string;
  seedCurves: readonly (readonly number[])[];
  reference?: Curve;
  /** @default "Total reward per episode" */
  yTitle?: string;
}): Spec {
  const n = options.seedCurves.length;
  const yTitle = options.yTitle ?? "Total reward per episode";
  const layers = bandLayers(bandRows(options.seedCurves), n, yTitle);
  const names = [`min–max over ${n} seeds`, "mean ± std over seeds", `mean over ${n} seeds`];
  const colors = ["#c6dbef", "#6baed6", "#08519c"];
  if (options.reference) {
    layers.push(referenceLayer(options.reference));
    names.push(options.reference.name);
    colors.push("#e6550d");
  }
  return {
    $schema: SCHEMA,
    title: options.title,
    width: 480,
    height: 300,
    layer: layers,
    encoding: {
      color: {
        type: "nominal",
        title: null,
        scale: { domain: names, range: colors },
        legend: { orient: "bottom", direction: "vertical", labelLimit: 600 },
      },
    },
  };
}

/** JSON with object keys sorted at every level, so snapshots and diffs are stable. */
export function stableStringify(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(
        Object.keys(v as Record<string, unknown>).sort().map((
          k,
        ) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value), null, 1) + "\n";
}
