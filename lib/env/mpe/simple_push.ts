/**
 * `simple_push_v3`: a good agent goes to its goal landmark while an adversary, who does not
 * know which one it is, pushes it away (MPE2's `simple_push.py`, the MADDPG paper's
 * keep-away).
 *
 * @module
 */
import { registerEnv } from "../registry.ts";
import { Agent, distance, Landmark, World } from "./core.ts";
import type { ObservationBuffer, Scenario, ScenarioRandom } from "./scenario.ts";
import { scatter, writeRelative, writeValues } from "./scenario.ts";
import { COMMON_OPTIONS, createMpeEnv } from "./options.ts";
import type { CommonMpeOptions } from "./options.ts";

/**
 * MPE2's `simple_push`. Observations: adversary (8) velocity, landmarks relative, other
 * relative; good agent (19) velocity, goal relative, own colour, landmarks relative,
 * landmark colours, other relative.
 */
export class PushScenario implements Scenario {
  /** `adversary_0` and `agent_0` (colliding, size 0.05), two landmarks; dim_c 2. */
  makeWorld(): World {
    const agents = Array.from({ length: 2 }, (_, i) => {
      const agent = new Agent();
      agent.adversary = i < 1;
      agent.name = agent.adversary ? `adversary_${i}` : `agent_${i - 1}`;
      agent.collide = true;
      agent.silent = true;
      return agent;
    });
    const landmarks = Array.from({ length: 2 }, (_, i) => {
      const landmark = new Landmark();
      landmark.name = `landmark ${i}`;
      landmark.collide = false;
      landmark.movable = false;
      return landmark;
    });
    return new World({ agents, landmarks, dimC: 2 });
  }

  /** Colours, `integers(2)` goal, then agents and landmarks U(-1, 1). */
  resetWorld(world: World, rng: ScenarioRandom): void {
    world.landmarks.forEach((landmark, i) => {
      landmark.color = Float64Array.of(0.1, 0.1, 0.1);
      landmark.color[i + 1] += 0.8;
      landmark.index = i;
    });
    const goal = world.landmarks[rng.integers(world.landmarks.length)];
    for (const agent of world.agents) {
      agent.goalA = goal;
      agent.color = Float64Array.of(0.25, 0.25, 0.25);
      if (agent.adversary) {
        agent.color = Float64Array.of(0.75, 0.25, 0.25);
      } else {
        agent.color[goal.index + 1] += 0.5;
      }
    }
    scatter(world.agents, rng);
    scatter(world.landmarks, rng);
  }

  /** Good: `−dist(goal)`; adversary: `min_good dist(goal) − dist(adversary, goal)`. */
  reward(agent: Agent, world: World): number {
    if (!agent.adversary) return -distance(agent, agent.goalA!);
    let best = Infinity;
    for (const a of world.agents) {
      if (a.adversary) continue;
      const d = distance(a, a.goalA!);
      if (d < best) best = d;
    }
    return best - distance(agent.goalA!, agent);
  }

  /** See the class description. */
  observation(agent: Agent, world: World, out: ObservationBuffer): number {
    out[0] = agent.pVel[0];
    out[1] = agent.pVel[1];
    let at = 2;
    if (!agent.adversary) {
      at = writeRelative(out, at, agent.goalA!.pPos, agent.pPos);
      at = writeValues(out, at, agent.color);
    }
    for (const lm of world.landmarks) at = writeRelative(out, at, lm.pPos, agent.pPos);
    if (!agent.adversary) { for (const lm of world.landmarks) at = writeValues(out, at, lm.color); }
    for (const other of world.agents) {
      if (other !== agent) at = writeRelative(out, at, other.pPos, agent.pPos);
    }
    return at;
  }
}

registerEnv<CommonMpeOptions>({
  id: "simple_push_v3",
  description: "MPE2 simple_push: an adversary pushes a good agent away from its goal",
  options: COMMON_OPTIONS,
  create: (options) => createMpeEnv("simple_push_v3", new PushScenario(), options),
});
