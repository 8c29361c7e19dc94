/**
 * Shared plumbing of the update rounds: tensors of uploaded networks, and batch columns
 * turned into network inputs.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Mlp } from "../nn/mlp.ts";
import { TfMlp } from "../nn/tf_mlp.ts";
import type { TfMlpOptions } from "../nn/tf_mlp.ts";

/** One {@linkcode TfMlp} per network, uploaded again only when its parameters changed. */
export class TfCache {
  readonly #nets = new Map<Mlp, TfMlp>();
  readonly #options: TfMlpOptions;

  /** A cache whose networks all run with `options`. */
  constructor(options: TfMlpOptions = {}) {
    this.#options = options;
  }

  /** The uploaded tensors of `net`, current. */
  of(net: Mlp): TfMlp {
    let tfNet = this.#nets.get(net);
    if (!tfNet) {
      tfNet = new TfMlp(net, this.#options);
      this.#nets.set(net, tfNet);
    }
    tfNet.sync();
    return tfNet;
  }

  /** Frees every uploaded tensor. */
  dispose(): void {
    for (const tfNet of this.#nets.values()) tfNet.dispose();
    this.#nets.clear();
  }
}

/**
 * Rows `[rows, Σ widths]` that put the blocks side by side: row b is block 0's row b, then
 * block 1's, … (a critic's input: every observation, then every action).
 */
export function concatRows(blocks: readonly Float32Array[], rows: number): Float32Array {
  const widths = blocks.map((block) => block.length / rows);
  const width = widths.reduce((a, b) => a + b, 0);
  const out = new Float32Array(rows * width);
  // Element by element: a subarray per row and block would allocate thousands of views.
  let start = 0;
  for (let k = 0; k < blocks.length; k++) {
    const block = blocks[k], w = widths[k];
    for (let b = 0; b < rows; b++) {
      const from = b * w, to = b * width + start;
      for (let j = 0; j < w; j++) out[to + j] = block[from + j];
    }
    start += w;
  }
  return out;
}

/**
 * A copy of rows `[rows, width]` with columns `from … from + w − 1` of every row replaced by
 * `values` (`[rows, w]`): a critic's input with one agent's actions swapped, without
 * putting every block side by side again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withColumns } from "./_inputs.ts";
 * const rows = Float32Array.from([1, 2, 3, 4, 5, 6]); // 2 rows of 3
 * const swapped = withColumns(rows, { rows: 2, from: 1, values: Float32Array.from([8, 9]) });
 * assert.deepEqual(Array.from(swapped), [1, 8, 3, 4, 9, 6]);
 * assert.deepEqual(Array.from(rows), [1, 2, 3, 4, 5, 6]);
 * ```
 */
export function withColumns(
  source: Float32Array,
  { rows, from, values }: { rows: number; from: number; values: Float32Array },
): Float32Array {
  const width = source.length / rows, w = values.length / rows;
  if (!Number.isInteger(width) || !Number.isInteger(w) || from < 0 || from + w > width) {
    throw new RangeError(
      `Cannot put ${values.length} values in columns from ${from} of ${rows} rows of ${width}`,
    );
  }
  const out = source.slice();
  for (let b = 0; b < rows; b++) {
    const to = b * width + from, at = b * w;
    for (let k = 0; k < w; k++) out[to + k] = values[at + k];
  }
  return out;
}

/** {@linkcode concatRows} uploaded as a tensor. */
export function concatTensor(blocks: readonly Float32Array[], rows: number): tf.Tensor2D {
  const data = concatRows(blocks, rows);
  return tf.tensor2d(data, [rows, data.length / rows]);
}

/** One-hot rows `[rows, n]` of action indices `[rows]`. */
export function oneHot(indices: ArrayLike<number>, n: number): Float32Array {
  const out = new Float32Array(indices.length * n);
  for (let b = 0; b < indices.length; b++) out[b * n + indices[b]] = 1;
  return out;
}

/** Runs `net` on `input` and downloads the output (the tensors are freed). */
export function forwardValues(net: TfMlp, input: tf.Tensor2D): Float32Array {
  const out = tf.tidy(() => net.forward(input));
  const values = out.dataSync() as Float32Array;
  out.dispose();
  return values;
}

/** Draws `count` uniform numbers in [0, 1) from `rng`. */
export function drawUniformArray(count: number, rng: { nextFloat(): number }): Float64Array {
  const uniforms = new Float64Array(count);
  for (let k = 0; k < count; k++) uniforms[k] = rng.nextFloat();
  return uniforms;
}
