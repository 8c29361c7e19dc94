/**
 * `simple_v3`: one agent, one landmark; the reward is minus the squared distance to it
 * (MPE2's `simple.py`, a debugging world).
 *
 * @module
 */
import { registerEnv } from "../registry.ts";
import { Agent, Landmark, squaredDistance, World } from "./core.ts";
import type { ObservationBuffer, Scenario, ScenarioRandom } from "./scenario.ts";
import { scatter, writeRelative } from "./scenario.ts";
import { COMMON_OPTIONS, createMpeEnv } from "./options.ts";
import type { CommonMpeOptions } from "./options.ts";

/** MPE2's `simple` scenario. Observation (4): own velocity, landmark relative position. */
export class SimpleScenario implements Scenario {
  /** One silent agent and one landmark, neither colliding. */
  makeWorld(): World {
    const agent = new Agent();
    agent.name = "agent_0";
    agent.collide = false;
    agent.silent = true;
    const landmark = new Landmark();
    landmark.name = "landmark 0";
    landmark.collide = false;
    landmark.movable = false;
    return new World({ agents: [agent], landmarks: [landmark] });
  }

  /** Colours, then agent and landmark positions U(-1, 1). */
  resetWorld(world: World, rng: ScenarioRandom): void {
    for (const agent of world.agents) agent.color = Float64Array.of(0.25, 0.25, 0.25);
    for (const landmark of world.landmarks) landmark.color = Float64Array.of(0.75, 0.75, 0.75);
    world.landmarks[0].color = Float64Array.of(0.75, 0.25, 0.25);
    scatter(world.agents, rng);
    scatter(world.landmarks, rng);
  }

  /** `-‖p − landmark‖²`. */
  reward(agent: Agent, world: World): number {
    return -squaredDistance(agent, world.landmarks[0]);
  }

  /** `[vel, landmark − pos]`. */
  observation(agent: Agent, world: World, out: ObservationBuffer): number {
    out[0] = agent.pVel[0];
    out[1] = agent.pVel[1];
    let at = 2;
    for (const landmark of world.landmarks) at = writeRelative(out, at, landmark.pPos, agent.pPos);
    return at;
  }
}

registerEnv<CommonMpeOptions>({
  id: "simple_v3",
  description: "MPE2 simple: one agent learns to reach a landmark (debugging world)",
  options: COMMON_OPTIONS,
  create: (options) => createMpeEnv("simple_v3", new SimpleScenario(), options),
});
