/**
 * How sure a mean over seeds is: its confidence interval, a one-sample t-test against a
 * published number, and Welch's two-sample test against another code's runs (Student's t from
 * jStat). Kept apart from `stats.ts`, which the browser page bundles, since only the
 * experiment tables need it.
 *
 * @module
 */
import jStat from "jstat";
import { mean, sampleStd } from "./stats.ts";

/** The part of jStat used here (the package ships no types). */
interface StudentT {
  /** Inverse of the cumulative distribution with `dof` degrees of freedom. */
  inv(p: number, dof: number): number;
  /** Cumulative distribution with `dof` degrees of freedom. */
  cdf(x: number, dof: number): number;
}

const studentT: StudentT = (jStat as unknown as { studentt: StudentT }).studentt;

/** A two-sided confidence interval of a mean. */
export interface MeanInterval {
  mean: number;
  low: number;
  high: number;
}

/**
 * The two-sided `level` confidence interval of the mean of `values` (Student's t with n − 1
 * degrees of freedom); null for fewer than two values, which have no spread to go by.
 *
 * @example
 * ```ts
 * import { meanInterval } from "./confidence.ts";
 * import assert from "node:assert/strict";
 * const { mean, low, high } = meanInterval([1, 2, 3, 4, 5])!; // t(0.975, 4) = 2.7764…
 * assert.deepEqual([mean, low.toFixed(4), high.toFixed(4)], [3, "1.0368", "4.9632"]);
 * assert.equal(meanInterval([1]), null);
 * ```
 */
export function meanInterval(values: readonly number[], level = 0.95): MeanInterval | null {
  if (values.length < 2) return null;
  const m = mean(values);
  const half = studentT.inv(1 - (1 - level) / 2, values.length - 1) * standardError(values);
  return { mean: m, low: m - half, high: m + half };
}

/**
 * Two-sided p-value of a one-sample t-test of the mean of `values` against `value`: how often
 * seeds as many and as spread would put their mean at least this far from `value` if the true
 * mean were `value`. NaN for fewer than two values.
 *
 * @example
 * ```ts
 * import { oneSampleP } from "./confidence.ts";
 * import assert from "node:assert/strict";
 * assert.equal(oneSampleP([1, 2, 3, 4, 5], 3).toFixed(4), "1.0000");
 * assert.equal(oneSampleP([1, 2, 3, 4, 5], 0).toFixed(4), "0.0132"); // t = 4.2426, 4 dof
 * ```
 */
export function oneSampleP(values: readonly number[], value: number): number {
  if (values.length < 2) return NaN;
  const t = (mean(values) - value) / standardError(values);
  return 2 * studentT.cdf(-Math.abs(t), values.length - 1);
}

/** Welch's two-sample comparison of two means: their difference, its interval, and p. */
export interface DifferenceTest {
  /** mean(a) − mean(b). */
  difference: number;
  /** The difference's two-sided interval at the level asked for. */
  low: number;
  high: number;
  /** Two-sided p of Welch's t-test (no equal variances assumed). */
  p: number;
}

/**
 * Welch's t-test of mean(`a`) − mean(`b`), with the difference's `level` interval
 * (Welch–Satterthwaite degrees of freedom); null when either side has fewer than two values.
 *
 * @example
 * ```ts
 * import { welch } from "./confidence.ts";
 * import assert from "node:assert/strict";
 * const { difference, low, high, p } = welch([1, 2, 3, 4, 5], [4, 6, 8])!; // 3.53 dof, as SciPy
 * assert.deepEqual(
 *   [difference, low.toFixed(3), high.toFixed(3), p.toFixed(4)],
 *   [-3, "-6.964", "0.964", "0.1000"],
 * );
 * assert.equal(welch([1, 2], [3]), null);
 * ```
 */
export function welch(
  a: readonly number[],
  b: readonly number[],
  level = 0.95,
): DifferenceTest | null {
  if (a.length < 2 || b.length < 2) return null;
  const [va, vb] = [standardError(a) ** 2, standardError(b) ** 2];
  const se = Math.sqrt(va + vb);
  const dof = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const difference = mean(a) - mean(b);
  const half = studentT.inv(1 - (1 - level) / 2, dof) * se;
  const p = 2 * studentT.cdf(-Math.abs(difference / se), dof);
  return { difference, low: difference - half, high: difference + half, p };
}

function standardError(values: readonly number[]): number {
  return sampleStd(values) / Math.sqrt(values.length);
}
