/**
 * Adam as PyTorch's `torch.optim.Adam` computes it, and global-norm gradient clipping as
 * `torch.nn.utils.clip_grad_norm_`, on flat `Float32Array`s.
 *
 * @module
 */

/** Adam hyperparameters. */
export interface AdamOptions {
  /** Learning rate. */
  lr: number;
  /** Decay of the first moment. @default 0.9 */
  beta1?: number;
  /** Decay of the second moment. @default 0.999 */
  beta2?: number;
  /** Added to the denominator. @default 1e-8 */
  epsilon?: number;
  /**
   * Steps over which the learning rate falls linearly to `lrEndFactor · lr`, as PyTorch's
   * `LinearLR(optimizer, 1.0, lrEndFactor, total_iters=lrDecaySteps)` stepped after each
   * update; 0 keeps it constant. @default 0
   */
  lrDecaySteps?: number;
  /** The factor the learning rate ends at. @default 0.1 */
  lrEndFactor?: number;
}

/** Saved state of an {@linkcode Adam} optimizer. */
export interface AdamState {
  /** Number of steps taken. */
  step: number;
  /** First moments. */
  m: Float32Array;
  /** Second moments. */
  v: Float32Array;
}

/**
 * Adam over one flat parameter array.
 *
 * @example
 * ```ts
 * import { Adam } from "./adam.ts";
 * const params = Float32Array.of(1, -1);
 * const adam = new Adam(2, { lr: 0.1 });
 * adam.step(params, Float32Array.of(0.5, -2));
 * // The first Adam step moves every parameter by lr against the gradient's sign.
 * if (Math.abs(params[0] - 0.9) > 1e-6 || Math.abs(params[1] - -0.9) > 1e-6) throw new Error();
 * ```
 */
export class Adam {
  /** Learning rate (of the first step, when it decays). */
  readonly lr: number;
  /** Steps over which the learning rate decays (0: never). */
  readonly lrDecaySteps: number;
  /** The factor the learning rate ends at. */
  readonly lrEndFactor: number;
  /** First-moment decay. */
  readonly beta1: number;
  /** Second-moment decay. */
  readonly beta2: number;
  /** Denominator term. */
  readonly epsilon: number;
  #step = 0;
  readonly #m: Float32Array;
  readonly #v: Float32Array;

  /** An optimizer for `size` parameters, its moments at zero. */
  constructor(size: number, options: AdamOptions) {
    this.lr = options.lr;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.lrDecaySteps = options.lrDecaySteps ?? 0;
    this.lrEndFactor = options.lrEndFactor ?? 0.1;
    this.#m = new Float32Array(size);
    this.#v = new Float32Array(size);
  }

  /** Steps taken so far. */
  get stepCount(): number {
    return this.#step;
  }

  /**
   * The learning rate of the next step: `lr · (1 + (lrEndFactor − 1) · min(steps taken,
   * lrDecaySteps) / lrDecaySteps)`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Adam } from "./adam.ts";
   * const adam = new Adam(1, { lr: 0.1, lrDecaySteps: 2, lrEndFactor: 0.5 });
   * const lrs = [];
   * for (let k = 0; k < 4; k++) {
   *   lrs.push(adam.currentLr);
   *   adam.step(Float32Array.of(0), Float32Array.of(1));
   * }
   * assert.deepEqual(lrs, [0.1, 0.07500000000000001, 0.05, 0.05]);
   * ```
   */
  get currentLr(): number {
    if (this.lrDecaySteps === 0) return this.lr;
    const progress = Math.min(this.#step, this.lrDecaySteps) / this.lrDecaySteps;
    return this.lr * (1 + (this.lrEndFactor - 1) * progress);
  }

  /** Applies one update to `params` in place, given their gradients. */
  step(params: Float32Array, grads: Float32Array): void {
    const m = this.#m, v = this.#v;
    if (params.length !== m.length || grads.length !== m.length) {
      throw new RangeError(
        `Adam holds ${m.length} parameters, got ${params.length} and ${grads.length} gradients`,
      );
    }
    const lr = this.currentLr;
    this.#step++;
    const { beta1, beta2, epsilon } = this;
    const biasCorrection1 = 1 - beta1 ** this.#step;
    const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** this.#step);
    const stepSize = lr / biasCorrection1;
    for (let k = 0; k < params.length; k++) {
      const g = grads[k];
      m[k] = m[k] + (g - m[k]) * (1 - beta1); // torch: m.lerp_(grad, 1 - beta1)
      v[k] = v[k] * beta2 + (1 - beta2) * g * g;
      params[k] -= stepSize * m[k] / (Math.sqrt(v[k]) / biasCorrection2Sqrt + epsilon);
    }
  }

  /** A copy of the optimizer's state. */
  getState(): AdamState {
    return { step: this.#step, m: this.#m.slice(), v: this.#v.slice() };
  }

  /** Restores a state saved with {@linkcode Adam.getState}. */
  setState(state: AdamState): void {
    if (state.m.length !== this.#m.length || state.v.length !== this.#v.length) {
      throw new RangeError(`Adam state has ${state.m.length} moments, expected ${this.#m.length}`);
    }
    if (!Number.isInteger(state.step) || state.step < 0) {
      throw new RangeError(`Adam step must be a non-negative integer, got ${state.step}`);
    }
    this.#step = state.step;
    this.#m.set(state.m);
    this.#v.set(state.v);
  }
}

/**
 * Scales `grads` in place so that their global L2 norm is at most `maxNorm`, exactly as
 * `torch.nn.utils.clip_grad_norm_` (coefficient `maxNorm / (norm + 1e-6)`, capped at 1).
 * Returns the norm before clipping.
 */
export function clipGradNorm(grads: Float32Array, maxNorm: number): number {
  let sumSquares = 0;
  for (let k = 0; k < grads.length; k++) sumSquares += grads[k] * grads[k];
  const norm = Math.sqrt(sumSquares);
  const coefficient = maxNorm / (norm + 1e-6);
  if (coefficient < 1) {
    for (let k = 0; k < grads.length; k++) grads[k] *= coefficient;
  }
  return norm;
}
