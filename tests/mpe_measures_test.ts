/**
 * The MADDPG paper's episode measures of the particle worlds (`lib/env/mpe/measures.ts`):
 * hand-made world states checked against values worked out by hand, returns against the
 * rewards passed in, and spread's measures against MPE2's `benchmark_data`.
 */
import assert from "node:assert/strict";
import "../lib/env/builtin.ts";
import { makeEnv } from "../lib/env/registry.ts";
import type { Action, ParallelEnv } from "../lib/env/parallel_env.ts";
import { MpeEnv, NumpyGenerator } from "../lib/env/mpe/mod.ts";
import type { Entity } from "../lib/env/mpe/mod.ts";
import { createMeasures } from "../lib/env/mpe/measures.ts";
import type { EpisodeMeasures } from "../lib/env/mpe/measures.ts";

const IDS = [
  "simple_v3",
  "simple_spread_v3",
  "simple_adversary_v3",
  "simple_tag_v3",
  "simple_push_v3",
  "simple_speaker_listener_v4",
  "simple_reference_v3",
  "simple_crypto_v3",
  "simple_world_comm_v3",
];

const EPS = 1e-12;

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= EPS, `${what}: ${actual} != ${expected}`);
}

/** A seeded MPE env and its measures, reset. */
function setup(
  id: string,
  options: Record<string, unknown> = {},
): { env: MpeEnv; measures: EpisodeMeasures } {
  const env = makeEnv(id, options);
  assert.ok(env instanceof MpeEnv);
  const measures = createMeasures(env);
  assert.ok(measures);
  env.reset({ seed: 7 });
  measures.reset();
  return { env, measures };
}

function entity(env: MpeEnv, name: string): Entity {
  const found = env.world.entities.find((e) => e.name === name);
  assert.ok(found, `no entity ${name}`);
  return found;
}

/** Puts `e` at (x, y) at rest. */
function put(e: Entity, x: number, y: number): void {
  e.pPos[0] = x;
  e.pPos[1] = y;
  e.pVel.fill(0);
}

/** Moves every landmark far away from the origin (and from each other). */
function landmarksAway(env: MpeEnv): void {
  env.world.landmarks.forEach((lm, i) => put(lm, 50 + 10 * i, 50));
}

function zeros(env: ParallelEnv): number[] {
  return env.agents.map(() => 0);
}

function randomActions(env: ParallelEnv, rng: NumpyGenerator): Action[] {
  return env.actionSpaces.map((space) =>
    space.kind === "discrete"
      ? rng.integers(space.n)
      : Float64Array.from({ length: space.size }, () => rng.uniform(0, 1))
  );
}

Deno.test("measures: undefined for an environment that is not a particle world", () => {
  assert.equal(createMeasures(makeEnv("grid_world")), undefined);
});

Deno.test("measures: keys, in order, per scenario", () => {
  const expected: Record<string, string[]> = {
    simple_v3: ["return_agent_0", "team_return"],
    simple_spread_v3: [
      "return_agent_0",
      "return_agent_1",
      "return_agent_2",
      "team_return",
      "min_distance_sum",
      "min_distance_sum_final",
      "collisions",
      "occupied_landmarks",
    ],
    simple_adversary_v3: [
      "return_adversary_0",
      "return_agent_0",
      "return_agent_1",
      "team_adversaries_return",
      "team_good_return",
      "good_success",
      "adversary_success",
      "good_goal_distance",
      "adversary_goal_distance",
    ],
    simple_tag_v3: [
      "return_adversary_0",
      "return_adversary_1",
      "return_adversary_2",
      "return_agent_0",
      "team_adversaries_return",
      "team_good_return",
      "touches",
    ],
    simple_push_v3: [
      "return_adversary_0",
      "return_agent_0",
      "team_adversaries_return",
      "team_good_return",
    ],
    simple_speaker_listener_v4: [
      "return_speaker_0",
      "return_listener_0",
      "team_return",
      "final_distance",
      "success",
    ],
    simple_reference_v3: ["return_agent_0", "return_agent_1", "team_return"],
    simple_crypto_v3: [
      "return_eve_0",
      "return_bob_0",
      "return_alice_0",
      "team_adversaries_return",
      "team_good_return",
    ],
    simple_world_comm_v3: [
      "return_leadadversary_0",
      "return_adversary_0",
      "return_adversary_1",
      "return_adversary_2",
      "return_agent_0",
      "return_agent_1",
      "team_adversaries_return",
      "team_good_return",
      "touches",
    ],
  };
  for (const id of IDS) {
    const { env, measures } = setup(id);
    // Before any step: all zeros.
    const empty = measures.result();
    assert.deepEqual(Object.keys(empty), expected[id], id);
    for (const [key, value] of Object.entries(empty)) assert.equal(value, 0, `${id} ${key}`);
    const rng = NumpyGenerator.fromSeed(3);
    for (let t = 0; t < env.maxSteps; t++) measures.step(env.step(randomActions(env, rng)).rewards);
    const result = measures.result();
    assert.deepEqual(Object.keys(result), expected[id], id);
    assert.deepEqual(JSON.parse(JSON.stringify(result)), result, `${id} is JSON-safe`);
  }
});

Deno.test("measures: returns are the sums of the rewards passed; team returns their means", () => {
  for (const id of IDS) {
    const { env, measures } = setup(id);
    const rng = NumpyGenerator.fromSeed(11);
    const sums = zeros(env);
    for (let t = 0; t < env.maxSteps; t++) {
      const { rewards } = env.step(randomActions(env, rng));
      rewards.forEach((r, i) => sums[i] += r);
      measures.step(rewards);
    }
    const result = measures.result();
    env.agents.forEach((name, i) => assert.equal(result[`return_${name}`], sums[i], id));
    const adversary = env.world.agents.map((a) => a.adversary);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    if (adversary.some((a) => a)) {
      close(result.team_adversaries_return, mean(sums.filter((_, i) => adversary[i])), id);
      close(result.team_good_return, mean(sums.filter((_, i) => !adversary[i])), id);
    } else {
      close(result.team_return, mean(sums), id);
    }
    // reset() starts over.
    measures.reset();
    measures.step(env.agents.map((_, i) => i + 1));
    env.agents.forEach((name, i) => assert.equal(measures.result()[`return_${name}`], i + 1));
  }
  // Crypto: eve is the adversary team on her own.
  const { measures } = setup("simple_crypto_v3");
  measures.step([-1, 2, 4]);
  const r = measures.result();
  assert.equal(r.team_adversaries_return, -1);
  assert.equal(r.team_good_return, 3);
});

Deno.test("measures: a wrong number of rewards is a RangeError", () => {
  const { measures } = setup("simple_spread_v3");
  assert.throws(() => measures.step([1, 2]), RangeError);
});

Deno.test("measures: spread distance, collisions and occupied landmarks by hand", () => {
  const { env, measures } = setup("simple_spread_v3");
  const [a0, a1, a2] = ["agent_0", "agent_1", "agent_2"].map((n) => entity(env, n));
  const [l0, l1, l2] = ["landmark 0", "landmark 1", "landmark 2"].map((n) => entity(env, n));
  put(l0, 0, 0);
  put(l1, 1, 0);
  put(l2, 0, 1);
  // Step 1: agents on landmarks 0 and 1, agent 2 0.3 above landmark 2. Agent pairs are
  // 1, 1.3 and √2.69 apart (sizes 0.15: a collision is closer than 0.3): none.
  put(a0, 0, 0);
  put(a1, 1, 0);
  put(a2, 0, 1.3);
  measures.step(zeros(env));
  let r = measures.result();
  close(r.min_distance_sum, 0.3, "sum after step 1");
  close(r.min_distance_sum_final, 0.3, "final after step 1");
  assert.equal(r.collisions, 0);
  assert.equal(r.occupied_landmarks, 2);
  // Step 2: agent 1 moves to (0.1, 0), overlapping agent 0: one collision; landmark 1's
  // closest agent is now 0.9 away; only landmark 0 is occupied.
  put(a1, 0.1, 0);
  measures.step(zeros(env));
  r = measures.result();
  close(r.min_distance_sum_final, 0 + 0.9 + 0.3, "final after step 2");
  close(r.min_distance_sum, (0.3 + 1.2) / 2, "mean after step 2");
  assert.equal(r.collisions, 1);
  assert.equal(r.occupied_landmarks, 1);
  // Step 3: all three agents on one point: three pairs (MPE2 counts 2 per agent, 6 / 2).
  put(a0, 0.5, 0.5);
  put(a1, 0.5, 0.5);
  put(a2, 0.5, 0.5);
  measures.step(zeros(env));
  r = measures.result();
  assert.equal(r.collisions, 4);
  assert.equal(r.occupied_landmarks, 0);
  close(r.min_distance_sum_final, 3 * Math.SQRT1_2, "final after step 3");
  close(r.min_distance_sum, (0.3 + 1.2 + 3 * Math.SQRT1_2) / 3, "mean after step 3");
  // Occupied means closer than 0.1 (strictly).
  put(a0, 0.0999, 0);
  put(a1, 1.1, 0);
  put(a2, 3, 3);
  measures.reset();
  measures.step(zeros(env));
  r = measures.result();
  assert.equal(r.occupied_landmarks, 1);
  assert.equal(r.collisions, 0);
});

Deno.test("measures: spread agrees with MPE2's benchmark_data on a crowded episode", () => {
  const { env, measures } = setup("simple_spread_v3", { benchmarkData: true });
  // Start everyone close together so that they collide for a while (not on one point: the
  // contact force divides by the distance).
  env.world.agents.forEach((agent, i) => put(agent, 0.05 * i, 0.02 * i));
  const rng = NumpyGenerator.fromSeed(5);
  let collisions = 0, distance = 0, final = 0, occupied = 0;
  for (let t = 0; t < env.maxSteps; t++) {
    const { rewards, infos } = env.step(randomActions(env, rng));
    measures.step(rewards);
    const data = infos.map((info) => info.benchmark_data as number[]);
    for (const d of data) collisions += d[1];
    distance += data[0][2];
    final = data[0][2];
    occupied = data[0][3];
  }
  assert.ok(collisions > 0, "the episode has collisions");
  const r = measures.result();
  assert.equal(r.collisions, collisions / 2);
  close(r.min_distance_sum, distance / env.maxSteps, "mean distance");
  assert.equal(r.min_distance_sum_final, final);
  assert.equal(r.occupied_landmarks, occupied);
});

Deno.test("measures: physical deception success and distances at the last step", () => {
  const { env, measures } = setup("simple_adversary_v3");
  const world = env.world;
  const goal = world.agents[0].goalA!;
  assert.equal(goal.size, 0.08);
  const other = world.landmarks.find((lm) => lm !== goal)!;
  put(goal, 0, 0);
  put(other, 1, 1);
  const [adv, g0, g1] = ["adversary_0", "agent_0", "agent_1"].map((n) => entity(env, n));
  // Step 1: agent_0 0.05 from the goal (inside its radius 0.08), the adversary 0.1 (outside).
  put(g0, 0.05, 0);
  put(g1, 0.5, 0);
  put(adv, 0, -0.1);
  measures.step(zeros(env));
  let r = measures.result();
  assert.equal(r.good_success, 1);
  assert.equal(r.adversary_success, 0);
  close(r.good_goal_distance, 0.05, "good distance");
  close(r.adversary_goal_distance, 0.1, "adversary distance");
  // Step 2 (the last one counts): agent_0 leaves to 0.2, agent_1 at 0.3; the adversary 0.07.
  put(g0, 0.2, 0);
  put(g1, 0, 0.3);
  put(adv, 0, 0.07);
  measures.step(zeros(env));
  r = measures.result();
  assert.equal(r.good_success, 0);
  assert.equal(r.adversary_success, 1);
  close(r.good_goal_distance, 0.2, "good distance");
  close(r.adversary_goal_distance, 0.07, "adversary distance");
  // Standing on the other landmark is no success.
  put(g0, 1, 1);
  put(adv, 1, 1);
  measures.step(zeros(env));
  r = measures.result();
  assert.equal(r.good_success, 0);
  assert.equal(r.adversary_success, 0);
  close(r.good_goal_distance, 0.3, "good distance");
  close(r.adversary_goal_distance, Math.SQRT2, "adversary distance");
});

Deno.test("measures: tag touches over real steps, with the rewards they give", () => {
  const { env, measures } = setup("simple_tag_v3");
  landmarksAway(env);
  const [a0, a1, a2, prey] = ["adversary_0", "adversary_1", "adversary_2", "agent_0"].map((n) =>
    entity(env, n)
  );
  // Before each step everything is at rest, so the step keeps the positions (position moves
  // with the old velocity): adversary_0 is 0.1 from the prey (touching below 0.075 + 0.05).
  const placeAndStep = (touching: boolean) => {
    put(prey, 0, 0);
    put(a0, touching ? 0.1 : 0.5, 0);
    put(a1, -0.5, 0);
    put(a2, 0, 0.5);
    measures.step(env.step(zeros(env)).rewards);
  };
  placeAndStep(true);
  placeAndStep(true);
  placeAndStep(false);
  const r = measures.result();
  assert.equal(r.touches, 2);
  // The prey loses 10 per touch (no boundary penalty near the origin); every adversary gains
  // 10 per touch (shared).
  assert.equal(r.return_agent_0, -20);
  for (const name of ["adversary_0", "adversary_1", "adversary_2"]) {
    assert.equal(r[`return_${name}`], 20);
  }
  assert.equal(r.team_adversaries_return, 20);
  assert.equal(r.team_good_return, -20);
});

Deno.test("measures: tag counts each touching adversary; world_comm counts the leader too", () => {
  {
    const { env, measures } = setup("simple_tag_v3");
    const [a0, a1, a2, prey] = ["adversary_0", "adversary_1", "adversary_2", "agent_0"].map((
      n,
    ) => entity(env, n));
    put(prey, 0, 0);
    put(a0, 0.12, 0); // 0.12 < 0.125: touching
    put(a1, 0, -0.1); // touching
    put(a2, 0, 0.13); // 0.13 >= 0.125: not
    measures.step(zeros(env));
    assert.equal(measures.result().touches, 2);
  }
  {
    const { env, measures } = setup("simple_world_comm_v3");
    const names = [
      "leadadversary_0",
      "adversary_0",
      "adversary_1",
      "adversary_2",
      "agent_0",
      "agent_1",
    ];
    const [lead, b0, b1, b2, g0, g1] = names.map((n) => entity(env, n));
    put(g0, 0, 0);
    put(g1, 1, 0);
    put(lead, 0.1, 0); // touches agent_0 (0.1 < 0.075 + 0.045)
    put(b0, 1, 0.1); // touches agent_1
    put(b1, 0.5, 0.5);
    put(b2, -0.5, -0.5);
    measures.step(zeros(env));
    put(lead, 0.5, 0); // gone
    measures.step(zeros(env));
    assert.equal(measures.result().touches, 3);
  }
});

Deno.test("measures: speaker-listener final distance and success", () => {
  const { env, measures } = setup("simple_speaker_listener_v4");
  const speaker = env.world.agents[0];
  const listener = speaker.goalA!, goal = speaker.goalB!;
  assert.equal(listener.name, "listener_0");
  assert.equal(goal.size, 0.04);
  put(goal, 0.2, 0.2);
  put(listener, 0.23, 0.2); // 0.03 < 0.04
  measures.step(zeros(env));
  let r = measures.result();
  close(r.final_distance, 0.03, "final distance");
  assert.equal(r.success, 1);
  put(listener, 0.2, 0.3); // 0.1: the last step counts
  measures.step(zeros(env));
  r = measures.result();
  close(r.final_distance, 0.1, "final distance");
  assert.equal(r.success, 0);
});

Deno.test("measures: state restored through setState is what is measured", () => {
  const { env, measures } = setup("simple_spread_v3");
  const state = env.getState();
  // Agents on the three landmarks.
  for (let i = 0; i < 3; i++) state.entities[i].pPos = [...state.entities[3 + i].pPos];
  env.setState(state);
  measures.step(zeros(env));
  const r = measures.result();
  assert.equal(r.min_distance_sum, 0);
  assert.equal(r.occupied_landmarks, 3);
});
