/**
 * `simple_reference_v3`: two agents that move and talk; each knows the landmark the *other*
 * must reach (MPE2's `simple_reference.py`).
 *
 * @module
 */
import { registerEnv } from "../registry.ts";
import { Agent, distance, Landmark, World } from "./core.ts";
import type { ObservationBuffer, Scenario, ScenarioRandom } from "./scenario.ts";
import { scatter, writeRelative, writeValues } from "./scenario.ts";
import { COMMON_OPTIONS, createMpeEnv, localRatioOption } from "./options.ts";
import type { CommonMpeOptions } from "./options.ts";

/**
 * MPE2's `simple_reference`. Observation (21): velocity, landmarks relative, the colour of
 * the landmark the other agent must reach, the other agent's utterance (dim_c 10).
 */
export class ReferenceScenario implements Scenario {
  /** `agent_0`, `agent_1` (no collisions, dim_c 10), 3 landmarks. */
  makeWorld(): World {
    const agents = Array.from({ length: 2 }, (_, i) => {
      const agent = new Agent();
      agent.name = `agent_${i}`;
      agent.collide = false;
      return agent;
    });
    const landmarks = Array.from({ length: 3 }, (_, i) => {
      const landmark = new Landmark();
      landmark.name = `landmark ${i}`;
      landmark.collide = false;
      landmark.movable = false;
      return landmark;
    });
    return new World({ agents, landmarks, dimC: 10, collaborative: true });
  }

  /** `integers(3)` twice (goals of agent 0 and 1), colours, agents and landmarks U(-1, 1). */
  resetWorld(world: World, rng: ScenarioRandom): void {
    for (const agent of world.agents) {
      agent.goalA = null;
      agent.goalB = null;
    }
    const [a0, a1] = world.agents;
    a0.goalA = a1;
    a0.goalB = world.landmarks[rng.integers(world.landmarks.length)];
    a1.goalA = a0;
    a1.goalB = world.landmarks[rng.integers(world.landmarks.length)];
    for (const agent of world.agents) agent.color = Float64Array.of(0.25, 0.25, 0.25);
    world.landmarks[0].color = Float64Array.of(0.75, 0.25, 0.25);
    world.landmarks[1].color = Float64Array.of(0.25, 0.75, 0.25);
    world.landmarks[2].color = Float64Array.of(0.25, 0.25, 0.75);
    a0.goalA.color = a0.goalB.color;
    a1.goalA.color = a1.goalB.color;
    scatter(world.agents, rng);
    scatter(world.landmarks, rng);
  }

  /** `−dist(other agent, own goal_b)`. */
  reward(agent: Agent): number {
    if (!agent.goalA || !agent.goalB) return -0.0;
    return -distance(agent.goalA, agent.goalB);
  }

  /** The mean of the agents' rewards. */
  globalReward(world: World): number {
    let all = 0;
    for (const agent of world.agents) all += this.reward(agent);
    return all / world.agents.length;
  }

  /** See the class description. */
  observation(agent: Agent, world: World, out: ObservationBuffer): number {
    out[0] = agent.pVel[0];
    out[1] = agent.pVel[1];
    let at = 2;
    for (const lm of world.landmarks) at = writeRelative(out, at, lm.pPos, agent.pPos);
    const color = agent.goalB ? agent.goalB.color : null;
    for (let k = 0; k < world.dimColor; k++) out[at++] = color ? color[k] : 0;
    for (const other of world.agents) if (other !== agent) at = writeValues(out, at, other.c);
    return at;
  }
}

/** Options of `simple_reference_v3`. */
export type ReferenceOptions = CommonMpeOptions & {
  /** MPE2's `local_ratio`. */
  localRatio: number;
};

registerEnv<ReferenceOptions>({
  id: "simple_reference_v3",
  description: "MPE2 simple_reference: two agents tell each other where to go",
  options: { ...COMMON_OPTIONS, localRatio: localRatioOption(0.5) },
  create: (options) => createMpeEnv("simple_reference_v3", new ReferenceScenario(), options),
});
