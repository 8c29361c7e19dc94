import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { selectActions } from "../lib/agent/policy.ts";
import { initBackend } from "../lib/backend.ts";
import { loadMlp, saveMlp } from "../lib/checkpoint.ts";
import { UsageError } from "../lib/errors.ts";
import { Mlp } from "../lib/nn/mlp.ts";
import { Pcg32 } from "../lib/rng.ts";

await initBackend("wasm");

Deno.test("saveMlp() then loadMlp() round-trips weights and actions exactly", async () => {
  const dir = await Deno.makeTempDir();
  const rng = new Pcg32(1);
  const actors = [Mlp.init([6, 128, 128, 4], rng), Mlp.init([6, 128, 128, 4], rng)];
  for (let i = 0; i < 2; i++) await saveMlp(actors[i], `${dir}/agent_${i}/actor`, `actor_${i}`);
  const loaded = [];
  for (let i = 0; i < 2; i++) {
    loaded.push(await loadMlp(`${dir}/agent_${i}/actor`, [6, 128, 128, 4]));
  }
  loaded.forEach((net, i) => assert.deepEqual(net.params, actors[i].params));
  const obsRng = new Pcg32(2);
  for (let t = 0; t < 200; t++) {
    const obs = [0, 1].map(() => Float32Array.from({ length: 6 }, () => obsRng.nextInt(5) / 4));
    assert.deepEqual(
      selectActions(loaded, obs, { mode: "greedy" }),
      selectActions(actors, obs, { mode: "greedy" }),
    );
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a saved actor loads with plain tf.loadLayersModel and predicts the same logits", async () => {
  const dir = await Deno.makeTempDir();
  const net = Mlp.init([6, 128, 128, 4], new Pcg32(3));
  await saveMlp(net, dir, "actor_0");
  // What a browser does: fetch model.json, then the weights beside it.
  const model = await tf.loadLayersModel(
    tf.io.http(new URL(`file://${dir}/model.json`).href, { fetchFunc: fetch }),
  );
  const input = Float32Array.of(0.25, 0, 1, 0.75, 1, 0);
  const logits = tf.tidy(() => (model.predict(tf.tensor2d(input, [1, 6])) as tf.Tensor).dataSync());
  const expected = net.forward(input);
  for (let k = 0; k < 4; k++) assert.ok(Math.abs(logits[k] - expected[k]) < 1e-5);
  model.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadMlp() names the missing or corrupt file", async () => {
  const dir = await Deno.makeTempDir();
  const net = Mlp.init([6, 8, 4], new Pcg32(4));
  await saveMlp(net, dir);
  await assert.rejects(
    () => loadMlp(`${dir}/nope`),
    (e) => e instanceof UsageError && /nope\/model.json/.test(e.message),
  );
  await assert.rejects(
    () => loadMlp(dir, [6, 128, 128, 4]),
    /holds layers \[6,8,4\], expected \[6,128,128,4\]/,
  );
  const weights = await Deno.readFile(`${dir}/weights.bin`);
  await Deno.writeFile(`${dir}/weights.bin`, weights.subarray(0, weights.length - 4));
  await assert.rejects(() => loadMlp(dir), /weights.bin holds \d+ bytes, expected/);
  await Deno.remove(`${dir}/weights.bin`);
  await assert.rejects(() => loadMlp(dir), /Cannot read .*weights.bin/);
  await Deno.writeTextFile(`${dir}/model.json`, "{ not json");
  await assert.rejects(() => loadMlp(dir), /model.json is not a tfjs Layers model/);
  await Deno.remove(dir, { recursive: true });
});
