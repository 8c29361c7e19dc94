/**
 * `simple_crypto_v3`: alice sends a message that bob decodes with a shared key while eve
 * eavesdrops (MPE2's `simple_crypto.py`, the MADDPG paper's covert communication).
 *
 * @module
 */
import { registerEnv } from "../registry.ts";
import { Agent, Landmark, World } from "./core.ts";
import type { ObservationBuffer, Scenario, ScenarioRandom } from "./scenario.ts";
import { scatter, writeValues } from "./scenario.ts";
import { COMMON_OPTIONS, createMpeEnv } from "./options.ts";
import type { CommonMpeOptions } from "./options.ts";

/**
 * MPE2's `simple_crypto`: three immobile speakers with dim_c 4. Observations: alice (8) the
 * goal's one-hot colour and the key; bob (8) the key and alice's utterance; eve (4) alice's
 * utterance.
 */
export class CryptoScenario implements Scenario {
  /** `eve_0` (adversary), `bob_0`, `alice_0` (speaker), all immobile; two landmarks. */
  makeWorld(): World {
    const agents = Array.from({ length: 3 }, (_, i) => {
      const agent = new Agent();
      agent.adversary = i < 1;
      agent.collide = false;
      agent.speaker = i === 2;
      agent.movable = false;
      agent.name = `${agent.adversary ? "eve" : agent.speaker ? "alice" : "bob"}_0`;
      return agent;
    });
    const landmarks = Array.from({ length: 2 }, (_, i) => {
      const landmark = new Landmark();
      landmark.name = `landmark ${i}`;
      landmark.collide = false;
      landmark.movable = false;
      return landmark;
    });
    return new World({ agents, landmarks, dimC: 4 });
  }

  /** Colours, `integers(2)` goal, `integers(2)` key, then agents and landmarks U(-1, 1). */
  resetWorld(world: World, rng: ScenarioRandom): void {
    for (const agent of world.agents) {
      agent.color = agent.adversary
        ? Float64Array.of(0.75, 0.25, 0.25)
        : Float64Array.of(0.25, 0.25, 0.25);
      agent.key = null;
    }
    world.landmarks.forEach((landmark, i) => {
      const color = new Float64Array(world.dimC);
      color[i] += 1;
      landmark.color = color;
    });
    const goal = world.landmarks[rng.integers(world.landmarks.length)];
    world.agents[1].color = goal.color;
    world.agents[2].key = world.landmarks[rng.integers(world.landmarks.length)].color;
    for (const agent of world.agents) agent.goalA = goal;
    scatter(world.agents, rng);
    scatter(world.landmarks, rng);
  }

  /**
   * Eve: `−‖c_eve − goal‖²` unless silent (all zeros); alice and bob: `−‖c_bob − goal‖²`
   * (unless zero) `+ ‖c_eve − goal‖²` (unless zero).
   */
  reward(agent: Agent, world: World): number {
    const goal = agent.goalA!.color;
    if (agent.adversary) {
      let rew = 0;
      if (!allZero(agent.c)) rew -= squaredError(agent.c, goal);
      return rew;
    }
    let goodRew = 0, advRew = 0;
    for (const a of world.agents) {
      if (a.adversary || a.speaker || allZero(a.c)) continue;
      goodRew -= squaredError(a.c, goal);
    }
    for (const a of world.agents) {
      if (!a.adversary || allZero(a.c)) continue;
      advRew += squaredError(a.c, goal);
    }
    return advRew + goodRew;
  }

  /** See the class description. */
  observation(agent: Agent, world: World, out: ObservationBuffer): number {
    const key = world.agents[2].key!;
    let at = 0;
    if (agent.speaker) {
      at = writeValues(out, at, agent.goalA!.color);
      return writeValues(out, at, key);
    }
    if (!agent.adversary) at = writeValues(out, at, key);
    for (const other of world.agents) {
      if (other !== agent && other.speaker) at = writeValues(out, at, other.c);
    }
    return at;
  }

  /** `[utterance, goal colour]` (MPE2's tuple). */
  benchmarkData(agent: Agent): number[][] {
    return [Array.from(agent.c), Array.from(agent.goalA!.color)];
  }
}

function allZero(c: Float64Array): boolean {
  for (let k = 0; k < c.length; k++) if (c[k] !== 0) return false;
  return true;
}

/** `np.sum(np.square(a − b))`, summed left to right as numpy does for short vectors. */
function squaredError(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let k = 0; k < a.length; k++) {
    const d = a[k] - b[k];
    sum += d * d;
  }
  return sum;
}

registerEnv<CommonMpeOptions>({
  id: "simple_crypto_v3",
  description: "MPE2 simple_crypto: alice and bob share a key, eve eavesdrops",
  options: COMMON_OPTIONS,
  create: (options) => createMpeEnv("simple_crypto_v3", new CryptoScenario(), options),
});
