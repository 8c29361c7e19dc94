/**
 * Gumbel-Softmax (Jang et al. 2017; Maddison et al. 2017) on rows of logits, in plain JS:
 * sampling from uniform numbers, and the backward pass.
 *
 * @module
 */

/** Floor added inside the logs, as common PyTorch implementations do, so u = 0 is finite. */
const EPSILON = 1e-20;

/** The shape and temperature of a Gumbel-Softmax over rows of logits. */
export interface GumbelSoftmaxOptions {
  /** Logits per row (the number of actions). */
  n: number;
  /** Temperature T of `softmax((z + g) / T)`. */
  temperature: number;
}

/** Gumbel(0, 1) noise from a uniform number in [0, 1). */
export function gumbelNoise(u: number): number {
  return -Math.log(-Math.log(u + EPSILON) + EPSILON);
}

/**
 * Samples `y = softmax((z + g) / temperature)` for each row of `logits` (`[rows, n]`), with
 * `g` Gumbel noise from `uniforms` (one per logit). Returns the soft samples; with `hard`,
 * `sample` is the one-hot of each row's argmax (the straight-through forward value) and
 * `soft` keeps the soft sample for the backward pass.
 */
export function gumbelSoftmax(
  logits: ArrayLike<number>,
  uniforms: ArrayLike<number>,
  options: GumbelSoftmaxOptions & { hard: boolean },
): { sample: Float32Array; soft: Float32Array } {
  const { n, temperature, hard } = options;
  const rows = logits.length / n;
  const soft = new Float32Array(logits.length);
  const scores = new Float64Array(n);
  for (let b = 0; b < rows; b++) {
    let max = -Infinity;
    for (let k = 0; k < n; k++) {
      scores[k] = (logits[b * n + k] + gumbelNoise(uniforms[b * n + k])) / temperature;
      max = Math.max(max, scores[k]);
    }
    let total = 0;
    for (let k = 0; k < n; k++) total += scores[k] = Math.exp(scores[k] - max);
    for (let k = 0; k < n; k++) soft[b * n + k] = scores[k] / total;
  }
  if (!hard) return { sample: soft, soft };
  const sample = new Float32Array(logits.length);
  for (let b = 0; b < rows; b++) {
    let best = 0;
    for (let k = 1; k < n; k++) if (soft[b * n + k] > soft[b * n + best]) best = k;
    sample[b * n + best] = 1;
  }
  return { sample, soft };
}

/**
 * dLoss/dlogits from dLoss/dy through `y = softmax((z + g) / temperature)`:
 * `(1/T) · y ⊙ (dy − ⟨dy, y⟩)` per row. The straight-through estimator uses this same
 * soft gradient for the hard sample.
 */
export function gumbelSoftmaxBackward(
  soft: ArrayLike<number>,
  outputGrad: ArrayLike<number>,
  options: GumbelSoftmaxOptions,
): Float32Array {
  const { n, temperature } = options;
  const grad = new Float32Array(soft.length);
  for (let b = 0; b < soft.length / n; b++) {
    let dot = 0;
    for (let k = 0; k < n; k++) dot += outputGrad[b * n + k] * soft[b * n + k];
    for (let k = 0; k < n; k++) {
      grad[b * n + k] = soft[b * n + k] * (outputGrad[b * n + k] - dot) / temperature;
    }
  }
  return grad;
}

/** A standard normal number from two uniforms in [0, 1) (Box–Muller, cosine branch). */
export function normalFromUniforms(u1: number, u2: number): number {
  return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
}
