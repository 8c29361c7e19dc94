/**
 * The activations a network layer may have, in plain JS: the function and its derivative
 * written in terms of the layer's output (all four allow that, which is what the backward
 * passes need: they keep outputs, not pre-activations).
 *
 * @module
 */

/** Activations of {@linkcode Mlp} layers. */
export const ACTIVATIONS = ["relu", "tanh", "sigmoid", "linear"] as const;
/** One of {@linkcode ACTIVATIONS}. */
export type Activation = typeof ACTIVATIONS[number];

/** Whether `name` is an {@linkcode Activation}. */
export function isActivation(name: unknown): name is Activation {
  return (ACTIVATIONS as readonly unknown[]).includes(name);
}

/**
 * `f(x)`.
 *
 * @example
 * ```ts
 * import { activate } from "./activation.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([activate("relu", -2), activate("sigmoid", 0), activate("tanh", 0)], [0, 0.5, 0]);
 * ```
 */
export function activate(activation: Activation, x: number): number {
  switch (activation) {
    case "relu":
      return x < 0 ? 0 : x;
    case "tanh":
      return Math.tanh(x);
    case "sigmoid":
      return 1 / (1 + Math.exp(-x));
    case "linear":
      return x;
  }
}

/**
 * `f'(x)` given `y = f(x)`: ReLU 1 where y > 0 (0 at 0, as PyTorch), tanh 1 − y²,
 * sigmoid y(1 − y), linear 1.
 */
export function derivativeFromOutput(activation: Activation, y: number): number {
  switch (activation) {
    case "relu":
      return y > 0 ? 1 : 0;
    case "tanh":
      return 1 - y * y;
    case "sigmoid":
      return y * (1 - y);
    case "linear":
      return 1;
  }
}

/** Per-layer activations of a network of `layers` layers: `hidden` then `output`. */
export function layerActivations(
  layers: number,
  options: { hidden?: Activation; output?: Activation } = {},
): Activation[] {
  const { hidden = "relu", output = "linear" } = options;
  return Array.from({ length: layers }, (_, l) => (l + 1 < layers ? hidden : output));
}
