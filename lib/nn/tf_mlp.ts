/**
 * Batched forward and backward passes of an {@linkcode Mlp} on tfjs.
 *
 * Backpropagation is written out by hand instead of using tfjs autodiff: on the WASM
 * backend a matMul with a transposed operand misses XNNPACK and runs about 15x slower
 * (see PERF_NOTES), and autodiff of `matMul` always uses the transposed forms. Every
 * product here is this project's own kernel ({@linkcode product}, bit-identical to
 * XNNPACK's plain matMul): it reads a transposed input in place, and `W^T` is uploaded beside
 * `W` when a backward pass first needs it. Bias gradients are a product with a row of ones
 * (the WASM `Sum` over axis 0 is slow).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Mlp } from "./mlp.ts";
import type { Activation } from "./activation.ts";
import { product } from "./wasm_gemm.ts";

const onesRows = new Map<number, tf.Tensor2D>();

/** A kept `[1, rows]` tensor of ones (one per batch size, never freed: it is tiny). */
function onesRow(rows: number): tf.Tensor2D {
  let ones = onesRows.get(rows);
  if (!ones) {
    ones = tf.keep(tf.ones([1, rows]));
    onesRows.set(rows, ones);
  }
  return ones;
}

/** `values`, a row-major `[rows, cols]` matrix, transposed. */
function transposed(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c];
  }
  return out;
}

/**
 * `delta · W^T ⊙ f'(y)`: the delta at the input of a layer of kernel `W` (given as
 * `transposedKernel`) whose input `y` came out of an `activation` layer. A ReLU's derivative
 * is fused into the product.
 */
function deltaBelow(
  delta: tf.Tensor2D,
  transposedKernel: tf.Tensor2D,
  { activation, y, fused }: { activation: Activation; y: tf.Tensor2D; fused: boolean },
): tf.Tensor2D {
  if (activation === "relu") return product(delta, transposedKernel, { mask: y, fused });
  return throughActivation(activation, product(delta, transposedKernel, { fused }), y);
}

/** `f'` of a layer as a tensor, from the layer's output `y` (undefined for linear: 1). */
function derivative(activation: Activation, y: tf.Tensor2D): tf.Tensor2D | undefined {
  switch (activation) {
    case "relu":
      return tf.step(y); // 1 where the output was positive (0 at 0, as PyTorch)
    case "tanh":
      return tf.sub(1, tf.square(y));
    case "sigmoid":
      return tf.mul(y, tf.sub(1, y));
    case "linear":
      return undefined;
  }
}

/** `delta ⊙ f'(y)`, or `delta` for a linear layer. */
function throughActivation(
  activation: Activation,
  delta: tf.Tensor2D,
  y: tf.Tensor2D,
): tf.Tensor2D {
  const slope = derivative(activation, y);
  return slope ? tf.mul(delta, slope) : delta;
}

/** Input columns `from`…`from + count - 1` of a network (see {@linkcode TfMlp.inputGradient}). */
export interface InputColumns {
  /** The first column. */
  from: number;
  /** How many columns. */
  count: number;
}

/** Options of {@linkcode TfMlp}. */
export interface TfMlpOptions {
  /**
   * Sum the products with fused multiply-adds (`product`'s `fused`): faster, no longer
   * bit-identical to `tf.matMul`. Default false.
   */
  fused?: boolean;
}

/**
 * The tensors of one {@linkcode Mlp}, uploaded on demand: {@linkcode TfMlp.sync} re-uploads
 * only when the network's parameters changed since the last upload.
 */
export class TfMlp {
  /** The network whose parameters these tensors mirror. */
  readonly net: Mlp;
  /** Whether the products fuse their multiply-adds. */
  readonly fused: boolean;
  #kernels: tf.Tensor2D[] = [];
  /**
   * `W^T` per layer but the first, uploaded on first use after a sync: forward-only networks
   * never need it.
   */
  #transposedKernels: (tf.Tensor2D | undefined)[] = [];
  /** Columns of the first layer's `W^T`, by `"from,count"`, uploaded on first use after a sync. */
  #inputColumns = new Map<string, tf.Tensor2D>();
  #biases: tf.Tensor1D[] = [];
  #version = -1;

  /** A tensor view of `net`; its tensors are made from `net`'s parameters when first needed. */
  constructor(net: Mlp, options: TfMlpOptions = {}) {
    this.net = net;
    this.fused = options.fused ?? false;
  }

  /** Uploads the parameters if they changed (kept: safe inside `tf.tidy`). */
  sync(): void {
    if (this.#version === this.net.version && this.#kernels.length > 0) return;
    this.dispose();
    const p = this.net.params;
    for (const { inputs, outputs, kernelOffset, biasOffset } of this.net.layers) {
      this.#kernels.push(tf.keep(
        tf.tensor2d(p.subarray(kernelOffset, kernelOffset + inputs * outputs), [inputs, outputs]),
      ));
      this.#biases.push(tf.keep(tf.tensor1d(p.subarray(biasOffset, biasOffset + outputs))));
    }
    this.#version = this.net.version;
  }

  /** Frees the uploaded tensors. */
  dispose(): void {
    const transposedKernels = this.#transposedKernels.filter((t) => t !== undefined);
    const inputColumns = [...this.#inputColumns.values()];
    tf.dispose([...this.#kernels, ...transposedKernels, ...inputColumns, ...this.#biases]);
    this.#kernels = [];
    this.#transposedKernels = [];
    this.#inputColumns.clear();
    this.#biases = [];
  }

  /**
   * Forward pass of a batch `[rows, inputs]`. Returns every layer's activation, the input
   * first and the output last (what {@linkcode TfMlp.backward} needs).
   */
  forwardTrace(input: tf.Tensor2D): tf.Tensor2D[] {
    this.sync();
    const activations = [input];
    for (let l = 0; l < this.#kernels.length; l++) {
      activations.push(this.#layerForward(l, activations[l]));
    }
    return activations;
  }

  /** `W^T` of layer `l` (kept: safe inside `tf.tidy`). */
  #transposedKernel(l: number): tf.Tensor2D {
    let kernelT = this.#transposedKernels[l];
    if (!kernelT) {
      const { inputs, outputs, kernelOffset } = this.net.layers[l];
      const kernel = this.net.params.subarray(kernelOffset, kernelOffset + inputs * outputs);
      kernelT = tf.keep(tf.tensor2d(transposed(kernel, inputs, outputs), [outputs, inputs]));
      this.#transposedKernels[l] = kernelT;
    }
    return kernelT;
  }

  /**
   * Columns `from`…`from + count - 1` of the first layer's `W^T` (`[outputs, count]`, kept):
   * what the input gradient of those input columns alone needs.
   */
  #inputColumnsKernel({ from, count }: InputColumns): tf.Tensor2D {
    const key = `${from},${count}`;
    let columns = this.#inputColumns.get(key);
    if (!columns) {
      const { inputs, outputs, kernelOffset } = this.net.layers[0];
      if (
        !(Number.isInteger(from) && Number.isInteger(count) && from >= 0 && count > 0) ||
        from + count > inputs
      ) {
        throw new RangeError(`input columns ${from}…${from + count - 1} of ${inputs} inputs`);
      }
      const at = kernelOffset + from * outputs;
      const rows = this.net.params.subarray(at, at + count * outputs);
      columns = tf.keep(tf.tensor2d(transposed(rows, count, outputs), [outputs, count]));
      this.#inputColumns.set(key, columns);
    }
    return columns;
  }

  /** Layer `l`'s activation of its input. */
  #layerForward(l: number, input: tf.Tensor2D): tf.Tensor2D {
    const activation = this.net.activations[l];
    const kernel = this.#kernels[l];
    const bias = this.#biases[l], fused = this.fused;
    if (activation === "relu" || activation === "linear") {
      return product(input, kernel, { bias, relu: activation === "relu", fused });
    }
    if (activation === "sigmoid") {
      return tf.fused.matMul({ a: input, b: kernel, bias, activation }) as tf.Tensor2D;
    }
    const linear = product(input, kernel, { bias, fused });
    const out = tf.tanh(linear);
    linear.dispose();
    return out;
  }

  /** Forward pass of a batch; only the output. */
  forward(input: tf.Tensor2D): tf.Tensor2D {
    const activations = this.forwardTrace(input);
    for (let l = 1; l + 1 < activations.length; l++) activations[l].dispose();
    return activations[activations.length - 1];
  }

  /**
   * dLoss/dInput for `outputGrad` (dLoss/dOutput), without parameter gradients: what a loss
   * needs that flows through this network into its input. `[rows, count]`: the input columns
   * `columns` (default all), each bit-identical to the same column of the whole gradient; an
   * actor's gradient needs a critic's gradient at its own action only.
   */
  inputGradient(
    activations: tf.Tensor2D[],
    outputGrad: tf.Tensor2D,
    columns: InputColumns = { from: 0, count: this.net.sizes[0] },
  ): tf.Tensor2D {
    this.sync();
    const { activations: layerActivations } = this.net;
    const firstKernel = this.#inputColumnsKernel(columns);
    return tf.tidy(() => {
      const last = this.#kernels.length - 1;
      let delta = throughActivation(layerActivations[last], outputGrad, activations[last + 1]);
      for (let l = last; l > 0; l--) {
        delta = deltaBelow(delta, this.#transposedKernel(l), {
          activation: layerActivations[l - 1],
          y: activations[l],
          fused: this.fused,
        });
      }
      return product(delta, firstKernel, { fused: this.fused });
    });
  }

  /**
   * Backpropagates `outputGrad` (dLoss/dOutput, `[rows, outputs]`) through the network and
   * writes dLoss/dParams into `grads` (flat, the {@linkcode Mlp.params} layout).
   */
  backward(activations: tf.Tensor2D[], outputGrad: tf.Tensor2D, grads: Float32Array): void {
    if (grads.length !== this.net.size) {
      throw new RangeError(
        `Gradient array holds ${grads.length} values, expected ${this.net.size}`,
      );
    }
    this.sync();
    const { activations: layerActivations } = this.net;
    const fused = this.fused;
    tf.tidy(() => {
      const rows = outputGrad.shape[0];
      const last = this.#kernels.length - 1;
      let delta = throughActivation(layerActivations[last], outputGrad, activations[last + 1]);
      for (let l = last; l >= 0; l--) {
        const { kernelOffset, biasOffset } = this.net.layers[l];
        const input = activations[l];
        grads.set(product(input, delta, { transposeA: true, fused }).dataSync(), kernelOffset);
        grads.set(product(onesRow(rows), delta, { fused }).dataSync(), biasOffset);
        if (l > 0) {
          const below = { activation: layerActivations[l - 1], y: input, fused };
          delta = deltaBelow(delta, this.#transposedKernel(l), below);
        }
      }
    });
  }
}
