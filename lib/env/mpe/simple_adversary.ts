/**
 * `simple_adversary_v3`: N good agents and one adversary; only the good agents know which
 * landmark is the goal (MPE2's `simple_adversary.py`, the MADDPG paper's physical deception).
 *
 * @module
 */
import { registerEnv } from "../registry.ts";
import { Agent, distance, Landmark, squaredDistance, World } from "./core.ts";
import type { ObservationBuffer, Scenario, ScenarioRandom } from "./scenario.ts";
import { scatter, writeRelative } from "./scenario.ts";
import { COMMON_OPTIONS, createMpeEnv } from "./options.ts";
import type { CommonMpeOptions } from "./options.ts";

/**
 * MPE2's `simple_adversary` with `N` good agents and N landmarks (partial observability is
 * not ported). Observations: adversary (`4N`) landmarks and others relative; good agents
 * (`4N + 2`) goal relative, then the same.
 */
export class AdversaryScenario implements Scenario {
  /** Number of good agents (and of landmarks). */
  readonly n: number;

  constructor(n = 2) {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new RangeError(`simple_adversary needs N >= 1 good agents, got ${n}`);
    }
    this.n = n;
  }

  /** `adversary_0`, `agent_0…N−1` (size 0.15, no collisions); N landmarks of size 0.08. */
  makeWorld(): World {
    const agents = Array.from({ length: this.n + 1 }, (_, i) => {
      const agent = new Agent();
      agent.adversary = i < 1;
      agent.name = agent.adversary ? `adversary_${i}` : `agent_${i - 1}`;
      agent.collide = false;
      agent.silent = true;
      agent.size = 0.15;
      return agent;
    });
    const landmarks = Array.from({ length: this.n }, (_, i) => {
      const landmark = new Landmark();
      landmark.name = `landmark ${i}`;
      landmark.collide = false;
      landmark.movable = false;
      landmark.size = 0.08;
      return landmark;
    });
    return new World({ agents, landmarks, dimC: 2 });
  }

  /** `integers(N)` goal, then agents and landmarks U(-1, 1). */
  resetWorld(world: World, rng: ScenarioRandom): void {
    world.agents[0].color = Float64Array.of(0.85, 0.35, 0.35);
    for (let i = 1; i < world.agents.length; i++) {
      world.agents[i].color = Float64Array.of(0.35, 0.35, 0.85);
    }
    for (const landmark of world.landmarks) landmark.color = Float64Array.of(0.15, 0.15, 0.15);
    const goal = world.landmarks[rng.integers(world.landmarks.length)];
    goal.color = Float64Array.of(0.15, 0.65, 0.15);
    for (const agent of world.agents) agent.goalA = goal;
    scatter(world.agents, rng);
    scatter(world.landmarks, rng);
  }

  /** Adversary: `−dist(adv, goal)`; good: `−min_good dist + Σ_adv dist`. */
  reward(agent: Agent, world: World): number {
    if (agent.adversary) return -distance(agent, agent.goalA!);
    let advRew = 0;
    for (const a of world.agents) if (a.adversary) advRew += distance(a, a.goalA!);
    let best = Infinity;
    for (const a of world.agents) {
      if (a.adversary) continue;
      const d = distance(a, a.goalA!);
      if (d < best) best = d;
    }
    return -best + advRew;
  }

  /** Good agents: goal relative; all: landmarks relative, others relative. */
  observation(agent: Agent, world: World, out: ObservationBuffer): number {
    let at = 0;
    if (!agent.adversary) at = writeRelative(out, at, agent.goalA!.pPos, agent.pPos);
    for (const lm of world.landmarks) at = writeRelative(out, at, lm.pPos, agent.pPos);
    for (const other of world.agents) {
      if (other !== agent) at = writeRelative(out, at, other.pPos, agent.pPos);
    }
    return at;
  }

  /** Adversary: squared distance to the goal; good: squared distances to every landmark and the goal. */
  benchmarkData(agent: Agent, world: World): number | number[] {
    if (agent.adversary) return squaredDistance(agent, agent.goalA!);
    return [
      ...world.landmarks.map((lm) => squaredDistance(agent, lm)),
      squaredDistance(agent, agent.goalA!),
    ];
  }
}

/** Options of `simple_adversary_v3`. */
export type AdversaryOptions = CommonMpeOptions & {
  /** Number of good agents and of landmarks (MPE2's `N`). */
  n: number;
};

registerEnv<AdversaryOptions>({
  id: "simple_adversary_v3",
  description: "MPE2 simple_adversary: good agents hide the goal landmark from an adversary",
  options: {
    ...COMMON_OPTIONS,
    n: {
      type: "int",
      default: 2,
      min: 1,
      max: 100,
      help: "number of good agents and of landmarks",
      aliases: ["N"],
    },
  },
  create: (options) =>
    createMpeEnv("simple_adversary_v3", new AdversaryScenario(options.n), options),
});
