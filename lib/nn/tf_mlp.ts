/**
 * Batched forward and backward passes of an {@linkcode Mlp} on tfjs.
 *
 * Backpropagation is written out by hand instead of using tfjs autodiff: on the WASM
 * backend a matMul with a transposed operand misses XNNPACK and runs about 15x slower
 * (see PERF_NOTES), and autodiff of `matMul` always uses the transposed forms. Here every
 * product is a plain matMul, transposing explicitly whichever operand is smaller, and bias
 * gradients are a product with a row of ones (the WASM `Sum` over axis 0 is slow too).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Mlp } from "./mlp.ts";
import type { Activation } from "./activation.ts";

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

/** `A^T · B` for `A: [rows, m]`, `B: [rows, n]` with plain (XNNPACK) matMuls only. */
function transposedProduct(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const [rows, m] = a.shape;
  const n = b.shape[1];
  if (n === 1) return tf.reshape(tf.matMul(tf.reshape(b, [1, rows]), a), [m, 1]);
  if (m === 1) return tf.matMul(tf.reshape(a, [1, rows]), b);
  // (A^T B) = (B^T A)^T: transpose whichever costs fewer element moves.
  if (rows * m <= rows * n + m * n) return tf.matMul(tf.transpose(a), b);
  return tf.transpose(tf.matMul(tf.transpose(b), a));
}

/** `D · W^T` for `D: [rows, n]`, `W: [m, n]`. */
function productWithTransposed(d: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  const [m, n] = w.shape;
  if (n === 1) return tf.matMul(d, tf.reshape(w, [1, m]));
  return tf.matMul(d, tf.transpose(w));
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

/**
 * The tensors of one {@linkcode Mlp}, uploaded on demand: {@linkcode TfMlp.sync} re-uploads
 * only when the network's parameters changed since the last upload.
 */
export class TfMlp {
  /** The network whose parameters these tensors mirror. */
  readonly net: Mlp;
  #kernels: tf.Tensor2D[] = [];
  #biases: tf.Tensor1D[] = [];
  #version = -1;

  /** A tensor view of `net`; its tensors are made from `net`'s parameters when first needed. */
  constructor(net: Mlp) {
    this.net = net;
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
    for (const t of this.#kernels) t.dispose();
    for (const t of this.#biases) t.dispose();
    this.#kernels = [];
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
      const activation = this.net.activations[l];
      // fused.matMul has no tanh: add it as its own op.
      const product = tf.fused.matMul({
        a: activations[l],
        b: this.#kernels[l],
        bias: this.#biases[l],
        activation: activation === "tanh" ? "linear" : activation,
      }) as tf.Tensor2D;
      if (activation === "tanh") {
        activations.push(tf.tanh(product));
        product.dispose();
      } else activations.push(product);
    }
    return activations;
  }

  /** Forward pass of a batch; only the output. */
  forward(input: tf.Tensor2D): tf.Tensor2D {
    const activations = this.forwardTrace(input);
    for (let l = 1; l + 1 < activations.length; l++) activations[l].dispose();
    return activations[activations.length - 1];
  }

  /**
   * dLoss/dInput `[rows, inputs]` for `outputGrad` (dLoss/dOutput), without parameter
   * gradients: what a loss needs that flows through this network into its input.
   */
  inputGradient(activations: tf.Tensor2D[], outputGrad: tf.Tensor2D): tf.Tensor2D {
    this.sync();
    const { activations: layerActivations } = this.net;
    return tf.tidy(() => {
      const last = this.#kernels.length - 1;
      let delta = throughActivation(layerActivations[last], outputGrad, activations[last + 1]);
      for (let l = last; l >= 0; l--) {
        delta = productWithTransposed(delta, this.#kernels[l]);
        if (l > 0) delta = throughActivation(layerActivations[l - 1], delta, activations[l]);
      }
      return delta;
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
    tf.tidy(() => {
      const rows = outputGrad.shape[0];
      const last = this.#kernels.length - 1;
      let delta = throughActivation(layerActivations[last], outputGrad, activations[last + 1]);
      for (let l = last; l >= 0; l--) {
        const { kernelOffset, biasOffset } = this.net.layers[l];
        const input = activations[l];
        grads.set(transposedProduct(input, delta).dataSync(), kernelOffset);
        grads.set(tf.matMul(onesRow(rows), delta).dataSync(), biasOffset);
        if (l > 0) {
          delta = throughActivation(
            layerActivations[l - 1],
            productWithTransposed(delta, this.#kernels[l]),
            input,
          );
        }
      }
    });
  }
}
