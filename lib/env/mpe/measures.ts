/**
 * The MADDPG paper's measures of an episode in the particle worlds, tracked step by step from
 * the world state (MPE2's `benchmark_data` functions define most of them).
 *
 * Every particle world gets the return of each agent (`return_<agent>`) and team returns:
 * `team_adversaries_return` and `team_good_return` (the mean over the team's agents of their
 * returns) where the scenario has adversaries (tag, world_comm, adversary, push, crypto —
 * crypto's eve is the adversary), otherwise `team_return` (the mean over all agents).
 * Then, per scenario:
 *
 * - `simple_spread` (cooperative navigation): `min_distance_sum`, the mean over the episode's
 *   steps of Σ over landmarks of the distance to the closest agent (the paper's "distance";
 *   MPE2's `min_dists`), `min_distance_sum_final` the same at the last step, `collisions`
 *   the agent–agent collisions (`dist < size_a + size_b`, both colliding) summed over the
 *   steps with each colliding pair counted once per step (MPE2's per-agent count summed over
 *   the agents, halved), and `occupied_landmarks` at the last step (landmarks with an agent
 *   closer than 0.1, MPE2's threshold).
 * - `simple_adversary` (physical deception), at the last step: `good_success` (1 when some
 *   good agent is within the goal landmark's radius, `dist < goal.size`, else 0),
 *   `adversary_success` (the same for an adversary), `good_goal_distance` (the closest good
 *   agent's distance to the goal) and `adversary_goal_distance` (the closest adversary's).
 * - `simple_tag` (predator-prey) and `simple_world_comm`: `touches`, the adversary–good
 *   contacts summed over the adversaries ({@linkcode goodAgentsTouched}) and the steps.
 * - `simple_speaker_listener` (cooperative communication), at the last step:
 *   `final_distance` (listener to the goal landmark) and `success` (1 when
 *   `final_distance < goal.size`; neither MPE2 nor the paper's code defines a threshold —
 *   their benchmark data is the reward `−dist²` — so this one is ours).
 *
 * An episode without steps reports zeros.
 *
 * @example
 * ```ts
 * import "../builtin.ts";
 * import { makeEnv } from "../registry.ts";
 * import { createMeasures } from "./measures.ts";
 * import assert from "node:assert/strict";
 * const env = makeEnv("simple_spread_v3");
 * const measures = createMeasures(env)!;
 * env.reset({ seed: 1 });
 * measures.reset();
 * const { rewards } = env.step([0, 0, 0]);
 * measures.step(rewards);
 * const result = measures.result();
 * assert.equal(result.return_agent_0, rewards[0]);
 * assert.equal(result.team_return, (rewards[0] + rewards[1] + rewards[2]) / 3);
 * assert.ok(result.min_distance_sum > 0);
 * ```
 *
 * @module
 */
import type { ParallelEnv } from "../parallel_env.ts";
import { distance, isCollision } from "./core.ts";
import type { Agent, Entity, World } from "./core.ts";
import { goodAgentsTouched } from "./scenario.ts";
import { MpeEnv } from "./simple_env.ts";
import { SpreadScenario } from "./simple_spread.ts";
import { AdversaryScenario } from "./simple_adversary.ts";
import { TagScenario } from "./simple_tag.ts";
import { WorldCommScenario } from "./simple_world_comm.ts";
import { SpeakerListenerScenario } from "./simple_speaker_listener.ts";

/** The measures of one episode, fed step by step. */
export interface EpisodeMeasures {
  /** Starts a new episode (call it after the environment's `reset`). */
  reset(): void;
  /**
   * Adds one step: call it after each `env.step` with that step's rewards (in the order of
   * `env.agents`); it reads the environment's world. Allocates nothing.
   */
  step(rewards: readonly number[]): void;
  /** The episode's measures: flat, JSON-safe numbers, keys in a fixed order. */
  result(): Record<string, number>;
}

/** The scenario-specific part of the measures. */
interface ScenarioMeasures {
  reset(): void;
  step(world: World): void;
  /** Writes the measures into `out` (`steps` steps were taken, maybe 0). */
  write(out: Record<string, number>, steps: number): void;
}

/**
 * The measures of `env`'s episodes, or `undefined` when `env` is not a particle world
 * ({@linkcode MpeEnv}).
 */
export function createMeasures(env: ParallelEnv): EpisodeMeasures | undefined {
  if (!(env instanceof MpeEnv)) return undefined;
  return new MpeMeasures(env);
}

class MpeMeasures implements EpisodeMeasures {
  readonly #env: MpeEnv;
  readonly #returns: Float64Array;
  readonly #returnKeys: string[];
  readonly #adversary: boolean[];
  readonly #hasAdversaries: boolean;
  readonly #scenario: ScenarioMeasures | null;
  #steps = 0;

  constructor(env: MpeEnv) {
    this.#env = env;
    const agents = env.world.agents;
    this.#returns = new Float64Array(agents.length);
    this.#returnKeys = env.agents.map((name) => `return_${name}`);
    this.#adversary = agents.map((agent) => agent.adversary);
    this.#hasAdversaries = this.#adversary.some((a) => a);
    this.#scenario = scenarioMeasures(env);
  }

  reset(): void {
    this.#returns.fill(0);
    this.#steps = 0;
    this.#scenario?.reset();
  }

  step(rewards: readonly number[]): void {
    const returns = this.#returns;
    if (rewards.length !== returns.length) {
      throw new RangeError(
        `${this.#env.id} measures: expected ${returns.length} rewards, got ${rewards.length}`,
      );
    }
    for (let i = 0; i < returns.length; i++) returns[i] += rewards[i];
    this.#steps++;
    this.#scenario?.step(this.#env.world);
  }

  result(): Record<string, number> {
    const out: Record<string, number> = {};
    const returns = this.#returns, adversary = this.#adversary;
    for (let i = 0; i < returns.length; i++) out[this.#returnKeys[i]] = returns[i];
    if (this.#hasAdversaries) {
      out.team_adversaries_return = teamMean(returns, adversary, true);
      out.team_good_return = teamMean(returns, adversary, false);
    } else {
      let sum = 0;
      for (const r of returns) sum += r;
      out.team_return = sum / returns.length;
    }
    this.#scenario?.write(out, this.#steps);
    return out;
  }
}

/** Mean return of the agents whose adversary flag is `which` (0 for an empty team). */
function teamMean(returns: Float64Array, adversary: boolean[], which: boolean): number {
  let sum = 0, count = 0;
  for (let i = 0; i < returns.length; i++) {
    if (adversary[i] !== which) continue;
    sum += returns[i];
    count++;
  }
  return count > 0 ? sum / count : 0;
}

function scenarioMeasures(env: MpeEnv): ScenarioMeasures | null {
  const scenario = env.scenario;
  if (scenario instanceof SpreadScenario) return new SpreadMeasures();
  if (scenario instanceof AdversaryScenario) return new DeceptionMeasures();
  if (scenario instanceof TagScenario || scenario instanceof WorldCommScenario) {
    return new TouchMeasures();
  }
  if (scenario instanceof SpeakerListenerScenario) return new CommunicationMeasures();
  return null;
}

/** Distance from `entity` to the closest of `agents` (Infinity when there are none). */
function closest(agents: readonly Agent[], entity: Entity): number {
  let best = Infinity;
  for (const agent of agents) {
    const d = distance(agent, entity);
    if (d < best) best = d;
  }
  return best;
}

/** MPE2's landmark-occupied threshold in `simple_spread`'s `benchmark_data`. */
const OCCUPIED_DISTANCE = 0.1;

/** Cooperative navigation (`simple_spread`). */
class SpreadMeasures implements ScenarioMeasures {
  #distanceSum = 0;
  #distanceFinal = 0;
  #collisions = 0;
  #occupied = 0;

  reset(): void {
    this.#distanceSum = 0;
    this.#distanceFinal = 0;
    this.#collisions = 0;
    this.#occupied = 0;
  }

  step(world: World): void {
    const agents = world.agents;
    let sum = 0, occupied = 0;
    for (const landmark of world.landmarks) {
      const d = closest(agents, landmark);
      sum += d;
      if (d < OCCUPIED_DISTANCE) occupied++;
    }
    this.#distanceSum += sum;
    this.#distanceFinal = sum;
    this.#occupied = occupied;
    let collisions = 0;
    for (let i = 0; i < agents.length; i++) {
      if (!agents[i].collide) continue;
      for (let j = i + 1; j < agents.length; j++) {
        if (agents[j].collide && isCollision(agents[i], agents[j])) collisions++;
      }
    }
    this.#collisions += collisions;
  }

  write(out: Record<string, number>, steps: number): void {
    out.min_distance_sum = steps > 0 ? this.#distanceSum / steps : 0;
    out.min_distance_sum_final = this.#distanceFinal;
    out.collisions = this.#collisions;
    out.occupied_landmarks = this.#occupied;
  }
}

/** Physical deception (`simple_adversary`), measured at the last step. */
class DeceptionMeasures implements ScenarioMeasures {
  #goodDistance = 0;
  #adversaryDistance = 0;
  #goodSuccess = 0;
  #adversarySuccess = 0;

  reset(): void {
    this.#goodDistance = 0;
    this.#adversaryDistance = 0;
    this.#goodSuccess = 0;
    this.#adversarySuccess = 0;
  }

  step(world: World): void {
    let good = Infinity, adversary = Infinity, radius = 0;
    for (const agent of world.agents) {
      const goal = agent.goalA;
      if (goal === null) continue;
      radius = goal.size;
      const d = distance(agent, goal);
      if (agent.adversary) adversary = Math.min(adversary, d);
      else good = Math.min(good, d);
    }
    this.#goodDistance = Number.isFinite(good) ? good : 0;
    this.#adversaryDistance = Number.isFinite(adversary) ? adversary : 0;
    this.#goodSuccess = good < radius ? 1 : 0;
    this.#adversarySuccess = adversary < radius ? 1 : 0;
  }

  write(out: Record<string, number>): void {
    out.good_success = this.#goodSuccess;
    out.adversary_success = this.#adversarySuccess;
    out.good_goal_distance = this.#goodDistance;
    out.adversary_goal_distance = this.#adversaryDistance;
  }
}

/** Predator-prey (`simple_tag`, `simple_world_comm`): adversary–good contacts. */
class TouchMeasures implements ScenarioMeasures {
  #touches = 0;

  reset(): void {
    this.#touches = 0;
  }

  step(world: World): void {
    let touches = 0;
    for (const agent of world.agents) touches += goodAgentsTouched(agent, world);
    this.#touches += touches;
  }

  write(out: Record<string, number>): void {
    out.touches = this.#touches;
  }
}

/** Cooperative communication (`simple_speaker_listener`), measured at the last step. */
class CommunicationMeasures implements ScenarioMeasures {
  #distance = 0;
  #success = 0;

  reset(): void {
    this.#distance = 0;
    this.#success = 0;
  }

  step(world: World): void {
    // As MPE2's reward: the speaker's goal_a is the listener, its goal_b the goal landmark.
    const speaker = world.agents[0];
    const listener = speaker.goalA, goal = speaker.goalB;
    if (listener === null || goal === null) return;
    const d = distance(listener, goal);
    this.#distance = d;
    this.#success = d < goal.size ? 1 : 0;
  }

  write(out: Record<string, number>): void {
    out.final_distance = this.#distance;
    out.success = this.#success;
  }
}
