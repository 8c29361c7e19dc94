/**
 * Shared plumbing of the update rounds: tensors of uploaded networks, and batch rows turned
 * into network inputs.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Mlp } from "../nn/mlp.ts";
import { TfMlp } from "../nn/tf_mlp.ts";

/** One {@linkcode TfMlp} per network, uploaded again only when its parameters changed. */
export class TfCache {
  readonly #nets = new Map<Mlp, TfMlp>();

  /** The uploaded tensors of `net`, current. */
  of(net: Mlp): TfMlp {
    let tfNet = this.#nets.get(net);
    if (!tfNet) {
      tfNet = new TfMlp(net);
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

/** Each agent's `[rows, observationDim]` slice of joint rows `[rows, numAgents · observationDim]`. */
export function agentColumns(
  joint: Float32Array,
  rows: number,
  numAgents: number,
  observationDim: number,
): Float32Array[] {
  const jointWidth = numAgents * observationDim;
  return Array.from({ length: numAgents }, (_, i) => {
    const out = new Float32Array(rows * observationDim);
    for (let b = 0; b < rows; b++) {
      const start = b * jointWidth + i * observationDim;
      out.set(joint.subarray(start, start + observationDim), b * observationDim);
    }
    return out;
  });
}

/**
 * Critic input rows `[rows, observationWidth + actionWidth]`: observation columns then
 * action columns, both row-major. Returns the uploaded tensor.
 */
export function concatColumns(
  observations: Float32Array,
  observationWidth: number,
  actions: Float32Array,
  actionWidth: number,
  rows: number,
): tf.Tensor2D {
  const width = observationWidth + actionWidth;
  const data = new Float32Array(rows * width);
  for (let b = 0; b < rows; b++) {
    data.set(observations.subarray(b * observationWidth, (b + 1) * observationWidth), b * width);
    data.set(
      actions.subarray(b * actionWidth, (b + 1) * actionWidth),
      b * width + observationWidth,
    );
  }
  return tf.tensor2d(data, [rows, width]);
}

/** One-hot rows `[rows, numAgents · actionDim]` of action indices `[rows, numAgents]`. */
export function oneHotActions(
  actions: Int32Array,
  rows: number,
  numAgents: number,
  actionDim: number,
): Float32Array {
  const out = new Float32Array(rows * numAgents * actionDim);
  for (let b = 0; b < rows; b++) {
    for (let i = 0; i < numAgents; i++) {
      out[(b * numAgents + i) * actionDim + actions[b * numAgents + i]] = 1;
    }
  }
  return out;
}

/** Runs `net` on `input` and downloads the output (the tensors are freed). */
export function forwardValues(net: TfMlp, input: tf.Tensor2D): Float32Array {
  const out = tf.tidy(() => net.forward(input));
  const values = out.dataSync() as Float32Array;
  out.dispose();
  return values;
}
