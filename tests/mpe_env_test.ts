/**
 * The particle-world environments beyond the golden traces: spaces per option set, input
 * validation (a `RangeError` naming agent and value, state unchanged), clipping, state
 * save/restore, seeding, scenes.
 */
import assert from "node:assert/strict";
import { makeEnv } from "../lib/env/registry.ts";
import type { Action, ParallelEnv } from "../lib/env/parallel_env.ts";
import { formatComm, MpeEnv, NumpyGenerator } from "../lib/env/mpe/mod.ts";

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

function sizes(env: ParallelEnv): number[] {
  return env.observationSpaces.map((s) => s.size);
}

/** Random valid actions from a small PCG generator (deterministic). */
function randomActions(env: ParallelEnv, rng: NumpyGenerator): Action[] {
  return env.actionSpaces.map((space) =>
    space.kind === "discrete"
      ? rng.integers(space.n)
      : Float64Array.from({ length: space.size }, () => rng.uniform(0, 1))
  );
}

function snapshot(env: ParallelEnv): string {
  return JSON.stringify(env.getState());
}

Deno.test("mpe spaces: spread N = 2, 3, 5 observation sizes", () => {
  for (const [n, size] of [[2, 12], [3, 18], [5, 30]]) {
    const env = makeEnv("simple_spread_v3", { N: n });
    assert.deepEqual(sizes(env), new Array(n).fill(size));
    assert.deepEqual(env.actionSpaces.map(String), new Array(n).fill("Discrete(5)"));
  }
  const env = makeEnv("simple_spread_v3", { n: 2, continuousActions: true });
  assert.deepEqual(env.actionSpaces.map(String), ["Box(0, 1, (5,))", "Box(0, 1, (5,))"]);
});

Deno.test("mpe spaces: tag with 1 to 4 adversaries", () => {
  for (let adversaries = 1; adversaries <= 4; adversaries++) {
    const env = makeEnv("simple_tag_v3", { num_adversaries: adversaries });
    const agents = adversaries + 1;
    // vel, pos, 2 obstacles, other agents, the good agent's velocity (adversaries only)
    const adv = 4 + 4 + 2 * (agents - 1) + 2, good = 4 + 4 + 2 * (agents - 1);
    assert.deepEqual(sizes(env), [...new Array(adversaries).fill(adv), good]);
    assert.equal(env.agents.at(-1), "agent_0");
  }
});

Deno.test("mpe spaces: speaker_listener, reference, crypto, world_comm, adversary, push", () => {
  const sl = makeEnv("simple_speaker_listener_v4");
  assert.deepEqual(sl.agents, ["speaker_0", "listener_0"]);
  assert.deepEqual(sl.actionSpaces.map(String), ["Discrete(3)", "Discrete(5)"]);
  assert.deepEqual(sizes(sl), [3, 11]);
  const slc = makeEnv("simple_speaker_listener_v4", { continuous_actions: true });
  assert.deepEqual(slc.actionSpaces.map(String), ["Box(0, 1, (3,))", "Box(0, 1, (5,))"]);
  const ref = makeEnv("simple_reference_v3");
  assert.deepEqual(ref.actionSpaces.map(String), ["Discrete(50)", "Discrete(50)"]);
  assert.deepEqual(sizes(ref), [21, 21]);
  const crypto = makeEnv("simple_crypto_v3");
  assert.deepEqual(crypto.agents, ["eve_0", "bob_0", "alice_0"]);
  assert.deepEqual(sizes(crypto), [4, 8, 8]);
  assert.deepEqual(crypto.actionSpaces.map(String), new Array(3).fill("Discrete(4)"));
  const wc = makeEnv("simple_world_comm_v3");
  assert.deepEqual(wc.agents, [
    "leadadversary_0",
    "adversary_0",
    "adversary_1",
    "adversary_2",
    "agent_0",
    "agent_1",
  ]);
  assert.deepEqual(sizes(wc), [34, 34, 34, 34, 28, 28]);
  assert.deepEqual(wc.actionSpaces.map(String), [
    "Discrete(20)",
    ...new Array(5).fill("Discrete(5)"),
  ]);
  assert.deepEqual(sizes(makeEnv("simple_adversary_v3")), [8, 10, 10]);
  assert.deepEqual(sizes(makeEnv("simple_push_v3")), [8, 19]);
  assert.deepEqual(sizes(makeEnv("simple_v3")), [4]);
});

Deno.test("mpe: bad actions throw a RangeError naming agent and value; state unchanged", () => {
  const cases: [string, Record<string, unknown>, (env: ParallelEnv) => Action[], RegExp][] = [
    ["simple_spread_v3", {}, () => [0, 5, 0], /agent_1.*5/],
    ["simple_spread_v3", {}, () => [0, 0, -1], /agent_2.*-1/],
    ["simple_spread_v3", {}, () => [1.5, 0, 0], /agent_0.*1\.5/],
    ["simple_spread_v3", {}, () => [0, 0], /3 actions.*got 2/],
    ["simple_spread_v3", {}, () => [0, 0, 0, 0], /3 actions.*got 4/],
    ["simple_speaker_listener_v4", {}, () => [3, 0], /speaker_0.*3/],
    ["simple_spread_v3", { continuous_actions: true }, () => [
      [0, 0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0, 0],
    ], /agent_1.*5 numbers/],
    ["simple_spread_v3", { continuous_actions: true }, () => [
      [0, 0, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [0, NaN, 0, 0, 0],
    ], /agent_2.*NaN/],
    ["simple_spread_v3", { continuous_actions: true }, () => [0, 1, 2], /agent_0.*0/],
  ];
  for (const [id, options, actions, message] of cases) {
    const env = makeEnv(id, options);
    env.reset({ seed: 3 });
    env.step(randomActions(env, NumpyGenerator.fromSeed(1)));
    const before = snapshot(env);
    assert.throws(() => env.step(actions(env)), (e: unknown) => {
      assert.ok(e instanceof RangeError, `${id}: ${e}`);
      assert.match(e.message, message);
      return true;
    });
    assert.equal(snapshot(env), before, `${id}: state changed by a rejected step`);
  }
});

Deno.test("mpe: unknown scenario, unknown option and bad option values throw RangeError", () => {
  assert.throws(() => makeEnv("simple_nothing_v1"), /Unknown environment "simple_nothing_v1"/);
  assert.throws(() => makeEnv("simple_spread_v3", { M: 3 }), /no option "M"/);
  assert.throws(() => makeEnv("simple_spread_v3", { N: 0 }), /N must be an integer.*got 0/);
  assert.throws(() => makeEnv("simple_spread_v3", { N: 1.5 }), /got 1\.5/);
  assert.throws(() => makeEnv("simple_spread_v3", { local_ratio: 2 }), /local_ratio.*got 2/);
  assert.throws(() => makeEnv("simple_tag_v3", { num_good: -1 }), /num_good.*got -1/);
  assert.throws(() => makeEnv("simple_world_comm_v3", { num_food: 0 }), /num_food.*got 0/);
  assert.throws(() => makeEnv("simple_v3", { max_cycles: 0 }), /max_cycles.*got 0/);
  assert.throws(() => makeEnv("simple_v3", { continuous_actions: "yes" }), /got "yes"/);
  for (const id of ["simple_spread_v3"]) {
    const env = makeEnv(id);
    assert.throws(() => env.reset({ seed: -1 }), RangeError);
    assert.throws(() => env.reset({ seed: 1.5 }), RangeError);
  }
});

Deno.test("mpe: continuous values outside [0, 1] are clipped as MPE2 does", () => {
  const a = makeEnv("simple_reference_v3", { continuous_actions: true });
  const b = makeEnv("simple_reference_v3", { continuous_actions: true });
  a.reset({ seed: 9 });
  b.reset({ seed: 9 });
  const wild = [-3, -0.5, 7, 0.25, Infinity, 2, -1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1.5];
  const tame = wild.map((x) => Math.min(1, Math.max(0, x)));
  const ra = a.step([wild, tame]), rb = b.step([tame, tame]);
  assert.deepEqual(ra.rewards, rb.rewards);
  assert.deepEqual(ra.observations, rb.observations);
  assert.equal(snapshot(a), snapshot(b));
});

Deno.test("mpe: getState/setState mid-episode continues identically (every scenario)", () => {
  for (const id of IDS) {
    for (const continuous of [false, true]) {
      const a = makeEnv(id, { continuous_actions: continuous });
      a.reset({ seed: 11 });
      const rng = NumpyGenerator.fromSeed(5);
      for (let t = 0; t < 10; t++) a.step(randomActions(a, rng));
      const saved = JSON.stringify(a.getState());
      const rngSaved = rng.getState();
      const b = makeEnv(id, { continuous_actions: continuous });
      b.setState(JSON.parse(saved));
      assert.equal(snapshot(b), saved, `${id}: restored state differs`);
      const rngB = NumpyGenerator.fromState(rngSaved);
      for (let t = 10; t < 25; t++) {
        const ra = a.step(randomActions(a, rng));
        const rb = b.step(randomActions(b, rngB));
        assert.deepEqual(rb.observations, ra.observations, `${id} step ${t + 1}`);
        assert.deepEqual(rb.rewards, ra.rewards, `${id} step ${t + 1}`);
        assert.deepEqual(rb.truncations, ra.truncations, `${id} step ${t + 1}`);
      }
      // The generator is part of the state: the next unseeded reset is the same too.
      assert.deepEqual(b.reset().observations, a.reset().observations, `${id}: next reset`);
      assert.throws(() => b.setState({ ...JSON.parse(saved), id: "other" }), RangeError);
      const broken = JSON.parse(saved);
      broken.entities[0].pPos = [0, "x"];
      const before = snapshot(b);
      assert.throws(() => b.setState(broken), /pPos must be 2 numbers/);
      assert.equal(snapshot(b), before, `${id}: state changed by a rejected setState`);
    }
  }
});

Deno.test("mpe: reset() without a seed continues the numpy stream; first one is seed 0", () => {
  const env = makeEnv("simple_v3") as MpeEnv;
  env.reset({ seed: 42 });
  env.reset();
  const g = NumpyGenerator.fromSeed(42);
  for (let k = 0; k < 4; k++) g.uniform(-1, 1); // the first reset's draws
  const expected = [g.uniform(-1, 1), g.uniform(-1, 1), g.uniform(-1, 1), g.uniform(-1, 1)];
  assert.deepEqual(
    [...env.world.agents[0].pPos, ...env.world.landmarks[0].pPos],
    expected,
  );
  const fresh = makeEnv("simple_spread_v3");
  const seeded = makeEnv("simple_spread_v3");
  assert.deepEqual(fresh.reset().observations, seeded.reset({ seed: 0 }).observations);
  assert.deepEqual(fresh.reset().observations, seeded.reset().observations);
  assert.notDeepEqual(fresh.reset().observations, seeded.reset({ seed: 0 }).observations);
});

Deno.test("mpe: truncation at maxCycles, never terminated; step outside an episode throws", () => {
  const env = makeEnv("simple_tag_v3", { max_cycles: 3 });
  assert.throws(() => env.step([0, 0, 0, 0]), /reset\(\) before step/);
  env.reset({ seed: 1 });
  for (let t = 1; t <= 3; t++) {
    const r = env.step([1, 2, 3, 4]);
    assert.deepEqual(r.terminations, [false, false, false, false]);
    assert.deepEqual(r.truncations, new Array(4).fill(t === 3));
  }
  assert.throws(() => env.step([0, 0, 0, 0]), /truncated after 3 steps/);
});

Deno.test("mpe: observations alternate between two reused buffers", () => {
  const env = makeEnv("simple_spread_v3");
  const o0 = env.reset({ seed: 2 }).observations;
  const copy = o0.map((o) => o.slice());
  const o1 = env.step([1, 2, 3]).observations;
  assert.notEqual(o1[0], o0[0]);
  assert.deepEqual(o0, copy, "the previous observations survive one step");
  const o2 = env.step([1, 2, 3]).observations;
  assert.equal(o2[0], o0[0]);
});

Deno.test("mpe scene: one finite circle per entity, MPE2's messages", () => {
  for (const id of IDS) {
    for (const continuous of [false, true]) {
      const env = makeEnv(id, { continuous_actions: continuous }) as MpeEnv;
      env.reset({ seed: 4 });
      const rng = NumpyGenerator.fromSeed(8);
      env.step(randomActions(env, rng));
      const scene = env.scene();
      assert.equal(scene.shapes.length, env.world.entities.length, id);
      for (const shape of scene.shapes) {
        assert.equal(shape.kind, "circle");
        if (shape.kind !== "circle") continue;
        for (const v of [shape.x, shape.y, shape.radius, ...shape.color]) {
          assert.ok(Number.isFinite(v), `${id}: ${JSON.stringify(shape)}`);
        }
        assert.deepEqual(shape.stroke, [0, 0, 0]);
      }
      const [x0, y0, x1, y1] = scene.view;
      assert.ok(x0 <= -1 && y0 <= -1 && x1 >= 1 && y1 >= 1 && x1 - x0 === y1 - y0, id);
      for (const e of env.world.entities) {
        assert.ok(Math.abs(e.pPos[0]) <= x1 && Math.abs(e.pPos[1]) <= y1, `${id}: ${e.name}`);
      }
      const speakers = env.world.agents.filter((a) => !a.silent).map((a) => a.name);
      assert.equal(scene.messages.length, speakers.length, id);
      scene.messages.forEach((m, i) => {
        const pattern = continuous
          ? /^\S+ sends (_|\[\d\.\d\d(,\d\.\d\d)*\])$/
          : /^\S+ sends [A-Z_]$/;
        assert.ok(m.startsWith(`${speakers[i]} sends `) && pattern.test(m), m);
      });
    }
  }
  const sl = makeEnv("simple_speaker_listener_v4");
  sl.reset({ seed: 1 });
  sl.step([2, 0]);
  assert.deepEqual(sl.scene().messages, ["speaker_0 sends C"]);
  const quiet = makeEnv("simple_crypto_v3", { continuous_actions: true });
  quiet.reset({ seed: 1 });
  quiet.step([[0, 0, 0, 0], [0.5, 0.125, 0, 1], [0, 0, 0, 0]]);
  assert.deepEqual(quiet.scene().messages, [
    "eve_0 sends _",
    "bob_0 sends [0.50,0.12,0.00,1.00]",
    "alice_0 sends _",
  ]);
});

Deno.test("mpe formatComm formats like Python's :.2f", () => {
  const cases: [number, string][] = [
    [0.125, "0.12"],
    [0.375, "0.38"],
    [0.5, "0.50"],
    [1, "1.00"],
    [0, "0.00"],
    [0.005, "0.01"], // 0.005 is slightly above the tie in binary
    [0.015, "0.01"], // slightly below
    [0.123456, "0.12"],
    [-0.125, "-0.12"],
  ];
  for (const [x, text] of cases) assert.equal(formatComm(x), text, String(x));
});
