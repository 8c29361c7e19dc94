/**
 * An independent float64 reference for tests, written from scratch and importing nothing
 * from lib/: an MLP forward pass, central finite differences, categorical and Gumbel-Softmax
 * sampling, gradient clipping and an Adam step.
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

/** A float64 forward pass with any activations, written independently of lib/nn. */
export function forwardActivated(
  sizes: readonly number[],
  activations: readonly string[],
  params: ArrayLike<number>,
  input: ArrayLike<number>,
): number[] {
  const f: Record<string, (x: number) => number> = {
    relu: (x) => (x > 0 ? x : 0),
    tanh: Math.tanh,
    sigmoid: (x) => 1 / (1 + Math.exp(-x)),
    linear: (x) => x,
  };
  let x = Array.from(input), offset = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const n = sizes[l], m = sizes[l + 1];
    x = Array.from({ length: m }, (_, j) => {
      let sum = params[offset + n * m + j];
      for (let i = 0; i < n; i++) sum += x[i] * params[offset + i * m + j];
      return f[activations[l]](sum);
    });
    offset += n * m + m;
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

/** softmax(z) in float64 through log-sum-exp: exp(z_k − logΣexp z). */
export function softmax64(z: ArrayLike<number>): number[] {
  const values = Array.from(z);
  const max = Math.max(...values);
  const logTotal = max + Math.log(values.reduce((s, v) => s + Math.exp(v - max), 0));
  return values.map((v) => Math.exp(v - logTotal));
}

/**
 * A draw from softmax(logits) given u uniform in [0, 1), computed another way than
 * `sampleCategorical`: the float64 probabilities are accumulated into a CDF, and the action
 * is the number of CDF values (all but the last, which is 1) at or below u.
 */
export function referenceCategorical(logits: ArrayLike<number>, u: number): number {
  const p = softmax64(logits);
  let cdf = 0, below = 0;
  for (let k = 0; k + 1 < p.length; k++) {
    cdf += p[k];
    if (cdf <= u) below++;
  }
  return below;
}

/**
 * Gumbel-Softmax of one row in float64, computed another way than `gumbelSoftmax`: with
 * E_k = −log u_k (an Exp(1) draw) the Gumbel noise is −log E_k, so
 * y_k ∝ exp(z_k / T) · E_k^(−1/T). Returns the soft sample and the hard one-hot of its
 * argmax (the first on ties).
 */
export function referenceGumbelSoftmax(
  logits: ArrayLike<number>,
  uniforms: ArrayLike<number>,
  temperature: number,
): { soft: number[]; hard: number[] } {
  const scores = Array.from(
    logits,
    (z, k) => z / temperature - Math.log(-Math.log(uniforms[k])) / temperature,
  );
  const soft = softmax64(scores);
  const best = scores.indexOf(Math.max(...scores));
  return { soft, hard: soft.map((_, k) => (k === best ? 1 : 0)) };
}

/** torch.nn.utils.clip_grad_norm_ in float64: scales by max/(‖g‖ + 1e-6) when that is < 1. */
export function clipGradNorm64(grads: ArrayLike<number>, maxNorm: number): number[] {
  const norm = Math.hypot(...Array.from(grads));
  const scale = Math.min(1, maxNorm / (norm + 1e-6));
  return Array.from(grads, (g) => g * scale);
}

/**
 * One Adam step in float64 (Kingma & Ba, Algorithm 1, with PyTorch's ε outside the bias-
 * corrected root): updates `m`, `v` in place and returns the new parameters. `step` is the
 * step number after this one (1 for the first).
 */
export function adamStep64(
  params: ArrayLike<number>,
  grads: ArrayLike<number>,
  m: number[],
  v: number[],
  step: number,
  lr: number,
  beta1 = 0.9,
  beta2 = 0.999,
  epsilon = 1e-8,
): number[] {
  return Array.from(params, (p, k) => {
    m[k] = beta1 * m[k] + (1 - beta1) * grads[k];
    v[k] = beta2 * v[k] + (1 - beta2) * grads[k] * grads[k];
    const mHat = m[k] / (1 - beta1 ** step), vHat = v[k] / (1 - beta2 ** step);
    return p - lr * mHat / (Math.sqrt(vHat) + epsilon);
  });
}
