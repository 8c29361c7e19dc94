/**
 * `clipGradNorm` and `Adam` against PyTorch 2.13 (`torch.nn.utils.clip_grad_norm_` then
 * `torch.optim.Adam`, default betas and eps) on recorded float32 runs.
 *
 * The fixture was made with (from the repository root; the venv is the one
 * ../shared/reference/run_notebook.sh sets up):
 *   /tmp/maddpg-ref-venv/bin/python tests/fixtures/torch/make_adam_fixture.py \
 *     > tests/fixtures/torch/adam_clip.json
 *
 * Tolerances, in float32 ulps (measured maxima in brackets):
 * - the norm clip_grad_norm_ returns: exact [0] (both sum the squares in float64);
 * - clipped gradients below the limit: exact [0] (neither changes them);
 * - clipped gradients above the limit: ≤ 2 ulp [2]. torch rounds the norm, norm + 1e-6 and
 *   its reciprocal to float32 before multiplying (`max_norm / t` is `t.reciprocal() * max_norm`),
 *   the code multiplies by the float64 coefficient; the test shows that emulating torch's
 *   float32 coefficient gives its clipped gradients exactly;
 * - one Adam step from torch's own state: ≤ 2 ulp [2] of the parameters, ≤ 1 ulp [1] of the
 *   first moment, ≤ 2 ulp [2] of the second. torch rounds every intermediate (β2·v, √v / √bc2,
 *   + eps, m / denom, · step size) to float32, the code computes each element in float64 and
 *   rounds once when it stores it. An ulp here is that of the largest operand (|old| or |new|
 *   value; for m also |g|): when a step almost cancels a parameter, the rounding of the
 *   operands is many ulps of the small result;
 * - five steps from the same start, each side clipping its own gradients: ≤ 4 ulp [3] of the
 *   parameters (the per-step differences do not grow).
 */
import assert from "node:assert/strict";
import { Adam, clipGradNorm } from "../lib/nn/adam.ts";

interface TorchStep {
  grad: number[];
  totalNorm: number;
  clipped: number[];
  params: number[];
  expAvg: number[];
  expAvgSq: number[];
}

interface TorchCase {
  name: string;
  size: number;
  maxNorm: number;
  lr: number;
  init: number[];
  steps: TorchStep[];
}

const fixture: { torch: string; cases: TorchCase[] } = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/torch/adam_clip.json", import.meta.url)),
);

const bits = new Float32Array(1), exponentBits = new Uint32Array(bits.buffer);

/** The float32 ulp at |x|: the spacing of float32 numbers in x's binade. */
function ulp32(x: number): number {
  bits[0] = Math.abs(x);
  const exponent = (exponentBits[0] >>> 23) & 0xff;
  return 2 ** (Math.max(exponent, 1) - 127 - 23);
}

/**
 * Asserts |actual[k] − expected[k]| ≤ ulps · ulp32(scale(k)) for every k, where the scale
 * is the largest operand of the step that made element k (default: the expected value).
 */
function assertUlps(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  ulps: number,
  label: string,
  scale: (k: number) => number = (k) => expected[k],
): void {
  assert.equal(actual.length, expected.length, label);
  for (let k = 0; k < actual.length; k++) {
    const error = Math.abs(actual[k] - expected[k]) / ulp32(scale(k));
    assert.ok(
      error <= ulps,
      `${label} [${k}]: ${actual[k]} vs torch ${expected[k]} (${error} ulp > ${ulps})`,
    );
  }
}

const maxAbs = (...values: number[]) => Math.max(...values.map(Math.abs));

Deno.test("the torch fixture holds float32 values of clip and Adam runs, below and above the limit", () => {
  assert.equal(fixture.torch, "2.13.0+cpu");
  assert.deepEqual(fixture.cases.map((c) => c.size), [7, 7, 7, 300, 300]);
  assert.deepEqual(fixture.cases.map((c) => c.maxNorm), [1, 1, 0.5, 0.5, 1]);
  assert.deepEqual(fixture.cases.map((c) => c.lr), [1e-3, 1e-3, 1e-2, 1e-2, 1e-3]);
  for (const c of fixture.cases) {
    assert.equal(c.steps.length, 5);
    const above = c.steps.map((s) => s.totalNorm > c.maxNorm);
    assert.deepEqual(above, new Array(5).fill(c.name.includes("above")), c.name);
    for (const s of c.steps) {
      for (const x of [...s.grad, ...s.clipped, ...s.params, ...s.expAvg, ...s.expAvgSq]) {
        assert.equal(Math.fround(x), x, "every value is a float32");
      }
    }
  }
});

Deno.test("clipGradNorm() matches torch.nn.utils.clip_grad_norm_", () => {
  let clippedCount = 0;
  for (const c of fixture.cases) {
    for (const [t, s] of c.steps.entries()) {
      const label = `${c.name}, step ${t + 1}`;
      const grads = Float32Array.from(s.grad);
      const norm = clipGradNorm(grads, c.maxNorm);
      assert.equal(Math.fround(norm), s.totalNorm, `${label}: norm`);
      if (s.totalNorm < c.maxNorm) {
        assert.deepEqual(Array.from(grads), s.grad, `${label}: left unchanged`);
        assert.deepEqual(s.clipped, s.grad, `${label}: torch left them unchanged too`);
      } else {
        clippedCount++;
        assertUlps(grads, s.clipped, 2, `${label}: clipped`);
        // The 2 ulp come from torch's float32 coefficient: with it, the result is exact.
        const f = Math.fround;
        const coefficient = Math.min(1, f(f(1 / f(s.totalNorm + 1e-6)) * c.maxNorm));
        assert.deepEqual(s.grad.map((g) => f(g * coefficient)), s.clipped, label);
        const clippedNorm = Math.hypot(...grads);
        assert.ok(Math.abs(clippedNorm - c.maxNorm) < 1e-6 * c.maxNorm, `${label}: new norm`);
      }
    }
  }
  assert.equal(clippedCount, 15, "three cases above the limit, five steps each");
});

Deno.test("Adam.step() matches one torch.optim.Adam step from torch's own state", () => {
  for (const c of fixture.cases) {
    let params = Float32Array.from(c.init);
    let m = new Float32Array(c.size), v = new Float32Array(c.size);
    for (const [t, s] of c.steps.entries()) {
      const label = `${c.name}, step ${t + 1}`;
      const adam = new Adam(c.size, { lr: c.lr });
      adam.setState({ step: t, m, v });
      const before = params, next = params.slice();
      const grads = Float32Array.from(s.clipped);
      adam.step(next, grads);
      const state = adam.getState();
      assert.equal(state.step, t + 1);
      assertUlps(next, s.params, 2, `${label}: params`, (k) => maxAbs(before[k], s.params[k]));
      assertUlps(
        state.m,
        s.expAvg,
        1,
        `${label}: exp_avg`,
        (k) => maxAbs(m[k], grads[k], s.expAvg[k]),
      );
      assertUlps(state.v, s.expAvgSq, 2, `${label}: exp_avg_sq`);
      // Each step moves the parameters by about lr: far more than the tolerance.
      const moved = Math.max(...before.map((p, k) => Math.abs(p - s.params[k])));
      assert.ok(moved > 0.3 * c.lr && moved < 3 * c.lr, `${label}: moved ${moved}`);
      params = Float32Array.from(s.params);
      m = Float32Array.from(s.expAvg);
      v = Float32Array.from(s.expAvgSq);
    }
  }
});

Deno.test("clipGradNorm() then Adam.step() follow torch over five steps from the same start", () => {
  for (const c of fixture.cases) {
    const params = Float32Array.from(c.init);
    const adam = new Adam(c.size, { lr: c.lr });
    for (const [t, s] of c.steps.entries()) {
      const before = params.slice();
      const grads = Float32Array.from(s.grad);
      clipGradNorm(grads, c.maxNorm);
      adam.step(params, grads);
      assertUlps(
        params,
        s.params,
        4,
        `${c.name}, step ${t + 1}`,
        (k) => maxAbs(before[k], s.params[k]),
      );
    }
    assert.equal(adam.stepCount, 5);
    const travelled = Math.max(...params.map((p, k) => Math.abs(p - c.init[k])));
    assert.ok(travelled > c.lr, `${c.name}: the parameters moved ${travelled}`);
  }
});

const linearLr: {
  torch: string;
  lr: number;
  endFactor: number;
  totalIters: number;
  init: number[];
  steps: { lr: number; grad: number[]; params: number[] }[];
} = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/torch/adam_linear_lr.json", import.meta.url)),
);

Deno.test("Adam with lrDecaySteps follows torch's Adam under LinearLR over ten steps", () => {
  const { lr, endFactor, totalIters, init, steps } = linearLr;
  assert.equal(linearLr.torch, "2.13.0+cpu");
  assert.deepEqual([lr, endFactor, totalIters, steps.length], [1e-2, 0.25, 6, 10]);
  const params = Float32Array.from(init);
  const adam = new Adam(init.length, { lr, lrDecaySteps: totalIters, lrEndFactor: endFactor });
  for (const [t, s] of steps.entries()) {
    // torch's LinearLR multiplies the previous rate by a ratio; the closed form differs from it
    // by a rounding or two.
    assert.ok(Math.abs(adam.currentLr - s.lr) < 1e-15, `step ${t + 1}: lr ${adam.currentLr}`);
    const before = params.slice();
    adam.step(params, Float32Array.from(s.grad));
    assertUlps(params, s.params, 4, `step ${t + 1}`, (k) => maxAbs(before[k], s.params[k]));
  }
  // The rate fell to a quarter after six steps and stayed there.
  assert.deepEqual(steps.slice(6).map((s) => s.lr), new Array(4).fill(steps[6].lr));
  assert.ok(Math.abs(steps[6].lr - lr * endFactor) < 1e-15);
});

Deno.test("Adam without lrDecaySteps keeps its rate, as before", () => {
  const constant = new Adam(3, { lr: 0.01 }), decayed = new Adam(3, { lr: 0.01, lrDecaySteps: 2 });
  const a = Float32Array.of(1, 2, 3), b = a.slice();
  for (let t = 0; t < 5; t++) {
    assert.equal(constant.currentLr, 0.01);
    constant.step(a, Float32Array.of(1, -1, 0.5));
    decayed.step(b, Float32Array.of(1, -1, 0.5));
  }
  assert.equal(decayed.currentLr, 0.0009999999999999998, "the default end factor is 0.1");
  assert.notDeepEqual(a, b);
});

Deno.test("a restored Adam state carries on the decayed rate (resume)", () => {
  const options = { lr: 0.01, lrDecaySteps: 10, lrEndFactor: 0.5 };
  const original = new Adam(2, options), params = Float32Array.of(1, -1);
  for (let t = 0; t < 4; t++) original.step(params, Float32Array.of(0.3, 0.1));
  const restored = new Adam(2, options);
  restored.setState(original.getState());
  assert.equal(restored.currentLr, original.currentLr);
  assert.equal(restored.currentLr, 0.01 * (1 - 0.5 * 0.4));
});
