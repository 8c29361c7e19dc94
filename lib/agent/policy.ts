/**
 * Decentralized action selection from actors: each actor sees only its own observation.
 *
 * @module
 */
import type { Action } from "../env/parallel_env.ts";
import type { Box, Space } from "../env/spaces.ts";
import { normalFromUniforms } from "../nn/gumbel.ts";
import type { Mlp } from "../nn/mlp.ts";
import type { Pcg32 } from "../rng.ts";
import { boxFraction } from "./_action_heads.ts";
import type { BoxOutput } from "./_action_heads.ts";

/** How actors choose actions: the most likely action, or a sample of the actor's policy. */
export type ActionMode = "greedy" | "sample";

/**
 * Index of the largest value (the first one on ties, as `torch.argmax`).
 *
 * @example
 * ```ts
 * import { argmax } from "./policy.ts";
 * import assert from "node:assert/strict";
 * assert.equal(argmax([0.1, 3, 3, -1]), 1);
 * ```
 */
export function argmax(
  values: ArrayLike<number>,
  offset = 0,
  length = values.length - offset,
): number {
  let best = 0;
  for (let k = 1; k < length; k++) if (values[offset + k] > values[offset + best]) best = k;
  return best;
}

/**
 * Draws from the categorical distribution softmax(logits[offset .. offset+length]) by
 * inverse CDF, given one number `u` uniform in [0, 1).
 *
 * @example
 * ```ts
 * import { sampleCategorical } from "./policy.ts";
 * import assert from "node:assert/strict";
 * // softmax([0, ln 3]) = [0.25, 0.75]
 * assert.deepEqual([sampleCategorical([0, Math.log(3)], 0.2), sampleCategorical([0, Math.log(3)], 0.3)], [0, 1]);
 * ```
 */
// Four positional arguments on purpose: it runs once per batch row in every update round, and
// the trailing two (a slice of a row-major logits array) are optional.
export function sampleCategorical(
  logits: ArrayLike<number>,
  u: number,
  offset = 0,
  length = logits.length - offset,
): number {
  let max = -Infinity;
  for (let k = 0; k < length; k++) max = Math.max(max, logits[offset + k]);
  let total = 0;
  for (let k = 0; k < length; k++) total += Math.exp(logits[offset + k] - max);
  const threshold = u * total;
  let cumulative = 0;
  for (let k = 0; k < length; k++) {
    cumulative += Math.exp(logits[offset + k] - max);
    if (threshold < cumulative) return k;
  }
  return length - 1; // u · total rounded up to the total
}

/** How {@linkcode selectActions} chooses. */
export interface ActionChoice {
  /** Discrete agents: `greedy` (argmax) or `sample` (of the categorical policy). */
  mode: ActionMode;
  /** Generator of sampled actions and of exploration noise. */
  rng?: Pcg32;
  /** The action spaces; an agent whose space is a Box acts continuously. @default all discrete */
  spaces?: readonly Space[];
  /** Std of the Gaussian noise added to continuous actions (before clipping). @default 0 */
  noise?: number;
}

/**
 * Every agent's action; actor i sees only `observations[i]`. A discrete agent's actor gives
 * logits: `greedy` takes their argmax, `sample` draws from their softmax. A continuous agent's
 * actor ends in a sigmoid, scaled to its box: `low + (high − low) · μ(o)` (or a tanh:
 * `low + (high − low) · (μ(o) + 1) / 2`), plus Gaussian noise of std `noise` (two uniforms per
 * element), clipped to the box.
 */
export function selectActions(
  actors: readonly Mlp[],
  observations: readonly Float32Array[],
  choice: ActionChoice,
): Action[] {
  const { mode, rng, spaces, noise = 0 } = choice;
  return actors.map((actor, i) => {
    const space = spaces?.[i];
    if (space?.kind === "box") {
      const output = actor.forward(observations[i]); // becomes the action
      const last = actor.activations[actor.activations.length - 1];
      return boxAction(output, space, { noise, rng, output: last === "tanh" ? last : "sigmoid" });
    }
    const output = actor.forward(
      observations[i],
      logitsScratch(actor.sizes[actor.sizes.length - 1]),
    );
    if (mode === "greedy") return argmax(output);
    if (!rng) throw new Error("Sampling actions needs a random number generator");
    return sampleCategorical(output, rng.nextFloat());
  });
}

/** Logits of a discrete actor, read at once: one array per width, reused. */
const logitsByWidth: Float64Array[] = [];

function logitsScratch(width: number): Float64Array {
  return (logitsByWidth[width] ??= new Float64Array(width));
}

function boxAction(
  output: Float64Array,
  space: Box,
  { noise, rng, output: bounded }: { noise: number; rng?: Pcg32; output: BoxOutput },
): Float64Array {
  if (noise > 0 && !rng) throw new Error("Exploration noise needs a random number generator");
  for (let k = 0; k < output.length; k++) {
    const low = space.low[k], high = space.high[k];
    let a = low + (high - low) * boxFraction(bounded, output[k]);
    if (noise > 0) a += noise * normalFromUniforms(rng!.nextFloat(), rng!.nextFloat());
    output[k] = Math.min(high, Math.max(low, a));
  }
  return output;
}
