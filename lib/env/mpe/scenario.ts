/**
 * The scenario interface (MPE2's `BaseScenario`): what a particle world adds to the physics
 * of `core.ts` — its entities, its reset, its rewards and its observations.
 *
 * @module
 */
import { isCollision } from "./core.ts";
import type { Agent, Entity, World } from "./core.ts";

/**
 * The draws a scenario's reset makes, in numpy `Generator` terms (the environment passes its
 * `NumpyGenerator`, so the draws are MPE2's bit for bit).
 */
export interface ScenarioRandom {
  /** One double uniform in [low, high): `low + (high - low) * u53`. */
  uniform(low: number, high: number): number;
  /** One integer uniform in `0 … n − 1` (numpy's `integers(n)`). */
  integers(n: number): number;
}

/**
 * Where an observation is written: a `Float32Array` (each value rounded like numpy's
 * `astype(np.float32)`) or a `Float64Array` (the float64 values themselves).
 */
export type ObservationBuffer = Float32Array | Float64Array;

/** A particle world: entities, reset, rewards, observations. */
export interface Scenario<W extends World = World> {
  /** Builds the world with its entities (MPE2's `make_world`). */
  makeWorld(): W;
  /**
   * Draws a new initial state (MPE2's `reset_world`): colours, goals, then positions (and
   * zero velocities and utterances), in MPE2's draw order.
   */
  resetWorld(world: W, rng: ScenarioRandom): void;
  /** The reward of `agent` after a physics step (MPE2's `reward`). */
  reward(agent: Agent, world: W): number;
  /**
   * The shared reward of scenarios with a `local_ratio` (MPE2's `global_reward`); the
   * environment mixes `global · (1 − ratio) + own · ratio`.
   */
  globalReward?(world: W): number;
  /**
   * Writes the observation of `agent` into `out` from index 0 (MPE2's `observation`, in its
   * layout) and returns how many values it wrote. Must not allocate.
   */
  observation(agent: Agent, world: W, out: ObservationBuffer): number;
  /** Evaluation data of `agent` (MPE2's `benchmark_data`), when the scenario has some. */
  benchmarkData?(agent: Agent, world: W): unknown;
}

/**
 * How many good agents adversary `agent` touches (0 for a good agent): MPE2's benchmark data
 * of tag and world_comm, the predator-prey measure.
 */
export function goodAgentsTouched(agent: Agent, world: World): number {
  if (!agent.adversary) return 0;
  let touches = 0;
  for (const other of world.agents) if (!other.adversary && isCollision(other, agent)) touches++;
  return touches;
}

/**
 * MPE2's placement at reset: each entity in turn draws x then y uniform in ±`bound`, and its
 * velocity (and an agent's message) is zeroed. The draw order is what seeding reproduces.
 */
export function scatter(entities: readonly Entity[], rng: ScenarioRandom, bound = 1): void {
  for (const entity of entities) {
    entity.pPos[0] = rng.uniform(-bound, bound);
    entity.pPos[1] = rng.uniform(-bound, bound);
    entity.pVel.fill(0);
    if ("c" in entity) (entity as Agent).c.fill(0);
  }
}

// Four positional arguments on purpose: observations call this for every entity pair on every
// step, and an options object per call would allocate on that path.
/** Writes `x` at `out[at]`, `out[at + 1]` the relative position `b − a`; returns `at + 2`. */
export function writeRelative(
  out: ObservationBuffer,
  at: number,
  b: Float64Array,
  a: Float64Array,
): number {
  out[at] = b[0] - a[0];
  out[at + 1] = b[1] - a[1];
  return at + 2;
}

/** Copies `values` into `out` from `at`; returns the index after the last value written. */
export function writeValues(out: ObservationBuffer, at: number, values: Float64Array): number {
  for (let k = 0; k < values.length; k++) out[at + k] = values[k];
  return at + values.length;
}

/**
 * MPE2's boundary penalty of tag and world_comm: 0 below 0.9, linear to 1, then
 * `min(exp(2x − 2), 10)`.
 */
export function bound(x: number): number {
  if (x < 0.9) return 0;
  if (x < 1.0) return (x - 0.9) * 10;
  return Math.min(Math.exp(2 * x - 2), 10);
}
