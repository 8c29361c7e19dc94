/**
 * `simple_speaker_listener_v4`: an immobile speaker sees the goal landmark's colour and
 * talks; a silent listener must go there (MPE2's `simple_speaker_listener.py`, the MADDPG
 * paper's cooperative communication).
 *
 * @module
 */
import { registerEnv } from "../registry.ts";
import { Agent, Landmark, squaredDistance, World } from "./core.ts";
import type { ObservationBuffer, Scenario, ScenarioRandom } from "./scenario.ts";
import { scatter, writeRelative, writeValues } from "./scenario.ts";
import { COMMON_OPTIONS, createMpeEnv } from "./options.ts";
import type { CommonMpeOptions } from "./options.ts";

/**
 * MPE2's `simple_speaker_listener`. Observations: speaker (3) the goal's colour; listener
 * (11) velocity, landmarks relative, the speaker's utterance.
 */
export class SpeakerListenerScenario implements Scenario {
  /** `speaker_0` (immobile, dim_c 3) and `listener_0` (silent), size 0.075; 3 landmarks. */
  makeWorld(): World {
    const agents = Array.from({ length: 2 }, (_, i) => {
      const agent = new Agent();
      agent.name = i === 0 ? "speaker_0" : "listener_0";
      agent.collide = false;
      agent.size = 0.075;
      return agent;
    });
    agents[0].movable = false;
    agents[1].silent = true;
    const landmarks = Array.from({ length: 3 }, (_, i) => {
      const landmark = new Landmark();
      landmark.name = `landmark ${i}`;
      landmark.collide = false;
      landmark.movable = false;
      landmark.size = 0.04;
      return landmark;
    });
    return new World({ agents, landmarks, dimC: 3, collaborative: true });
  }

  /** `integers(3)` goal, colours, then agents (the speaker too) and landmarks U(-1, 1). */
  resetWorld(world: World, rng: ScenarioRandom): void {
    for (const agent of world.agents) {
      agent.goalA = null;
      agent.goalB = null;
    }
    const [speaker, listener] = world.agents;
    speaker.goalA = listener;
    speaker.goalB = world.landmarks[rng.integers(world.landmarks.length)];
    for (const agent of world.agents) agent.color = Float64Array.of(0.25, 0.25, 0.25);
    world.landmarks[0].color = Float64Array.of(0.65, 0.15, 0.15);
    world.landmarks[1].color = Float64Array.of(0.15, 0.65, 0.15);
    world.landmarks[2].color = Float64Array.of(0.15, 0.15, 0.65);
    const goal = speaker.goalB.color;
    speaker.goalA.color = Float64Array.of(goal[0] + 0.45, goal[1] + 0.45, goal[2] + 0.45);
    scatter(world.agents, rng);
    scatter(world.landmarks, rng);
  }

  /** Both: `−‖listener − goal‖²`. */
  reward(_agent: Agent, world: World): number {
    const a = world.agents[0];
    return -squaredDistance(a.goalA!, a.goalB!);
  }

  /** See the class description. */
  observation(agent: Agent, world: World, out: ObservationBuffer): number {
    if (!agent.movable) {
      const color = agent.goalB ? agent.goalB.color : null;
      for (let k = 0; k < world.dimColor; k++) out[k] = color ? color[k] : 0;
      return world.dimColor;
    }
    out[0] = agent.pVel[0];
    out[1] = agent.pVel[1];
    let at = 2;
    for (const lm of world.landmarks) at = writeRelative(out, at, lm.pPos, agent.pPos);
    for (const other of world.agents) if (other !== agent) at = writeValues(out, at, other.c);
    return at;
  }

  /** The reward (MPE2's benchmark data). */
  benchmarkData(agent: Agent, world: World): number {
    return this.reward(agent, world);
  }
}

registerEnv<CommonMpeOptions>({
  id: "simple_speaker_listener_v4",
  description: "MPE2 simple_speaker_listener: a speaker guides a listener to a landmark",
  options: COMMON_OPTIONS,
  create: (options) =>
    createMpeEnv("simple_speaker_listener_v4", new SpeakerListenerScenario(), options),
});
