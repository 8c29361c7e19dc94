import assert from "node:assert/strict";
import { activate } from "../lib/nn/activation.ts";
import type { Activation } from "../lib/nn/activation.ts";
import { Mlp } from "../lib/nn/mlp.ts";
import { RowForward } from "../lib/nn/row_forward.ts";
import { ROW_FORWARD_WASM_BASE64 } from "../lib/nn/row_forward_wasm.ts";
import { Pcg32 } from "../lib/rng.ts";

/**
 * The plain loop the kernel replaced: each output from its bias, plus `x[i] · w[i, j]` for
 * every nonzero input in order, in float64, then the activation.
 */
function referenceForward(net: Mlp, input: ArrayLike<number>): Float64Array {
  let x = Float64Array.from(input);
  net.layers.forEach(({ inputs, outputs, kernelOffset, biasOffset }, l) => {
    const y = Float64Array.from(net.params.subarray(biasOffset, biasOffset + outputs));
    for (let i = 0; i < inputs; i++) {
      if (x[i] === 0) continue;
      for (let j = 0; j < outputs; j++) y[j] += x[i] * net.params[kernelOffset + i * outputs + j];
    }
    x = y.map((v) => activate(net.activations[l], v));
  });
  return x;
}

/** Asserts the same bits (NaN equals NaN, -0 differs from 0). */
function assertSameBits(actual: Float64Array, expected: Float64Array, what: string): void {
  assert.equal(actual.length, expected.length, what);
  const a = new BigUint64Array(actual.buffer), e = new BigUint64Array(expected.buffer);
  const first = a.findIndex((bits, i) => bits !== e[i]);
  assert.equal(first, -1, `${what}: output ${first} is ${actual[first]}, not ${expected[first]}`);
}

const SPECIAL = [0, -0, NaN, Infinity, -Infinity, 1e-310, -1e-310, 3.4e38];

function input(size: number, rng: Pcg32, row: number): Float32Array {
  const x = Float32Array.from({ length: size }, () => rng.uniform(-2, 2));
  // Zeros (skipped rows) in most rows; every special value in some.
  for (let i = row % 3; i < size; i += 3) x[i] = 0;
  if (row % 5 === 4) SPECIAL.forEach((v, k) => (x[(k * 7) % size] = v));
  return x;
}

// The paper's actor and critic, the notebook's actor, odd and tiny widths (the 8-, 2- and
// 1-column edges; groups of 4 rows and the rows left), and every activation.
const NETWORKS: [number[], Activation[] | undefined][] = [
  [[18, 64, 64, 5], undefined],
  [[69, 64, 64, 1], undefined],
  [[6, 128, 128, 4], undefined],
  [[1, 1], ["linear"]],
  [[3, 17, 9, 3], ["tanh", "relu", "sigmoid"]],
  [[13, 11, 2], ["sigmoid", "tanh"]],
  [[7, 8, 7], ["relu", "linear"]],
];

Deno.test("RowForward: bit-identical to the plain float64 loop on every width and activation", () => {
  const rng = new Pcg32(11);
  for (const [sizes, activations] of NETWORKS) {
    const net = Mlp.init(sizes, rng, activations ? { activations } : {});
    net.params[0] = -0; // a signed zero in a kernel
    for (let row = 0; row < 40; row++) {
      const x = input(sizes[0], rng, row);
      assertSameBits(net.forward(x), referenceForward(net, x), `[${sizes}] row ${row}`);
    }
  }
});

Deno.test("Mlp.forward: parameters changed in place are used once touch() marks them", () => {
  const net = Mlp.init([4, 8, 2], new Pcg32(3));
  const x = [0.5, -1, 2, 0.25];
  const before = net.forward(x);
  net.params.fill(0.125);
  assert.deepEqual(net.forward(x), before, "the copy stays until touch()");
  net.touch();
  const after = net.forward(x);
  assert.notDeepEqual(after, before);
  assertSameBits(after, referenceForward(net, x), "after touch()");
  const copy = net.clone(); // a network of its own region and version
  copy.params.fill(-0.5);
  assertSameBits(
    copy.forward(x),
    referenceForward(copy, x),
    "a clone changed before its first pass",
  );
  assertSameBits(net.forward(x), referenceForward(net, x), "the original, unchanged");
});

Deno.test("RowForward: networks keep computing after the memory area starts over", () => {
  const rng = new Pcg32(5);
  // Each network takes about 4 MB of the 16 MB area: the fifth one starts it over.
  const nets = Array.from({ length: 9 }, () => Mlp.init([1000, 1000, 3], rng));
  const x = input(1000, rng, 1);
  for (let round = 0; round < 2; round++) {
    nets.forEach((net, n) => {
      assertSameBits(net.forward(x), referenceForward(net, x), `round ${round}, network ${n}`);
    });
  }
});

Deno.test("RowForward: refuses a description that does not fit its layers", () => {
  assert.throws(() => new RowForward([2, 3, 1], ["relu"]), /2 layers need as many activations/);
});

Deno.test("the one-row kernel compiles synchronously in a browser (a module under 4 KB)", () => {
  assert.ok(atob(ROW_FORWARD_WASM_BASE64).length < 4096);
});

Deno.test("Mlp.forward: into a given output array, the same values; a wrong length is refused", () => {
  const net = Mlp.init([6, 16, 5], new Pcg32(9));
  const x = [1, 0, -2, 0.5, 0, 3];
  const output = new Float64Array(5);
  assert.equal(net.forward(x, output), output);
  assertSameBits(output, net.forward(x), "the same outputs");
  assert.throws(() => net.forward(x, new Float64Array(4)), /gives 5 outputs, not 4/);
});
