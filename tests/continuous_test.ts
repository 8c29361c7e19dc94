/**
 * Continuous actions: the policy's scaled sigmoid with clipped Gaussian noise, the noise
 * schedule, and the actor gradient through the critic against float64 finite differences.
 */
import assert from "node:assert/strict";
import { initBackend } from "../lib/backend.ts";
import { GumbelMaddpg } from "../lib/agent/gumbel_learner.ts";
import type { AgentShape } from "../lib/agent/algorithm.ts";
import { selectActions } from "../lib/agent/policy.ts";
import { Box } from "../lib/env/spaces.ts";
import { Mlp } from "../lib/nn/mlp.ts";
import { allocateBatch } from "../lib/replay_buffer.ts";
import { Pcg32 } from "../lib/rng.ts";
import { actionNoiseAt } from "../lib/train/exploration.ts";
import { assertAllClose, finiteDifferences, forwardActivated } from "./_reference.ts";

await initBackend();

/** `forwardActivated` of a network's own sizes and activations. */
function forward64(net: Mlp, params: ArrayLike<number>, input: ArrayLike<number>): number[] {
  return forwardActivated(net.sizes, net.activations, params, input);
}

Deno.test("selectActions() scales a continuous actor's sigmoid to its box and clips the noise", () => {
  const actor = Mlp.init([3, 8, 2], new Pcg32(1), { activations: ["relu", "sigmoid"] });
  const space = new Box([0, -1], [1, 3], [2]);
  const obs = [Float32Array.of(0.1, -0.4, 0.9)];
  const y = actor.forward(obs[0]);
  const [greedy] = selectActions([actor], obs, { mode: "greedy", spaces: [space] });
  assert.deepEqual(Array.from(greedy as Float64Array), [y[0], -1 + 4 * y[1]]);
  const rng = new Pcg32(5), copy = new Pcg32(5);
  const [noisy] = selectActions([actor], obs, { mode: "greedy", spaces: [space], rng, noise: 0.3 });
  const n0 = Math.sqrt(-2 * Math.log(1 - copy.nextFloat())) *
    Math.cos(2 * Math.PI * copy.nextFloat());
  assert.equal((noisy as Float64Array)[0], Math.min(1, Math.max(0, y[0] + 0.3 * n0)));
  const [wild] = selectActions([actor], obs, { mode: "greedy", spaces: [space], rng, noise: 100 });
  assert.ok(space.contains(wild), "noisy actions stay in the box");
});

Deno.test("selectActions() maps a tanh actor's output from [-1, 1] to its box", () => {
  const actor = new Mlp([1, 2], new Float32Array([0, 0, 1, -0.5]), {
    activations: ["tanh"],
  });
  const space = new Box([0, -2], [1, 2], [2]);
  const [action] = selectActions([actor], [Float32Array.of(3)], {
    mode: "greedy",
    spaces: [space],
  });
  const fraction = [(Math.tanh(1) + 1) / 2, (Math.tanh(-0.5) + 1) / 2];
  assertAllClose(action as Float64Array, [fraction[0], -2 + 4 * fraction[1]], 0, 1e-15);
});

Deno.test("--actor-grad-clip bounds the actor's gradient, not the critic's", () => {
  const agents: AgentShape[] = [{
    observationSize: 3,
    actionKind: "continuous",
    actionSize: 2,
    bounds: { low: [0, 0], high: [1, 1] },
  }, { observationSize: 2, actionKind: "discrete", actionSize: 3 }];
  const rows = 4, rng = new Pcg32(8);
  const batch = allocateBatch(rows, { observationSizes: [3, 2], actionSizes: [2, 1] });
  for (const a of [...batch.observations, ...batch.nextObservations, batch.rewards]) {
    a.forEach((_, k) => (a[k] = rng.uniform(-1, 1)));
  }
  batch.actions[0].forEach((_, k) => (batch.actions[0][k] = rng.nextFloat()));
  const stepOf = (actorGradClip: number) => {
    const learner = new GumbelMaddpg(
      { variant: "maddpg", agents, actorHidden: [5], criticHidden: [5], actorGradClip },
      new Pcg32(6),
    );
    const before = [learner.actors[0].params.slice(), learner.critics[0].params.slice()];
    learner.update(batch, learner.drawUniforms(rows, new Pcg32(2)));
    const moved = [learner.actors[0], learner.critics[0]].map((net, i) =>
      Math.hypot(...net.params.map((v, k) => v - before[i][k]))
    );
    learner.dispose();
    return moved;
  };
  const [actorFree, criticFree] = stepOf(0), [actorClipped, criticClipped] = stepOf(1e-12);
  // Adam's first step is lr · g / (|g| + 1e-8): a gradient clipped to norm 1e-12 barely moves.
  assert.ok(actorClipped < 1e-3 * actorFree, `actor moved ${actorClipped} vs ${actorFree}`);
  assert.ok(Math.abs(criticClipped - criticFree) < 1e-6 * criticFree, "the critic is unaffected");
});

Deno.test("actionNoiseAt() decays linearly to its floor", () => {
  const schedule = {
    actionNoise: 0.3,
    actionNoiseEnd: 0.01,
    actionNoiseDecay: 1000,
    actionNoiseAfterWarmup: false,
    warmupSteps: 400,
  };
  assertAllClose(
    [0, 500, 1000, 5000].map((t) => actionNoiseAt(schedule, t)),
    [
      0.3,
      0.155,
      0.01,
      0.01,
    ],
    0,
    1e-15,
  );
});

Deno.test("actionNoiseAt() with actionNoiseAfterWarmup follows maddpg-zoo-torch's train.py", () => {
  const schedule = {
    actionNoise: 0.3,
    actionNoiseEnd: 0.01,
    actionNoiseDecay: 1000,
    actionNoiseAfterWarmup: true,
    warmupSteps: 400,
  };
  // train.py: act with noise_scale at global_step (1, 2, …), then, past the warm-up, decrement it.
  const decrement = (0.3 - 0.01) / 1000;
  let noiseScale = 0.3;
  const peer: number[] = [];
  const ours: number[] = [];
  for (let globalStep = 1; globalStep <= 2000; globalStep++) {
    peer.push(noiseScale);
    ours.push(actionNoiseAt(schedule, globalStep - 1)); // steps taken before this action
    if (globalStep > 400) noiseScale = Math.max(0.01, noiseScale - decrement);
  }
  assertAllClose(ours, peer, 0, 1e-12);
  assert.equal(ours[400], 0.3);
  assert.ok(ours[401] < 0.3);
});

const GRADIENT_CASES = [
  ["maddpg", "sigmoid"],
  ["iddpg", "sigmoid"],
  ["matd3", "sigmoid"],
  ["maddpg", "tanh"],
  ["matd3", "tanh"],
] as const;
for (const [variant, output] of GRADIENT_CASES) {
  Deno.test(`${variant} continuous, ${output} actors: actor gradient through the critic matches finite differences`, () => {
    const agents: AgentShape[] = [
      {
        observationSize: 4,
        actionKind: "continuous",
        actionSize: 2,
        bounds: { low: [0, 0], high: [1, 1] },
      },
      { observationSize: 3, actionKind: "discrete", actionSize: 3 },
      {
        observationSize: 5,
        actionKind: "continuous",
        actionSize: 3,
        bounds: { low: [-1, 0, 2], high: [1, 2, 3] },
      },
    ];
    const learner = new GumbelMaddpg(
      {
        variant,
        agents,
        actorHidden: [6],
        criticHidden: [7],
        logitsRegularization: 0,
        actorOutput: output,
      },
      new Pcg32(3),
    );
    for (const actor of [learner.actors[0], learner.actors[2]]) {
      assert.equal(actor.activations[actor.activations.length - 1], output);
    }
    const rows = 5, rng = new Pcg32(4);
    const batch = allocateBatch(rows, { observationSizes: [4, 3, 5], actionSizes: [2, 1, 3] });
    for (const a of [...batch.observations, ...batch.nextObservations]) {
      a.forEach((_, k) => (a[k] = rng.uniform(-1, 1)));
    }
    batch.actions[0].forEach((_, k) => (batch.actions[0][k] = rng.nextFloat()));
    batch.actions[1].forEach((_, k) => (batch.actions[1][k] = rng.nextInt(3)));
    batch.actions[2].forEach((_, k) => (batch.actions[2][k] = rng.uniform(0, 1)));
    const agent = 2, bounds = agents[agent].bounds!;
    const round = learner.beginRound(batch, learner.drawUniforms(rows, rng));
    try {
      const { loss, grads } = learner.actorGradient(agent, round, new Float64Array(rows * 3));
      // float64 reference: loss(θ) = −mean_b Q(x_b, a_b with agent 2's a = low + (high − low) σ(μ(o)))
      // (a tanh actor: low + (high − low) (tanh(μ(o)) + 1) / 2).
      const actor = learner.actors[agent], critic = learner.critics[agent];
      const centralized = variant !== "iddpg";
      const lossOf = (params: ArrayLike<number>) => {
        let total = 0;
        for (let b = 0; b < rows; b++) {
          const y = forward64(actor, params, batch.observations[agent].subarray(b * 5, b * 5 + 5));
          const fraction = (v: number) => (output === "tanh" ? (v + 1) / 2 : v);
          const own = y.map((v, k) =>
            bounds.low[k] + (bounds.high[k] - bounds.low[k]) * fraction(v)
          );
          const input = centralized
            ? [
              ...batch.observations[0].subarray(b * 4, b * 4 + 4),
              ...batch.observations[1].subarray(b * 3, b * 3 + 3),
              ...batch.observations[2].subarray(b * 5, b * 5 + 5),
              ...batch.actions[0].subarray(b * 2, b * 2 + 2),
              ...[0, 1, 2].map((k) => (batch.actions[1][b] === k ? 1 : 0)),
              ...own,
            ]
            : [...batch.observations[2].subarray(b * 5, b * 5 + 5), ...own];
          total += forward64(critic, critic.params, input)[0];
        }
        return -total / rows;
      };
      assert.ok(
        Math.abs(loss - lossOf(actor.params)) < 1e-5,
        `loss ${loss} vs ${lossOf(actor.params)}`,
      );
      assertAllClose(grads, finiteDifferences(lossOf, actor.params), 2e-3, 2e-5);
      assert.ok(grads.some((g) => Math.abs(g) > 1e-4), "the gradient is not zero");
    } finally {
      learner.endRound(round);
      learner.dispose();
    }
  });
}

Deno.test("matd3 continuous: target actions get clipped noise and stay in the box", () => {
  const agents: AgentShape[] = [
    {
      observationSize: 2,
      actionKind: "continuous",
      actionSize: 2,
      bounds: { low: [0, 0], high: [1, 1] },
    },
  ];
  const learner = new GumbelMaddpg(
    {
      variant: "matd3",
      agents,
      actorHidden: [4],
      criticHidden: [4],
      targetNoise: 10,
      targetNoiseClip: 0.05,
    },
    new Pcg32(9),
  );
  const rows = 3, batch = allocateBatch(rows, { observationSizes: [2], actionSizes: [2] });
  batch.nextObservations[0].set([0.1, 0.2, -0.3, 0.4, 0.5, -0.6]);
  const uniforms = learner.drawUniforms(rows, new Pcg32(2));
  const round = learner.beginRound(batch, uniforms);
  try {
    const next = round.nextInputs[0].dataSync();
    const target = learner.targetActors[0];
    for (let b = 0; b < rows; b++) {
      const y = target.forward(batch.nextObservations[0].subarray(b * 2, b * 2 + 2));
      for (let k = 0; k < 2; k++) {
        const a = next[b * 4 + 2 + k];
        assert.ok(a >= 0 && a <= 1, `in the box: ${a}`);
        assert.ok(
          Math.abs(a - Math.min(1, Math.max(0, y[k]))) <= 0.05 + 1e-6,
          "noise clipped to 0.05",
        );
        assert.ok(Math.abs(a - y[k]) > 1e-4 || a === 0 || a === 1, "noise was added");
      }
    }
  } finally {
    learner.endRound(round);
    learner.dispose();
  }
});

Deno.test("updateSeparately(): each agent learns as a shared round on its own batch would teach it", () => {
  const agents: AgentShape[] = [{
    observationSize: 3,
    actionKind: "continuous",
    actionSize: 2,
    bounds: { low: [0, 0], high: [1, 1] },
  }, {
    observationSize: 2,
    actionKind: "continuous",
    actionSize: 1,
    bounds: { low: [0], high: [1] },
  }];
  const rows = 6, rng = new Pcg32(9);
  const batches = [0, 1].map(() => {
    const batch = allocateBatch(rows, { observationSizes: [3, 2], actionSizes: [2, 1] });
    for (const a of [...batch.observations, ...batch.nextObservations, batch.rewards]) {
      a.forEach((_, k) => (a[k] = rng.uniform(-1, 1)));
    }
    batch.actions.forEach((a) => a.forEach((_, k) => (a[k] = rng.nextFloat())));
    return batch;
  });
  const make = () =>
    new GumbelMaddpg(
      { variant: "maddpg", agents, actorHidden: [5], criticHidden: [5] },
      new Pcg32(4),
    );
  const separate = make();
  const uniforms = batches.map(() => separate.drawUniforms(rows, rng));
  const losses = separate.updateSeparately(batches, uniforms);
  const state = separate.getState();
  for (const agent of [0, 1]) {
    const shared = make();
    const sharedLosses = shared.update(batches[agent], uniforms[agent]);
    assert.equal(losses.critic[agent], sharedLosses.critic[agent]);
    assert.equal(losses.actor[agent], sharedLosses.actor[agent]);
    const own = shared.getState();
    const names = Object.keys(own.nets).filter((name) => name.endsWith(`_${agent}`));
    assert.ok(names.length >= 4, names.join());
    for (const name of names) assert.deepEqual(state.nets[name], own.nets[name], name);
    for (const name of Object.keys(own.optimizers).filter((n) => n.endsWith(`_${agent}`))) {
      assert.deepEqual(state.optimizers[name], own.optimizers[name], name);
    }
    // The other agent's batch teaches it something else.
    const other = make();
    other.update(batches[1 - agent], uniforms[1 - agent]);
    assert.notDeepEqual(other.getState().nets[`critic_${agent}`], state.nets[`critic_${agent}`]);
    [shared, other].forEach((learner) => learner.dispose());
  }
  assert.throws(() => separate.updateSeparately(batches.slice(1), uniforms), /needs 2 batches/);
  separate.dispose();
});
