/**
 * `simple_world_comm_v3`: predators led by a speaking leader chase prey that eat food and
 * hide in forests (MPE2's `simple_world_comm.py`).
 *
 * @module
 */
import { registerEnv } from "../registry.ts";
import { Agent, distance, isCollision, Landmark, World } from "./core.ts";
import type { Entity } from "./core.ts";
import type { ObservationBuffer, Scenario, ScenarioRandom } from "./scenario.ts";
import { bound, goodAgentsTouched, scatter, writeRelative, writeValues } from "./scenario.ts";
import { COMMON_OPTIONS, createMpeEnv } from "./options.ts";
import type { CommonMpeOptions } from "./options.ts";

/** Sizes of {@linkcode WorldCommScenario}'s world. */
export interface WorldCommScenarioOptions {
  /** Good agents (prey), at least 1. @default 2 */
  numGood?: number;
  /** Adversaries including the leader, at least 1. @default 4 */
  numAdversaries?: number;
  /** Obstacles. @default 1 */
  numObstacles?: number;
  /** Food landmarks, at least 1. @default 2 */
  numFood?: number;
  /** Forests. @default 2 */
  numForests?: number;
}

/**
 * MPE2's `simple_world_comm`. Landmarks are obstacles, then food, then forests. Observations
 * (defaults: adversaries 34, good agents 28): velocity, position, every landmark relative,
 * other agents relative (zeros when hidden by a forest), then for adversaries the good
 * agents' velocities, in-forest flags (±1) and the leader's utterance, for good agents the
 * in-forest flags and the other good agents' velocities.
 */
export class WorldCommScenario implements Scenario {
  /** Good agents. */
  readonly numGood: number;
  /** Adversaries (the first is the leader). */
  readonly numAdversaries: number;
  /** Obstacles. */
  readonly numObstacles: number;
  /** Food. */
  readonly numFood: number;
  /** Forests. */
  readonly numForests: number;
  /** Per forest: whether the observer is in it (scratch). */
  #inForest: Uint8Array = new Uint8Array(0);

  constructor(options: WorldCommScenarioOptions = {}) {
    const {
      numGood = 2,
      numAdversaries = 4,
      numObstacles = 1,
      numFood = 2,
      numForests = 2,
    } = options;
    const counts = { numGood, numAdversaries, numObstacles, numFood, numForests };
    const minimum: Record<string, number> = { numGood: 1, numAdversaries: 1, numFood: 1 };
    for (const [name, value] of Object.entries(counts)) {
      const min = minimum[name] ?? 0;
      if (!Number.isSafeInteger(value) || value < min) {
        throw new RangeError(
          `simple_world_comm ${name} must be an integer >= ${min}, got ${value}`,
        );
      }
    }
    this.numGood = numGood;
    this.numAdversaries = numAdversaries;
    this.numObstacles = numObstacles;
    this.numFood = numFood;
    this.numForests = numForests;
  }

  /** Leader, adversaries, good agents; obstacles (0.2), food (0.03), forests (0.3). */
  makeWorld(): World {
    const numAdv = this.numAdversaries;
    const agents = Array.from({ length: numAdv + this.numGood }, (_, i) => {
      const agent = new Agent();
      agent.adversary = i < numAdv;
      let baseIndex = i < numAdv ? i - 1 : i - numAdv;
      if (baseIndex < 0) baseIndex = 0;
      const baseName = i === 0 ? "leadadversary" : agent.adversary ? "adversary" : "agent";
      agent.name = `${baseName}_${baseIndex}`;
      agent.collide = true;
      agent.leader = i === 0;
      agent.silent = i > 0;
      agent.size = agent.adversary ? 0.075 : 0.045;
      agent.accel = agent.adversary ? 3.0 : 4.0;
      agent.maxSpeed = agent.adversary ? 1.0 : 1.3;
      return agent;
    });
    const make = (count: number, name: string, collide: boolean, size: number) =>
      Array.from({ length: count }, (_, i) => {
        const landmark = new Landmark();
        landmark.name = `${name} ${i}`;
        landmark.collide = collide;
        landmark.movable = false;
        landmark.size = size;
        landmark.boundary = false;
        return landmark;
      });
    const obstacles = make(this.numObstacles, "landmark", true, 0.2);
    const food = make(this.numFood, "food", false, 0.03);
    const forests = make(this.numForests, "forest", false, 0.3);
    this.#inForest = new Uint8Array(this.numForests);
    return new World({
      agents,
      landmarks: [...obstacles, ...food, ...forests],
      dimC: 4,
      food,
      forests,
    });
  }

  /** Agents U(-1, 1); every landmark U(-0.9, 0.9); then food and forests drawn again. */
  resetWorld(world: World, rng: ScenarioRandom): void {
    for (const agent of world.agents) {
      const c = agent.adversary ? [0.95, 0.45, 0.45] : [0.45, 0.95, 0.45];
      const minus = agent.leader ? 0.3 : 0;
      agent.color = Float64Array.of(c[0] - minus, c[1] - minus, c[2] - minus);
    }
    for (const landmark of world.landmarks) landmark.color = Float64Array.of(0.25, 0.25, 0.25);
    for (const landmark of world.food) landmark.color = Float64Array.of(0.15, 0.15, 0.65);
    for (const landmark of world.forests) landmark.color = Float64Array.of(0.6, 0.9, 0.6);
    scatter(world.agents, rng);
    for (const list of [world.landmarks, world.food, world.forests]) scatter(list, rng, 0.9);
  }

  /** See MPE2's `agent_reward` / `adversary_reward` (SPEC.md's table). */
  reward(agent: Agent, world: World): number {
    const agents = world.agents;
    let rew = 0;
    if (!agent.adversary) {
      if (agent.collide) {
        for (const a of agents) if (a.adversary && isCollision(a, agent)) rew -= 5;
      }
      rew -= 2 * bound(Math.abs(agent.pPos[0]));
      rew -= 2 * bound(Math.abs(agent.pPos[1]));
      for (const food of world.food) if (isCollision(agent, food)) rew += 2;
      let best = Infinity;
      for (const food of world.food) {
        const d = distance(food, agent);
        if (d < best) best = d;
      }
      rew -= 0.05 * best;
      return rew;
    }
    let best = Infinity;
    for (const a of agents) {
      if (a.adversary) continue;
      const d = distance(a, agent);
      if (d < best) best = d;
    }
    rew -= 0.1 * best;
    if (agent.collide) {
      for (const ag of agents) {
        if (ag.adversary) continue;
        for (const adv of agents) if (adv.adversary && isCollision(ag, adv)) rew += 5;
      }
    }
    return rew;
  }

  /** See the class description. */
  observation(agent: Agent, world: World, out: ObservationBuffer): number {
    const forests = world.forests, inForest = this.#inForest;
    let anyIn = false;
    for (let i = 0; i < forests.length; i++) {
      inForest[i] = isCollision(agent, forests[i]) ? 1 : 0;
      if (inForest[i]) anyIn = true;
    }
    out[0] = agent.pVel[0];
    out[1] = agent.pVel[1];
    out[2] = agent.pPos[0];
    out[3] = agent.pPos[1];
    let at = 4;
    for (const lm of world.landmarks) {
      if (!lm.boundary) at = writeRelative(out, at, lm.pPos, agent.pPos);
    }
    // Other agents' positions, then (for adversaries) the good ones' velocities.
    const velStart = at + 2 * (world.agents.length - 1);
    let vel = velStart;
    for (const other of world.agents) {
      if (other === agent) continue;
      const visible = this.#visible(agent, other, forests, anyIn);
      if (visible) {
        at = writeRelative(out, at, other.pPos, agent.pPos);
      } else {
        out[at++] = 0;
        out[at++] = 0;
      }
      if (!other.adversary) {
        out[vel++] = visible ? other.pVel[0] : 0;
        out[vel++] = visible ? other.pVel[1] : 0;
      }
    }
    const numVel = vel - velStart;
    if (agent.adversary) {
      at = vel;
      for (let i = 0; i < forests.length; i++) out[at++] = inForest[i] ? 1 : -1;
      return writeValues(out, at, world.agents[0].c);
    }
    // Good agents: in-forest flags before the velocities; move the velocities after them.
    for (let k = numVel - 1; k >= 0; k--) out[velStart + forests.length + k] = out[velStart + k];
    for (let i = 0; i < forests.length; i++) out[at++] = inForest[i] ? 1 : -1;
    return at + numVel;
  }

  // Positional on purpose: called per agent pair on every step (no allocation there).
  /** Whether `agent` sees `other` (same forest, both outside every forest, or the leader). */
  #visible(agent: Agent, other: Agent, forests: readonly Entity[], anyIn: boolean): boolean {
    let otherAnyIn = false;
    for (let i = 0; i < forests.length; i++) {
      const otherIn = isCollision(other, forests[i]);
      if (this.#inForest[i] && otherIn) return true;
      if (otherIn) otherAnyIn = true;
    }
    return (!anyIn && !otherAnyIn) || agent.leader;
  }

  /** Adversary: how many good agents it touches; good agents: 0. */
  benchmarkData(agent: Agent, world: World): number {
    return goodAgentsTouched(agent, world);
  }
}

/** Options of `simple_world_comm_v3`. */
export type WorldCommOptions = CommonMpeOptions & {
  /** Good agents. */
  numGood: number;
  /** Adversaries, including the leader. */
  numAdversaries: number;
  /** Obstacles. */
  numObstacles: number;
  /** Food. */
  numFood: number;
  /** Forests. */
  numForests: number;
};

const count = (alias: string, def: number, min: number, help: string) => ({
  type: "int" as const,
  default: def,
  min,
  max: 100,
  help,
  aliases: [alias],
});

registerEnv<WorldCommOptions>({
  id: "simple_world_comm_v3",
  description: "MPE2 simple_world_comm: a speaking leader guides predators; prey eat and hide",
  options: {
    ...COMMON_OPTIONS,
    numGood: count("num_good", 2, 1, "number of good agents (prey)"),
    numAdversaries: count("num_adversaries", 4, 1, "number of adversaries, the leader included"),
    numObstacles: count("num_obstacles", 1, 0, "number of obstacles"),
    numFood: count("num_food", 2, 1, "number of food landmarks"),
    numForests: count("num_forests", 2, 0, "number of forests"),
  },
  create: (options) =>
    createMpeEnv(
      "simple_world_comm_v3",
      new WorldCommScenario({
        numGood: options.numGood,
        numAdversaries: options.numAdversaries,
        numObstacles: options.numObstacles,
        numFood: options.numFood,
        numForests: options.numForests,
      }),
      options,
    ),
});
