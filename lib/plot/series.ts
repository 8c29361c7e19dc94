/**
 * Moving averages and statistics across seeds, as the notebook and the band charts compute.
 *
 * @module
 */
import { mean, sampleStd } from "../stats.ts";

/** The notebook's window. */
export const WINDOW = 50;

/**
 * `np.convolve(values, np.ones(window) / window, 'valid')`: one mean per full window, the
 * first ending at index `window − 1` (so plotted from episode `window`). Empty when there
 * are fewer values than the window.
 */
export function movingAverage(values: readonly number[], window = WINDOW): number[] {
  const out: number[] = [];
  for (let end = window - 1; end < values.length; end++) {
    let sum = 0;
    for (let k = end - window + 1; k <= end; k++) sum += values[k] / window;
    out.push(sum);
  }
  return out;
}

/** Per-index statistics across series of equal length. */
export interface Band {
  /** Mean across series. */
  mean: number[];
  /** Sample standard deviation across series (n − 1; 0 for one series). */
  std: number[];
  /** Minimum across series. */
  min: number[];
  /** Maximum across series. */
  max: number[];
}

/** Mean, sample std, min and max across `series` at each index (up to the shortest). */
export function band(series: readonly (readonly number[])[]): Band {
  const length = Math.min(...series.map((s) => s.length));
  const out: Band = { mean: [], std: [], min: [], max: [] };
  for (let i = 0; i < length; i++) {
    const column = series.map((s) => s[i]);
    out.mean.push(mean(column));
    out.std.push(sampleStd(column));
    out.min.push(Math.min(...column));
    out.max.push(Math.max(...column));
  }
  return out;
}

/** Mean of the last (up to) `count` values. */
export function tailMean(values: readonly number[], count = WINDOW): number {
  return mean(values.slice(-count));
}
