/**
 * Action and observation spaces in the shape of Gymnasium's (and so PettingZoo's):
 * {@linkcode Discrete} and {@linkcode Box}.
 *
 * @module
 */

/** What a space needs to sample: a generator of uniform numbers (the run's PCG32 fits). */
export interface UniformSource {
  /** A uniform number in [0, 1). */
  nextFloat(): number;
  /** A uniform integer in 0..n-1. */
  nextInt(n: number): number;
}

/**
 * The integers `0 … n − 1` (Gymnasium's `Discrete(n)` with start 0).
 *
 * @example
 * ```ts
 * import { Discrete } from "./spaces.ts";
 * import assert from "node:assert/strict";
 * const space = new Discrete(5);
 * assert.deepEqual([space.contains(4), space.contains(5), space.contains(1.5)], [true, false, false]);
 * assert.deepEqual(space.toString(), "Discrete(5)");
 * ```
 */
export class Discrete {
  /** Which kind of space. */
  readonly kind = "discrete";
  /** Number of actions. */
  readonly n: number;

  /** The actions `0 … n − 1`; `n` must be a positive integer. */
  constructor(n: number) {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new RangeError(`Discrete(n) needs a positive integer n, got ${n}`);
    }
    this.n = n;
  }

  /** Width of this space's one-hot encoding. */
  get size(): number {
    return this.n;
  }

  /** Whether `x` is an integer in `0 … n − 1`. */
  contains(x: unknown): boolean {
    return typeof x === "number" && Number.isInteger(x) && x >= 0 && x < this.n;
  }

  /** A uniform element. */
  sample(rng: UniformSource): number {
    return rng.nextInt(this.n);
  }

  /** `Discrete(n)`. */
  toString(): string {
    return `Discrete(${this.n})`;
  }
}

/**
 * A box of real vectors: `low[k] ≤ x[k] ≤ high[k]` for a flat shape (Gymnasium's `Box`
 * with a 1-D shape). Bounds may be infinite.
 *
 * @example
 * ```ts
 * import { Box } from "./spaces.ts";
 * import assert from "node:assert/strict";
 * const space = new Box(0, 1, [5]);
 * assert.deepEqual(space.contains([0, 0.5, 1, 0, 0]), true);
 * assert.deepEqual(space.contains([0, 2, 1, 0, 0]), false);
 * assert.deepEqual(space.toString(), "Box(0, 1, (5,))");
 * ```
 */
export class Box {
  /** Which kind of space. */
  readonly kind = "box";
  /** Lower bound of each element. */
  readonly low: Float64Array;
  /** Upper bound of each element. */
  readonly high: Float64Array;
  /** The shape, one dimension. */
  readonly shape: readonly [number];

  /** The box `[low, high]` of the given shape; a number bound applies to every dimension. */
  constructor(low: number | ArrayLike<number>, high: number | ArrayLike<number>, shape: [number]) {
    const [n] = shape;
    if (!Number.isSafeInteger(n) || n < 0) {
      throw new RangeError(`Box shape must be a non-negative integer, got ${n}`);
    }
    this.shape = [n];
    const fill = (bound: number | ArrayLike<number>, name: string) => {
      const values = typeof bound === "number"
        ? new Float64Array(n).fill(bound)
        : Float64Array.from(bound);
      if (values.length !== n || values.some(Number.isNaN)) {
        throw new RangeError(`Box ${name} must hold ${n} numbers`);
      }
      return values;
    };
    this.low = fill(low, "low");
    this.high = fill(high, "high");
    if (this.low.some((l, k) => l > this.high[k])) {
      throw new RangeError("Box low must not exceed high");
    }
  }

  /** Number of elements. */
  get size(): number {
    return this.shape[0];
  }

  /** Whether `x` has the right length and every element lies within its bounds. */
  contains(x: unknown): boolean {
    if (typeof x !== "object" || x === null || !("length" in x)) return false;
    const values = x as ArrayLike<unknown>;
    if (values.length !== this.size) return false;
    for (let k = 0; k < this.size; k++) {
      const v = values[k];
      if (typeof v !== "number" || !(v >= this.low[k] && v <= this.high[k])) return false;
    }
    return true;
  }

  /** A uniform element of a bounded box (each element uniform in its bounds). */
  sample(rng: UniformSource): Float64Array {
    const out = new Float64Array(this.size);
    for (let k = 0; k < this.size; k++) {
      const low = this.low[k], high = this.high[k];
      if (!Number.isFinite(low) || !Number.isFinite(high)) {
        throw new RangeError("Cannot sample uniformly from an unbounded Box");
      }
      out[k] = low + (high - low) * rng.nextFloat();
    }
    return out;
  }

  /** `Box(low, high, (n,))`, with scalar bounds when every element shares them. */
  toString(): string {
    const show = (values: Float64Array) =>
      values.every((v) => v === values[0]) && values.length > 0
        ? String(values[0]).replace("Infinity", "inf")
        : `[${Array.from(values).join(", ")}]`;
    return `Box(${show(this.low)}, ${show(this.high)}, (${this.size},))`;
  }
}

/** An action or observation space. */
export type Space = Discrete | Box;
