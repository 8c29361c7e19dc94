/**
 * `simple_tag_v3`: slower adversaries chase faster good agents among obstacles (MPE2's
 * `simple_tag.py`, the MADDPG paper's predator-prey).
 *
 * @module
 */
import { registerEnv } from "../registry.ts";
import { Agent, isCollision, Landmark, World } from "./core.ts";
import type { ObservationBuffer, Scenario, ScenarioRandom } from "./scenario.ts";
import { bound, goodAgentsTouched, scatter, writeRelative } from "./scenario.ts";
import { COMMON_OPTIONS, createMpeEnv } from "./options.ts";
import type { CommonMpeOptions } from "./options.ts";

/** Sizes of {@linkcode TagScenario}'s world. */
export interface TagScenarioOptions {
  /** Good agents (prey). @default 1 */
  numGood?: number;
  /** Adversaries (predators). @default 3 */
  numAdversaries?: number;
  /** Obstacles. @default 2 */
  numObstacles?: number;
}

/**
 * MPE2's `simple_tag` (its curriculum and partial observability are not ported).
 * Observation: velocity, position, obstacles relative, others relative, good others'
 * velocities (16 for an adversary, 14 for the good agent with the defaults).
 */
export class TagScenario implements Scenario {
  /** Good agents. */
  readonly numGood: number;
  /** Adversaries. */
  readonly numAdversaries: number;
  /** Obstacles. */
  readonly numObstacles: number;

  constructor(options: TagScenarioOptions = {}) {
    const { numGood = 1, numAdversaries = 3, numObstacles = 2 } = options;
    for (const [name, value] of Object.entries({ numGood, numAdversaries, numObstacles })) {
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new RangeError(`simple_tag ${name} must be a non-negative integer, got ${value}`);
      }
    }
    if (numGood + numAdversaries < 1) {
      throw new RangeError(`simple_tag needs at least one agent, got ${numGood + numAdversaries}`);
    }
    this.numGood = numGood;
    this.numAdversaries = numAdversaries;
    this.numObstacles = numObstacles;
  }

  /** Adversaries (0.075, accel 3, max speed 1), good agents (0.05, 4, 1.3), obstacles (0.2). */
  makeWorld(): World {
    const numAdv = this.numAdversaries;
    const agents = Array.from({ length: numAdv + this.numGood }, (_, i) => {
      const agent = new Agent();
      agent.adversary = i < numAdv;
      agent.name = agent.adversary ? `adversary_${i}` : `agent_${i - numAdv}`;
      agent.collide = true;
      agent.silent = true;
      agent.size = agent.adversary ? 0.075 : 0.05;
      agent.accel = agent.adversary ? 3.0 : 4.0;
      agent.maxSpeed = agent.adversary ? 1.0 : 1.3;
      return agent;
    });
    const landmarks = Array.from({ length: this.numObstacles }, (_, i) => {
      const landmark = new Landmark();
      landmark.name = `landmark ${i}`;
      landmark.collide = true;
      landmark.movable = false;
      landmark.size = 0.2;
      landmark.boundary = false;
      return landmark;
    });
    return new World({ agents, landmarks, dimC: 2 });
  }

  /** Agents U(-1, 1), then obstacles U(-0.9, 0.9). */
  resetWorld(world: World, rng: ScenarioRandom): void {
    for (const agent of world.agents) {
      agent.color = agent.adversary
        ? Float64Array.of(0.85, 0.35, 0.35)
        : Float64Array.of(0.35, 0.85, 0.35);
    }
    for (const landmark of world.landmarks) landmark.color = Float64Array.of(0.25, 0.25, 0.25);
    scatter(world.agents, rng);
    scatter(world.landmarks.filter((landmark) => !landmark.boundary), rng, 0.9);
  }

  /** Good: −10 per touching adversary and the boundary penalty; adversary: +10 per touching pair. */
  reward(agent: Agent, world: World): number {
    const agents = world.agents;
    let rew = 0;
    if (!agent.adversary) {
      if (agent.collide) {
        for (const a of agents) if (a.adversary && isCollision(a, agent)) rew -= 10;
      }
      rew -= bound(Math.abs(agent.pPos[0]));
      rew -= bound(Math.abs(agent.pPos[1]));
      return rew;
    }
    if (agent.collide) {
      for (const ag of agents) {
        if (ag.adversary) continue;
        for (const adv of agents) if (adv.adversary && isCollision(ag, adv)) rew += 10;
      }
    }
    return rew;
  }

  /** Velocity, position, obstacles relative, others relative, good others' velocities. */
  observation(agent: Agent, world: World, out: ObservationBuffer): number {
    out[0] = agent.pVel[0];
    out[1] = agent.pVel[1];
    out[2] = agent.pPos[0];
    out[3] = agent.pPos[1];
    let at = 4;
    for (const lm of world.landmarks) {
      if (!lm.boundary) at = writeRelative(out, at, lm.pPos, agent.pPos);
    }
    for (const other of world.agents) {
      if (other !== agent) at = writeRelative(out, at, other.pPos, agent.pPos);
    }
    for (const other of world.agents) {
      if (other !== agent && !other.adversary) {
        out[at++] = other.pVel[0];
        out[at++] = other.pVel[1];
      }
    }
    return at;
  }

  /** Adversary: how many good agents it touches; good agents: 0. */
  benchmarkData(agent: Agent, world: World): number {
    return goodAgentsTouched(agent, world);
  }
}

/** Options of `simple_tag_v3`. */
export type TagOptions = CommonMpeOptions & {
  /** Good agents. */
  numGood: number;
  /** Adversaries. */
  numAdversaries: number;
  /** Obstacles. */
  numObstacles: number;
};

registerEnv<TagOptions>({
  id: "simple_tag_v3",
  description: "MPE2 simple_tag: predators chase faster prey among obstacles",
  options: {
    ...COMMON_OPTIONS,
    numGood: {
      type: "int",
      default: 1,
      min: 0,
      max: 100,
      help: "number of good agents (prey)",
      aliases: ["num_good"],
    },
    numAdversaries: {
      type: "int",
      default: 3,
      min: 0,
      max: 100,
      help: "number of adversaries (predators)",
      aliases: ["num_adversaries"],
    },
    numObstacles: {
      type: "int",
      default: 2,
      min: 0,
      max: 100,
      help: "number of obstacles",
      aliases: ["num_obstacles"],
    },
  },
  create: (options) =>
    createMpeEnv(
      "simple_tag_v3",
      new TagScenario({
        numGood: options.numGood,
        numAdversaries: options.numAdversaries,
        numObstacles: options.numObstacles,
      }),
      options,
    ),
});
