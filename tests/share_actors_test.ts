/**
 * Parameter sharing (`--share-actors`): which agents share an actor, one Adam step per round
 * with the mean of the sharers' gradients, one soft update of the shared target, the state
 * round trip, and the refusal of a worker per agent.
 */
import assert from "node:assert/strict";
import { initBackend } from "../lib/backend.ts";
import type { AgentShape } from "../lib/agent/algorithm.ts";
import { GumbelMaddpg } from "../lib/agent/gumbel_learner.ts";
import type { GumbelOptions } from "../lib/agent/gumbel_learner.ts";
import { UsageError } from "../lib/errors.ts";
import { Adam, clipGradNorm } from "../lib/nn/adam.ts";
import { allocateBatch } from "../lib/replay_buffer.ts";
import type { Batch } from "../lib/replay_buffer.ts";
import { Pcg32 } from "../lib/rng.ts";
import { learnerThreads } from "../lib/train/run.ts";
import { assertAllClose } from "./_reference.ts";

await initBackend();

const BOX = { low: [0, 0], high: [1, 1] };
const GOOD: AgentShape = {
  observationSize: 4,
  actionKind: "continuous",
  actionSize: 2,
  bounds: BOX,
};
const ADVERSARY: AgentShape = { ...GOOD, observationSize: 3, adversary: true };

function learner(agents: AgentShape[], extra: Partial<GumbelOptions> = {}, seed = 4): GumbelMaddpg {
  return new GumbelMaddpg(
    { variant: "maddpg", agents, actorHidden: [5], criticHidden: [6], shareActors: true, ...extra },
    new Pcg32(seed),
  );
}

function randomBatch(agents: AgentShape[], rows: number, rng: Pcg32): Batch {
  const batch = allocateBatch(rows, {
    observationSizes: agents.map((a) => a.observationSize),
    actionSizes: agents.map((a) => a.actionSize),
  });
  for (const a of [...batch.observations, ...batch.nextObservations, batch.rewards]) {
    a.forEach((_, k) => (a[k] = rng.uniform(-1, 1)));
  }
  batch.actions.forEach((a) => a.forEach((_, k) => (a[k] = rng.nextFloat())));
  return batch;
}

Deno.test("shareActors: agents of the same spaces and team share one actor, target and optimizer", () => {
  const shared = learner([ADVERSARY, GOOD, GOOD, ADVERSARY]);
  assert.deepEqual(shared.actorOwner, [0, 1, 1, 0]);
  assert.ok(shared.sharesActors);
  for (const [i, j] of [[1, 2], [0, 3]]) {
    assert.equal(shared.actors[i], shared.actors[j]);
    assert.equal(shared.targetActors[i], shared.targetActors[j]);
    assert.equal(shared.actorOptimizers[i], shared.actorOptimizers[j]);
    assert.notEqual(shared.critics[i], shared.critics[j], "critics stay per agent");
  }
  assert.notEqual(shared.actors[0], shared.actors[1]);
  assert.notEqual(shared.targetActors[1], shared.actors[1]);
  shared.dispose();
  // A team of DDPG adversaries against MADDPG agents: variants differ, so nothing is shared.
  const teams = learner([GOOD, GOOD], { variants: ["maddpg", "iddpg"] });
  assert.deepEqual(teams.actorOwner, [0, 1]);
  assert.equal(teams.sharesActors, false);
  teams.dispose();
  const off = learner([GOOD, GOOD], { shareActors: false });
  assert.notEqual(off.actors[0], off.actors[1]);
  off.dispose();
});

Deno.test("shareActors: a round steps the shared actor once, with the mean of its sharers' gradients", () => {
  const agents = [GOOD, GOOD, GOOD];
  const rows = 6, rng = new Pcg32(7);
  const batch = randomBatch(agents, rows, rng);
  const shared = learner(agents, { actorLr: 0.01, tau: 0.1, actorGradClip: 0.05 });
  const before = shared.actors[0].params.slice();
  const given: Float32Array[] = [];
  const actorGradient = shared.actorGradient.bind(shared);
  shared.actorGradient = (agent, round, noise) => {
    const result = actorGradient(agent, round, noise);
    assert.deepEqual(shared.actors[agent].params, before, `agent ${agent} sees the round's start`);
    given.push(result.grads.slice());
    return result;
  };
  const losses = shared.update(batch, shared.drawUniforms(rows, rng));
  assert.equal(given.length, 3, "each sharer gives its gradient");
  assert.ok(losses.actor.every(Number.isFinite), losses.actor.join());
  const sum = new Float32Array(before.length); // summed in float32, as the learner does
  for (const grads of given) grads.forEach((g, k) => (sum[k] += g));
  const mean = sum.map((g) => g / 3);
  clipGradNorm(mean, 0.05);
  const expected = before.slice();
  new Adam(expected.length, { lr: 0.01 }).step(expected, mean);
  assert.deepEqual(shared.actors[0].params, expected);
  // One soft update of the shared target: τ · new + (1 − τ) · initial.
  const target = expected.map((v, k) => 0.1 * v + 0.9 * before[k]);
  assertAllClose(shared.targetActors[0].params, target, 0, 1e-7);
  shared.dispose();
});

Deno.test("shareActors: getState/setState restores the shared actor, still shared", () => {
  const agents = [GOOD, GOOD];
  const rows = 5, rng = new Pcg32(2);
  const a = learner(agents), b = learner(agents, {}, 9);
  assert.notDeepEqual(b.getState(), a.getState());
  a.update(randomBatch(agents, rows, rng), a.drawUniforms(rows, rng));
  b.setState(a.getState());
  assert.equal(b.actors[0], b.actors[1]);
  assert.deepEqual(b.getState(), a.getState());
  const batch = randomBatch(agents, rows, rng), uniforms = a.drawUniforms(rows, rng);
  a.update(batch, uniforms);
  b.update(batch, uniforms);
  assert.deepEqual(b.getState().nets, a.getState().nets);
  [a, b].forEach((l) => l.dispose());
});

Deno.test("shareActors: no worker per agent (threads 2 refused, auto stays on the main thread)", async () => {
  assert.throws(
    () => learnerThreads(2, { agents: 2, cores: 2, shareActors: true }),
    (error: Error) => error instanceof UsageError && /--share-actors/.test(error.message),
  );
  assert.equal(learnerThreads("auto", { agents: 2, cores: 2, shareActors: true }), 1);
  assert.equal(learnerThreads("auto", { agents: 2, cores: 2, shareActors: false }), 2);
  const shared = learner([GOOD, GOOD]);
  const rows = 3, rng = new Pcg32(1);
  const round = {
    batch: randomBatch([GOOD, GOOD], rows, rng),
    uniforms: shared.drawUniforms(rows, rng),
  };
  const peers = { sendActor: () => {}, receiveActors: () => Promise.resolve() };
  await assert.rejects(() => shared.updateAgent(0, round, peers), /share an actor/);
  shared.dispose();
});
