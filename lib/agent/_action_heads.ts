/**
 * How an actor's outputs become the actions a critic sees, for each kind of action space:
 * Gumbel-Softmax samples of logits (discrete) or a sigmoid output scaled to a box
 * (continuous). The learner runs the same update for both through this interface.
 *
 * @module
 */
import { gumbelSoftmax, gumbelSoftmaxBackward, normalFromUniforms } from "../nn/gumbel.ts";
import type { Activation } from "../nn/activation.ts";

/** What the actor update needs from one batch of an actor's outputs. */
export interface ActorActions {
  /** The actions, `[B, A]`. */
  actions: Float32Array;
  /** dLoss/dOutputs from dLoss/dActions (and the head's own regulariser). */
  outputGradient(actionGradient: Float32Array): Float32Array;
  /** The regulariser's value, added to the actor loss. */
  penalty: number;
}

/** An action head: the actor's output activation and the map from outputs to actions. */
export interface ActionHead {
  /** Activation of the actor's last layer. */
  readonly outputActivation: Activation;
  /** Target actions from target-actor outputs (`gumbel`: one uniform per output; `smoothing`: two per output, MATD3). */
  targetActions(
    outputs: Float32Array,
    noise: { gumbel: ArrayLike<number>; smoothing?: ArrayLike<number> },
  ): Float32Array;
  /** The actor's actions for its update, with the gradient map back to its outputs. */
  actorActions(outputs: Float32Array, gumbel: ArrayLike<number>): ActorActions;
}

/** MATD3's target-policy smoothing: clipped Gaussian noise on outputs or actions. */
export interface Smoothing {
  /** Std of the noise. */
  std: number;
  /** The noise is clipped to ±this. */
  clip: number;
}

/**
 * Adds `clip(std · ε, −clip, clip)` to each value in place, `ε` standard normal from two
 * uniforms per value (MATD3's target-policy smoothing).
 *
 * @example
 * ```ts
 * import { smoothLogits } from "./_action_heads.ts";
 * import assert from "node:assert/strict";
 * const logits = Float32Array.of(0, 0);
 * // u1 close to 1 gives a large normal number: the clip bounds it.
 * smoothLogits(logits, [0.999999, 0, 0.999999, 0.5], { std: 1, clip: 0.5 });
 * assert.deepEqual(Array.from(logits), [0.5, -0.5]);
 * ```
 */
export function smoothLogits(
  values: Float32Array,
  noise: ArrayLike<number>,
  options: Smoothing,
): void {
  const { std, clip } = options;
  for (let k = 0; k < values.length; k++) {
    const eps = std * normalFromUniforms(noise[2 * k], noise[2 * k + 1]);
    values[k] += Math.max(-clip, Math.min(clip, eps));
  }
}

/** Discrete actions: Gumbel-Softmax samples of the logits, and a penalty on the logits. */
export class GumbelHead implements ActionHead {
  readonly outputActivation = "linear";

  constructor(
    readonly options: {
      n: number;
      temperature: number;
      hard: boolean;
      logitsPenalty: number;
      smoothing?: Smoothing;
    },
  ) {}

  targetActions(
    logits: Float32Array,
    noise: { gumbel: ArrayLike<number>; smoothing?: ArrayLike<number> },
  ): Float32Array {
    const { n, temperature, hard, smoothing } = this.options;
    if (smoothing && noise.smoothing) smoothLogits(logits, noise.smoothing, smoothing);
    return gumbelSoftmax(logits, noise.gumbel, { n, temperature, hard }).sample;
  }

  actorActions(logits: Float32Array, gumbel: ArrayLike<number>): ActorActions {
    const { n, temperature, hard, logitsPenalty: c } = this.options;
    const { sample, soft } = gumbelSoftmax(logits, gumbel, { n, temperature, hard });
    let meanSquares = 0;
    for (let k = 0; k < logits.length; k++) meanSquares += logits[k] * logits[k];
    return {
      actions: sample,
      penalty: c * meanSquares / logits.length,
      outputGradient: (actionGradient) => {
        const grad = gumbelSoftmaxBackward(soft, actionGradient, { n, temperature });
        const count = logits.length;
        for (let k = 0; k < count; k++) grad[k] += 2 * c * logits[k] / count;
        return grad;
      },
    };
  }
}

/** The bounded output of a continuous actor: a sigmoid, or a tanh rescaled to the box. */
export type BoxOutput = "sigmoid" | "tanh";

/** The bounded outputs a continuous actor may end in, each with its range `[from, to]`. */
const OUTPUT_RANGES: Readonly<Record<BoxOutput, readonly [number, number]>> = {
  sigmoid: [0, 1],
  tanh: [-1, 1],
};

/** Every {@linkcode BoxOutput}. */
export const BOX_OUTPUTS = Object.keys(OUTPUT_RANGES) as BoxOutput[];

/**
 * Where a bounded output `y` lies in its box `[low, high]`: `(y − from) / (to − from)` with
 * `[from, to]` the output's range, `[0, 1]` for a sigmoid and `[−1, 1]` for a tanh.
 *
 * @example
 * ```ts
 * import { boxFraction } from "./_action_heads.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual([boxFraction("sigmoid", 0.25), boxFraction("tanh", 0.5)], [0.25, 0.75]);
 * ```
 */
export function boxFraction(output: BoxOutput, y: number): number {
  const [from, to] = OUTPUT_RANGES[output];
  return (y - from) / (to - from);
}

/**
 * Continuous actions in a box: a sigmoid output `y` scaled to `low + (high − low) · y` (or a
 * tanh output, to `low + (high − low) · (y + 1) / 2`); the targets of MATD3 get clipped noise
 * on the action, then are clipped to the box (as TD3).
 */
export class BoxHead implements ActionHead {
  readonly outputActivation: BoxOutput;
  /** dAction/dOutput per unit of the box's width: 1 for a sigmoid, 1/2 for a tanh. */
  readonly #slope: number;

  constructor(
    readonly options: {
      low: ArrayLike<number>;
      high: ArrayLike<number>;
      smoothing?: Smoothing;
      /** @default "sigmoid" */
      output?: BoxOutput;
    },
  ) {
    this.outputActivation = options.output ?? "sigmoid";
    const [from, to] = OUTPUT_RANGES[this.outputActivation];
    this.#slope = 1 / (to - from);
  }

  #scale(outputs: Float32Array): Float32Array {
    const { low, high } = this.options, a = low.length;
    const actions = new Float32Array(outputs.length);
    for (let k = 0; k < outputs.length; k++) {
      const i = k % a;
      actions[k] = low[i] + (high[i] - low[i]) * boxFraction(this.outputActivation, outputs[k]);
    }
    return actions;
  }

  targetActions(
    outputs: Float32Array,
    noise: { gumbel: ArrayLike<number>; smoothing?: ArrayLike<number> },
  ): Float32Array {
    const actions = this.#scale(outputs);
    const { smoothing, low, high } = this.options;
    if (smoothing && noise.smoothing) {
      smoothLogits(actions, noise.smoothing, smoothing);
      for (let k = 0; k < actions.length; k++) {
        const i = k % low.length;
        actions[k] = Math.min(high[i], Math.max(low[i], actions[k]));
      }
    }
    return actions;
  }

  actorActions(outputs: Float32Array): ActorActions {
    const { low, high } = this.options, a = low.length;
    return {
      actions: this.#scale(outputs),
      penalty: 0,
      outputGradient: (actionGradient) => {
        const grad = new Float32Array(actionGradient.length);
        for (let k = 0; k < grad.length; k++) {
          grad[k] = actionGradient[k] * (high[k % a] - low[k % a]) * this.#slope;
        }
        return grad;
      },
    };
  }
}
