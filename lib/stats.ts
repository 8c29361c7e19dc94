/**
 * The few statistics the project reports: sums and means (left to right, so results are the
 * same bits everywhere), the sample standard deviation and the median.
 *
 * @module
 */

/** Sum, left to right. */
export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/**
 * Mean, 0 for no values.
 *
 * @example
 * ```ts
 * import { mean, median, sampleStd } from "./stats.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([mean([1, 2, 6]), median([5, 1, 2, 9]), sampleStd([2, 4, 6])], [3, 3.5, 2]);
 * assert.equal(mean([]), 0);
 * ```
 */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : sum(values) / values.length;
}

/** Sample standard deviation (n − 1), 0 for fewer than two values. */
export function sampleStd(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1));
}

/** Median (the mean of the middle two for an even count); NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
