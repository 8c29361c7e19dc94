/**
 * `simple_spread_v3`: N agents must cover N landmarks without colliding (MPE2's
 * `simple_spread.py`, the MADDPG paper's cooperative navigation).
 *
 * @module
 */
import { registerEnv } from "../registry.ts";
import { Agent, distance, isCollision, Landmark, World } from "./core.ts";
import type { ObservationBuffer, Scenario, ScenarioRandom } from "./scenario.ts";
import { scatter, writeRelative, writeValues } from "./scenario.ts";
import { COMMON_OPTIONS, createMpeEnv, localRatioOption } from "./options.ts";
import type { CommonMpeOptions } from "./options.ts";

/**
 * MPE2's `simple_spread` scenario with `N` agents and landmarks (its curriculum and
 * partial-observability options are not ported). Observation (`6N`: 18 for N = 3): velocity,
 * position, landmarks relative, other agents relative, other agents' utterances (zeros:
 * everyone is silent).
 */
export class SpreadScenario implements Scenario {
  /** Number of agents and of landmarks. */
  readonly n: number;

  constructor(n = 3) {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new RangeError(`simple_spread needs N >= 1 agents, got ${n}`);
    }
    this.n = n;
  }

  /** N silent colliding agents of size 0.15, N landmarks that do not collide; dim_c 2. */
  makeWorld(): World {
    const agents = Array.from({ length: this.n }, (_, i) => {
      const agent = new Agent();
      agent.name = `agent_${i}`;
      agent.collide = true;
      agent.silent = true;
      agent.size = 0.15;
      return agent;
    });
    const landmarks = Array.from({ length: this.n }, (_, i) => {
      const landmark = new Landmark();
      landmark.name = `landmark ${i}`;
      landmark.collide = false;
      landmark.movable = false;
      return landmark;
    });
    return new World({ agents, landmarks, dimC: 2, collaborative: true });
  }

  /** Agents then landmarks U(-1, 1). */
  resetWorld(world: World, rng: ScenarioRandom): void {
    for (const agent of world.agents) agent.color = Float64Array.of(0.35, 0.35, 0.85);
    for (const landmark of world.landmarks) landmark.color = Float64Array.of(0.25, 0.25, 0.25);
    scatter(world.agents, rng);
    scatter(world.landmarks, rng);
  }

  /** −1 per other agent touching this one. */
  reward(agent: Agent, world: World): number {
    let rew = 0;
    if (agent.collide) {
      for (const a of world.agents) rew -= 1.0 * (isCollision(a, agent) && a !== agent ? 1 : 0);
    }
    return rew;
  }

  /** `−Σ_landmarks min_agents dist`. */
  globalReward(world: World): number {
    let rew = 0;
    for (const lm of world.landmarks) rew -= minDistance(world.agents, lm);
    return rew;
  }

  /** Velocity, position, landmarks relative, others relative, others' utterances. */
  observation(agent: Agent, world: World, out: ObservationBuffer): number {
    out[0] = agent.pVel[0];
    out[1] = agent.pVel[1];
    out[2] = agent.pPos[0];
    out[3] = agent.pPos[1];
    let at = 4;
    for (const lm of world.landmarks) at = writeRelative(out, at, lm.pPos, agent.pPos);
    for (const other of world.agents) {
      if (other !== agent) at = writeRelative(out, at, other.pPos, agent.pPos);
    }
    for (const other of world.agents) if (other !== agent) at = writeValues(out, at, other.c);
    return at;
  }

  /** `[reward, collisions, Σ min distances, occupied landmarks]` (MPE2's tuple). */
  benchmarkData(agent: Agent, world: World): number[] {
    let rew = 0, collisions = 0, minDists = 0, occupied = 0;
    for (const lm of world.landmarks) {
      const d = minDistance(world.agents, lm);
      minDists += d;
      rew -= d;
      if (d < 0.1) occupied++;
    }
    if (agent.collide) {
      for (const a of world.agents) {
        if (isCollision(a, agent) && a !== agent) {
          rew -= 1;
          collisions++;
        }
      }
    }
    return [rew, collisions, minDists, occupied];
  }
}

/** `min(dist(a, lm) for a in agents)` in MPE2's order (`a.p − lm.p`). */
function minDistance(agents: readonly Agent[], lm: Landmark): number {
  let best = Infinity;
  for (const a of agents) {
    const d = distance(a, lm);
    if (d < best) best = d;
  }
  return best;
}

/** Options of `simple_spread_v3`. */
export type SpreadOptions = CommonMpeOptions & {
  /** Number of agents and landmarks (MPE2's `N`). */
  n: number;
  /** MPE2's `local_ratio`. */
  localRatio: number;
};

registerEnv<SpreadOptions>({
  id: "simple_spread_v3",
  description: "MPE2 simple_spread: N agents cover N landmarks, penalised for collisions",
  options: {
    ...COMMON_OPTIONS,
    n: {
      type: "int",
      default: 3,
      min: 1,
      max: 100,
      help: "number of agents and of landmarks",
      aliases: ["N"],
    },
    localRatio: localRatioOption(0.5),
  },
  create: (options) => createMpeEnv("simple_spread_v3", new SpreadScenario(options.n), options),
});
