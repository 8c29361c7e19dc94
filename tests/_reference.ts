/**
 * An independent float64 reference for tests: an MLP forward pass written from scratch,
 * and central finite differences.
 */

/** Forward pass of a ReLU MLP in float64; params in the tfjs Layers flat layout. */
export function forward64(
  sizes: readonly number[],
  params: ArrayLike<number>,
  input: ArrayLike<number>,
): number[] {
  let x = Array.from(input);
  let offset = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const n = sizes[l], m = sizes[l + 1];
    const y = new Array(m).fill(0);
    for (let j = 0; j < m; j++) {
      let sum = params[offset + n * m + j];
      for (let i = 0; i < n; i++) sum += x[i] * params[offset + i * m + j];
      y[j] = l + 2 < sizes.length ? Math.max(0, sum) : sum;
    }
    offset += n * m + m;
    x = y;
  }
  return x;
}

/** Gradient of `loss` at `params` by central differences (step h). */
export function finiteDifferences(
  loss: (params: Float64Array) => number,
  params: ArrayLike<number>,
  h = 1e-5,
): Float64Array {
  const p = Float64Array.from(params);
  const grad = new Float64Array(p.length);
  for (let k = 0; k < p.length; k++) {
    const saved = p[k];
    p[k] = saved + h;
    const up = loss(p);
    p[k] = saved - h;
    const down = loss(p);
    p[k] = saved;
    grad[k] = (up - down) / (2 * h);
  }
  return grad;
}

/** Asserts |a − b| ≤ atol + rtol·|b| elementwise. */
export function assertAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rtol = 1e-3,
  atol = 1e-5,
): void {
  if (actual.length !== expected.length) {
    throw new Error(`length ${actual.length} != ${expected.length}`);
  }
  for (let k = 0; k < actual.length; k++) {
    if (!(Math.abs(actual[k] - expected[k]) <= atol + rtol * Math.abs(expected[k]))) {
      throw new Error(`element ${k}: ${actual[k]} is not close to ${expected[k]}`);
    }
  }
}

/** log softmax(z)[k] in float64. */
export function logSoftmax(z: readonly number[], k: number): number {
  const max = Math.max(...z);
  return z[k] - max - Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
}
