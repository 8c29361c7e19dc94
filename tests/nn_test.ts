import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../lib/backend.ts";
import { Adam, clipGradNorm } from "../lib/nn/adam.ts";
import { Mlp, softUpdate } from "../lib/nn/mlp.ts";
import { TfMlp } from "../lib/nn/tf_mlp.ts";
import { loadMlp, saveMlp } from "../lib/checkpoint.ts";
import { Pcg32 } from "../lib/rng.ts";
import { assertAllClose, finiteDifferences, forward64, forwardActivated } from "./_reference.ts";

await initBackend();

Deno.test("Mlp.init(ddpg) draws Kaiming-normal hidden kernels, zero biases, a ±3e-3 output layer", () => {
  const sizes = [20, 256, 256, 2];
  const net = Mlp.init(sizes, new Pcg32(1), { weightInit: "ddpg" });
  const again = Mlp.init(sizes, new Pcg32(1), { weightInit: "ddpg" });
  assert.deepEqual(net.params, again.params, "the same seed draws the same network");
  const [first, second, output] = net.layers;
  for (const layer of [first, second]) {
    const kernel = net.params.subarray(layer.kernelOffset, layer.biasOffset);
    let sum = 0, sumSquares = 0;
    for (const v of kernel) {
      sum += v;
      sumSquares += v * v;
    }
    const mean = sum / kernel.length, std = Math.sqrt(sumSquares / kernel.length - mean ** 2);
    const expected = Math.sqrt(2 / layer.inputs);
    assert.ok(Math.abs(mean) < 0.05 * expected, `layer ${layer.inputs}: mean ${mean}`);
    assert.ok(Math.abs(std / expected - 1) < 0.05, `layer ${layer.inputs}: std ${std}`);
    const biases = net.params.subarray(layer.biasOffset, layer.biasOffset + layer.outputs);
    assert.ok(biases.every((v) => v === 0), "hidden biases are zero");
  }
  const last = net.params.subarray(output.kernelOffset);
  assert.ok(last.every((v) => Math.abs(v) <= 3e-3), "output layer within ±3e-3");
  assert.ok(last.some((v) => Math.abs(v) > 2.5e-3), "the whole interval is used");
});

Deno.test("Mlp.init() draws every parameter uniformly within ±1/√fan_in, as nn.Linear", () => {
  const net = Mlp.init([20, 256, 256, 1], new Pcg32(1));
  assert.equal(net.size, 20 * 256 + 256 + 256 * 256 + 256 + 256 + 1);
  for (const layer of net.layers) {
    const bound = 1 / Math.sqrt(layer.inputs);
    const values = net.params.subarray(layer.kernelOffset, layer.biasOffset + layer.outputs);
    let max = 0, sum = 0, sumSquares = 0;
    for (const v of values) {
      max = Math.max(max, Math.abs(v));
      sum += v;
      sumSquares += v * v;
    }
    assert.ok(max <= bound, `layer ${layer.inputs}: |w| ${max} > ${bound}`);
    assert.ok(max > 0.95 * bound, "the whole interval is used");
    // Uniform(−b, b) has variance b²/3.
    const variance = sumSquares / values.length - (sum / values.length) ** 2;
    assert.ok(Math.abs(variance / (bound * bound / 3) - 1) < 0.1, `variance ${variance}`);
  }
});

Deno.test("Mlp.forward() and TfMlp.forward() agree with a float64 reference", () => {
  const net = Mlp.init([6, 16, 16, 4], new Pcg32(2));
  const rng = new Pcg32(3);
  const rows = 7;
  const input = Float32Array.from({ length: rows * 6 }, () => rng.uniform(-1, 1));
  const tfNet = new TfMlp(net);
  const out = tf.tidy(() => tfNet.forward(tf.tensor2d(input, [rows, 6])));
  const batched = out.dataSync();
  out.dispose();
  for (let b = 0; b < rows; b++) {
    const row = input.subarray(b * 6, (b + 1) * 6);
    const expected = forward64(net.sizes, net.params, row);
    assertAllClose(net.forward(row), expected, 1e-6, 1e-6);
    assertAllClose(batched.subarray(b * 4, (b + 1) * 4), expected, 1e-5, 1e-5);
  }
  tfNet.dispose();
});

Deno.test("TfMlp.backward() matches finite differences of a float64 loss", () => {
  for (const sizes of [[5, 7, 6, 3], [4, 8, 1], [20, 12, 12, 1]]) {
    const net = Mlp.init(sizes, new Pcg32(4));
    const rng = new Pcg32(5);
    const rows = 6, inputs = sizes[0], outputs = sizes[sizes.length - 1];
    const input = Float32Array.from({ length: rows * inputs }, () => rng.uniform(-1, 1));
    // loss = Σ_b Σ_k c_bk · out_bk, so dloss/dout = c.
    const weights = Float32Array.from({ length: rows * outputs }, () => rng.uniform(-1, 1));
    const loss = (params: Float64Array) => {
      let total = 0;
      for (let b = 0; b < rows; b++) {
        const out = forward64(sizes, params, input.subarray(b * inputs, (b + 1) * inputs));
        for (let k = 0; k < outputs; k++) total += weights[b * outputs + k] * out[k];
      }
      return total;
    };
    const tfNet = new TfMlp(net);
    const x = tf.tensor2d(input, [rows, inputs]);
    const trace = tfNet.forwardTrace(x);
    const dOut = tf.tensor2d(weights, [rows, outputs]);
    const grads = new Float32Array(net.size);
    tfNet.backward(trace, dOut, grads);
    tf.dispose([...trace, dOut]);
    tfNet.dispose();
    assertAllClose(grads, finiteDifferences(loss, net.params), 1e-3, 1e-4);
  }
});

Deno.test("Adam.step() computes torch.optim.Adam's update", () => {
  const params = Float32Array.of(0.5, -0.3, 2);
  const adam = new Adam(3, { lr: 0.01 });
  const g1 = [0.1, -0.2, 0.0], g2 = [0.3, 0.1, -0.5];
  adam.step(params, Float32Array.from(g1));
  adam.step(params, Float32Array.from(g2));
  // By hand: m = 0.9 m + 0.1 g; v = 0.999 v + 0.001 g²;
  // p -= lr / (1 − 0.9^t) · m / (√v / √(1 − 0.999^t) + 1e-8)
  const expected = [0.5, -0.3, 2].map((p0, k) => {
    let p = p0, m = 0, v = 0;
    for (const [t, g] of [[1, g1[k]], [2, g2[k]]]) {
      m = 0.9 * m + 0.1 * g;
      v = 0.999 * v + 0.001 * g * g;
      p -= 0.01 / (1 - 0.9 ** t) * m / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** t) + 1e-8);
    }
    return p;
  });
  assertAllClose(params, expected, 1e-6, 1e-7);
  assert.equal(adam.stepCount, 2);
  const state = adam.getState();
  const copy = new Adam(3, { lr: 0.01 });
  copy.setState(state);
  const a = params.slice(), b = params.slice();
  adam.step(a, Float32Array.of(1, 2, 3));
  copy.step(b, Float32Array.of(1, 2, 3));
  assert.deepEqual(a, b);
});

Deno.test("clipGradNorm() scales to the maximum norm as torch's clip_grad_norm_", () => {
  const grads = Float32Array.of(3, 4);
  assert.equal(clipGradNorm(grads, 1), 5);
  assertAllClose(grads, [3 / (5 + 1e-6), 4 / (5 + 1e-6)], 1e-7, 0);
  const small = Float32Array.of(0.3, 0.4);
  clipGradNorm(small, 1);
  assert.deepEqual(small, Float32Array.of(0.3, 0.4));
});

Deno.test("softUpdate() moves the target by tau towards the source", () => {
  const target = new Mlp([1, 1], Float32Array.of(1, 2));
  const source = new Mlp([1, 1], Float32Array.of(3, -2));
  const before = target.version;
  softUpdate(target, source, 0.25);
  assertAllClose(target.params, [0.25 * 3 + 0.75 * 1, 0.25 * -2 + 0.75 * 2], 1e-7, 0);
  assert.ok(target.version > before);
  assert.throws(() => softUpdate(target, new Mlp([2, 1]), 0.1), /Soft update between networks/);
});

for (const hidden of ["relu", "tanh", "sigmoid", "linear"] as const) {
  for (const output of ["linear", "tanh", "sigmoid"] as const) {
    Deno.test(`TfMlp backward and inputGradient match finite differences (${hidden} hidden, ${output} out)`, () => {
      const sizes = [4, 6, 5, 3], activations = [hidden, hidden, output];
      const net = Mlp.init(sizes, new Pcg32(7), { activations });
      const rng = new Pcg32(8), rows = 5;
      const input = Float32Array.from({ length: rows * 4 }, () => rng.uniform(-1, 1));
      const weights = Float32Array.from({ length: rows * 3 }, () => rng.uniform(-1, 1));
      const loss = (params: ArrayLike<number>, x: ArrayLike<number>) => {
        let total = 0;
        for (let b = 0; b < rows; b++) {
          const out = forwardActivated(
            sizes,
            activations,
            params,
            Array.from(x).slice(b * 4, b * 4 + 4),
          );
          for (let k = 0; k < 3; k++) total += weights[b * 3 + k] * out[k];
        }
        return total;
      };
      assertAllClose(
        net.forward(input.subarray(0, 4)),
        forwardActivated(sizes, activations, net.params, input.subarray(0, 4)),
        1e-6,
        1e-6,
      );
      const tfNet = new TfMlp(net);
      const x = tf.tensor2d(input, [rows, 4]);
      const trace = tfNet.forwardTrace(x);
      const dOut = tf.tensor2d(weights, [rows, 3]);
      const grads = new Float32Array(net.size);
      tfNet.backward(trace, dOut, grads);
      const inputGrad = tfNet.inputGradient(trace, dOut);
      const inputGradValues = inputGrad.dataSync().slice();
      tf.dispose([...trace, dOut, inputGrad]);
      tfNet.dispose();
      assertAllClose(grads, finiteDifferences((p) => loss(p, input), net.params), 1e-3, 1e-4);
      assertAllClose(
        inputGradValues,
        finiteDifferences((x) => loss(net.params, x), input),
        1e-3,
        1e-4,
      );
    });
  }
}

Deno.test("TfMlp inputGradient of some input columns equals those columns of the whole, bit for bit", () => {
  const sizes = [69, 64, 64, 1];
  const net = Mlp.init(sizes, new Pcg32(11), { activations: ["relu", "relu", "linear"] });
  const rng = new Pcg32(12), rows = 37;
  const tfNet = new TfMlp(net);
  const before = tf.memory().numTensors;
  tf.tidy(() => {
    const x = tf.tensor2d(Float32Array.from({ length: rows * 69 }, () => rng.uniform(-1, 1)), [
      rows,
      69,
    ]);
    const trace = tfNet.forwardTrace(x);
    const dOut = tf.fill([rows, 1], -1 / rows) as tf.Tensor2D;
    const whole = tfNet.inputGradient(trace, dOut).arraySync();
    for (const [from, count] of [[54, 5], [0, 1], [64, 5], [0, 69], [3, 8]]) {
      const part = tfNet.inputGradient(trace, dOut, { from, count });
      assert.deepEqual(part.shape, [rows, count]);
      const expected = whole.map((row) => row.slice(from, from + count));
      assert.deepEqual(part.arraySync(), expected, `columns ${from}…${from + count - 1}`);
    }
    assert.throws(
      () => tfNet.inputGradient(trace, dOut, { from: 66, count: 5 }),
      { message: "input columns 66…70 of 69 inputs" },
    );
  });
  // The kept columns of W^T are freed with the network's other tensors.
  assert.ok(tf.memory().numTensors > before);
  tfNet.dispose();
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("saveMlp() records activations in model.json and loadMlp() reads them back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const net = Mlp.init([3, 8, 2], new Pcg32(9), { activations: ["tanh", "sigmoid"] });
    await saveMlp(net, dir);
    const topology = JSON.parse(await Deno.readTextFile(`${dir}/model.json`)).modelTopology;
    assert.deepEqual(
      topology.config.layers.map((l: { config: { activation: string } }) => l.config.activation),
      ["tanh", "sigmoid"],
    );
    const loaded = await loadMlp(dir, [3, 8, 2]);
    assert.deepEqual(loaded.activations, ["tanh", "sigmoid"]);
    assert.deepEqual(loaded.forward([0.1, -0.2, 0.3]), net.forward([0.1, -0.2, 0.3]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
