/**
 * Decentralized action selection from actors: each actor sees only its own observation.
 *
 * @module
 */
import type { Mlp } from "../nn/mlp.ts";
import type { Pcg32 } from "../rng.ts";

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

/**
 * Discrete actions of every agent: actor i sees only `observations[i]`; mode `greedy` takes
 * the argmax of its logits, `sample` draws from its categorical distribution (needs `rng`).
 */
export function selectActions(
  actors: readonly Mlp[],
  observations: readonly Float32Array[],
  choice: { mode: ActionMode; rng?: Pcg32 },
): number[] {
  const { mode, rng } = choice;
  return actors.map((actor, i) => {
    const logits = actor.forward(observations[i]);
    if (mode === "greedy") return argmax(logits);
    if (!rng) throw new Error("Sampling actions needs a random number generator");
    return sampleCategorical(logits, rng.nextFloat());
  });
}
