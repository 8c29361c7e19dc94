/**
 * Parameters of a fully connected network, kept in one flat `Float32Array`, and the
 * activation of each layer.
 *
 * The flat layout is the tfjs Layers order: for each layer its kernel, row-major
 * `[in, out]`, then its bias `[out]`. One array per network makes the optimizer, gradient
 * clipping, soft updates, checkpoints and transfers between workers plain loops.
 *
 * @module
 */
import type { Pcg32 } from "../rng.ts";
import { layerActivations } from "./activation.ts";
import type { Activation } from "./activation.ts";
import { normalFromUniforms } from "./gumbel.ts";
import { RowForward } from "./row_forward.ts";

/** How {@linkcode Mlp.init} draws parameters: PyTorch's `nn.Linear` or DDPG's scheme. */
export const WEIGHT_INITS = ["torch", "ddpg"] as const;
/** One of {@linkcode WEIGHT_INITS}. */
export type WeightInit = typeof WEIGHT_INITS[number];

/** Where one layer's kernel and bias sit in the flat parameter array. */
export interface LayerSlice {
  /** Input width. */
  inputs: number;
  /** Output width. */
  outputs: number;
  /** Offset of the kernel (`inputs * outputs` values, row-major [in, out]). */
  kernelOffset: number;
  /** Offset of the bias (`outputs` values). */
  biasOffset: number;
}

/** Computes the layer slices of a network with the given layer widths. */
export function layerSlices(sizes: readonly number[]): LayerSlice[] {
  if (sizes.length < 2 || sizes.some((size) => !Number.isInteger(size) || size <= 0)) {
    throw new RangeError(`Layer sizes must be at least two positive integers, got [${sizes}]`);
  }
  const layers: LayerSlice[] = [];
  let offset = 0;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const inputs = sizes[l], outputs = sizes[l + 1];
    layers.push({ inputs, outputs, kernelOffset: offset, biasOffset: offset + inputs * outputs });
    offset += inputs * outputs + outputs;
  }
  return layers;
}

/** How a network's layers are activated. */
export interface MlpOptions {
  /** Activation of every layer, one per layer. @default ReLU hidden layers, linear output */
  activations?: readonly Activation[];
}

/**
 * A multilayer perceptron `sizes[0] → sizes[1] → … → sizes[n]` with an activation per layer
 * (by default ReLU after every hidden layer and a linear output).
 *
 * @example
 * ```ts
 * import { Mlp } from "./mlp.ts";
 * import { Pcg32 } from "../rng.ts";
 * const actor = Mlp.init([6, 128, 128, 4], new Pcg32(42));
 * const logits = actor.forward(new Float32Array(6));
 * if (logits.length !== 4) throw new Error("4 logits");
 * const bounded = Mlp.init([2, 8, 1], new Pcg32(1), { activations: ["tanh", "sigmoid"] });
 * const y = bounded.forward([0.5, -0.5])[0];
 * if (!(y > 0 && y < 1)) throw new Error("a sigmoid output lies in (0, 1)");
 * ```
 */
export class Mlp {
  /** Layer widths, input first. */
  readonly sizes: readonly number[];
  /** Where each layer lives in {@linkcode Mlp.params}. */
  readonly layers: readonly LayerSlice[];
  /** Each layer's activation. */
  readonly activations: readonly Activation[];
  /** All parameters, flat. Call {@linkcode Mlp.touch} after changing them in place. */
  readonly params: Float32Array;
  #version = 0;
  #rowForward: RowForward | undefined;

  /** A network of layer `sizes`, on `params` (its flat parameters, kept, not copied) or new zeros. */
  constructor(sizes: readonly number[], params?: Float32Array, options: MlpOptions = {}) {
    this.sizes = [...sizes];
    this.layers = layerSlices(sizes);
    const activations = options.activations ?? layerActivations(this.layers.length);
    if (activations.length !== this.layers.length) {
      throw new RangeError(
        `A network of ${this.layers.length} layers needs ${this.layers.length} activations, got ${activations.length}`,
      );
    }
    this.activations = [...activations];
    const last = this.layers[this.layers.length - 1];
    const count = last.biasOffset + last.outputs;
    if (params && params.length !== count) {
      throw new RangeError(`Network [${sizes}] has ${count} parameters, got ${params.length}`);
    }
    this.params = params ?? new Float32Array(count);
  }

  /**
   * A network with freshly drawn parameters, layer by layer, kernel then bias, row-major:
   * - `torch` (default): as PyTorch's `nn.Linear`, every kernel and bias value uniform in
   *   ±1/√fan_in;
   * - `ddpg`: as DDPG implementations (and the PyTorch peer) do, hidden kernels Kaiming-normal
   *   (std √(2/fan_in), two uniforms per value), hidden biases zero (no draws), and the output
   *   layer's kernel and bias uniform in ±3e-3, so that a new network's outputs start near zero.
   *
   * @example
   * ```ts
   * import { Mlp } from "./mlp.ts";
   * import { Pcg32 } from "../rng.ts";
   * import assert from "node:assert/strict";
   * const net = Mlp.init([2, 3, 1], new Pcg32(7), { weightInit: "ddpg" });
   * assert.deepEqual(Array.from(net.params.subarray(6, 9)), [0, 0, 0]); // hidden biases
   * assert.ok(net.params.subarray(9).every((v) => Math.abs(v) <= 3e-3)); // output layer
   * ```
   */
  static init(
    sizes: readonly number[],
    rng: Pcg32,
    options: MlpOptions & { weightInit?: WeightInit } = {},
  ): Mlp {
    const { weightInit = "torch", ...netOptions } = options;
    const net = new Mlp(sizes, undefined, netOptions);
    net.layers.forEach((layer, l) => {
      const hidden = l + 1 < net.layers.length;
      if (weightInit === "ddpg" && hidden) {
        const std = Math.sqrt(2 / layer.inputs);
        for (let k = layer.kernelOffset; k < layer.biasOffset; k++) {
          net.params[k] = std * normalFromUniforms(rng.nextFloat(), rng.nextFloat());
        }
        return;
      }
      const bound = weightInit === "ddpg" ? 3e-3 : 1 / Math.sqrt(layer.inputs);
      const end = layer.biasOffset + layer.outputs;
      for (let k = layer.kernelOffset; k < end; k++) net.params[k] = rng.uniform(-bound, bound);
    });
    return net;
  }

  /** Number of parameters. */
  get size(): number {
    return this.params.length;
  }

  /** Increases whenever the parameters change; caches of uploaded tensors compare it. */
  get version(): number {
    return this.#version;
  }

  /** Marks the parameters as changed. */
  touch(): void {
    this.#version++;
  }

  /** A deep copy. */
  clone(): Mlp {
    return new Mlp(this.sizes, this.params.slice(), { activations: this.activations });
  }

  /** Copies another network's parameters into this one (same shape). */
  copyFrom(other: Mlp): void {
    if (other.params.length !== this.params.length) {
      throw new RangeError(`Cannot copy a network of ${other.size} parameters into ${this.size}`);
    }
    this.params.set(other.params);
    this.touch();
  }

  /**
   * One observation through the network in float64 (cheaper than a tfjs call for batch 1),
   * on a WebAssembly kernel ({@linkcode RowForward}), which keeps a copy of the parameters
   * until {@linkcode Mlp.touch} marks them changed. Returns the `sizes[n]` outputs, in
   * `output` when given (for a caller that reads them at once), else in a new array.
   */
  forward(input: ArrayLike<number>, output?: Float64Array): Float64Array {
    if (input.length !== this.sizes[0]) {
      throw new RangeError(`Network expects ${this.sizes[0]} inputs, got ${input.length}`);
    }
    const width = this.sizes[this.sizes.length - 1];
    if (output && output.length !== width) {
      throw new RangeError(`Network gives ${width} outputs, not ${output.length}`);
    }
    this.#rowForward ??= new RowForward(this.sizes, this.activations);
    return this.#rowForward.run(this.params, this.#version, input, output);
  }
}

/** Polyak averaging: `target ← tau · source + (1 − tau) · target`. */
export function softUpdate(target: Mlp, source: Mlp, tau: number): void {
  if (target.size !== source.size) {
    throw new RangeError(
      `Soft update between networks of ${target.size} and ${source.size} parameters`,
    );
  }
  const t = target.params, s = source.params, keep = 1 - tau;
  for (let k = 0; k < t.length; k++) t[k] = tau * s[k] + keep * t[k];
  target.touch();
}
