import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../lib/backend.ts";
import { ProductHelper } from "../lib/nn/product_helper.ts";
import {
  fusesMultiplyAdds,
  product,
  SPLIT_MIN_MULTIPLY_ADDS,
  useRowHelper,
} from "../lib/nn/wasm_gemm.ts";
import { Pcg32 } from "../lib/rng.ts";
import { compileWat, KERNELS, wasmSource } from "../scripts/build_wasm.ts";

await initBackend();

/** `rows × cols` uniform values in [-2, 2), with `special` values sprinkled in. */
function values(count: number, rng: Pcg32, special: number[] = []): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.uniform(-2, 2);
  special.forEach((x, i) => (out[(i * 7919) % count] = x));
  return out;
}

/** Asserts that two tensors hold the same bits (so NaN equals NaN and -0 differs from 0). */
function assertSameBits(actual: tf.Tensor, expected: tf.Tensor, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, what);
  const a = new Uint32Array(Float32Array.from(actual.dataSync()).buffer);
  const e = new Uint32Array(Float32Array.from(expected.dataSync()).buffer);
  const first = a.findIndex((bits, i) => bits !== e[i]);
  assert.equal(first, -1, `${what}: element ${first} differs`);
}

// Every shape of a round at the paper's and the peer's sizes, the edges of the 6×8 tiles
// (1-5 leftover rows, run as 4 and single rows, 4-column and single leftover columns), k = 1, and long sums.
const SHAPES: [number, number, number][] = [
  [1024, 69, 64],
  [1024, 64, 64],
  [1024, 64, 1],
  [1024, 64, 5],
  [1024, 18, 64],
  [1024, 64, 69],
  [256, 28, 64],
  [1, 1024, 64],
  [1024, 1, 64],
  [7, 3, 13],
  [6, 9, 12],
  [5, 2, 4],
  [3, 5, 1],
  [1, 1, 1],
  [9, 300, 11],
  [10, 7, 9],
  [11, 5, 8],
  [12, 4, 3],
];

/** Checks every product of {@linkcode SHAPES} against tfjs's, bit for bit. */
function checkEveryShape(rng: Pcg32): void {
  for (const [m, k, n] of SHAPES) {
    tf.tidy(() => {
      const special = [NaN, -0, Infinity, -Infinity, 1e-40, -1e-40];
      const a = tf.tensor2d(values(m * k, rng, k > 4 ? special : []), [m, k]);
      const b = tf.tensor2d(values(k * n, rng, k > 4 ? [-0, 1e-39] : []), [k, n]);
      const bias = tf.tensor1d(values(n, rng, [-0]));
      const what = `[${m},${k}]x[${k},${n}]`;
      assertSameBits(product(a, b), tf.matMul(a, b), what);
      assertSameBits(product(a, b, { bias }), tf.fused.matMul({ a, b, bias }), `${what} + bias`);
      const relu = tf.fused.matMul({ a, b, bias, activation: "relu" });
      assertSameBits(product(a, b, { bias, relu: true }), relu, `${what} + bias, relu`);
      const noBias = tf.fused.matMul({ a, b, activation: "relu" });
      assertSameBits(product(a, b, { relu: true }), noBias, `${what}, relu`);
      const y = tf.tensor2d(values(m * n, rng, [NaN, -0, 0, -1e-40, 1e-40]), [m, n]);
      const masked = tf.mul(tf.matMul(a, b), tf.step(y));
      assertSameBits(product(a, b, { mask: y }), masked, `${what} times step(mask)`);
      const at = tf.transpose(a);
      assertSameBits(product(at, b, { transposeA: true }), tf.matMul(a, b), `${what} from aᵀ`);
    });
  }
}

const float = new Float32Array(1), floatBits = new Int32Array(float.buffer);

/** The float32 next to the finite float32 `x`, upwards or downwards. */
function nextFloat(x: number, up: boolean): number {
  if (x === 0) return up ? 2 ** -149 : -(2 ** -149);
  float[0] = x;
  floatBits[0] += (x > 0) === up ? 1 : -1;
  return float[0];
}

/**
 * `a·b + c` rounded once to float32 (a fused multiply-add), for float32 operands: `a·b` is
 * exact in a double; `a·b + c` rounded to a double and then to float32 is right unless that
 * double falls exactly halfway between two float32s, where the rounding error of the sum
 * (`TwoSum`) says which way the exact value lies.
 */
function fusedMultiplyAdd(a: number, b: number, c: number): number {
  const p = a * b, s = p + c;
  const r = Math.fround(s);
  if (r === s || !Number.isFinite(r)) return r;
  const bb = s - p, error = (p - (s - bb)) + (c - bb);
  const other = nextFloat(r, r < s);
  if (error === 0 || s !== (r + other) / 2) return r;
  return error > 0 ? Math.max(r, other) : Math.min(r, other);
}

/**
 * A fused product as the kernel sums it: from the bias, over `k` in order, a fused
 * multiply-add per term in the vector columns and a multiply then an add in the last
 * `n mod 4` columns.
 */
function fusedProduct(a: Float32Array, b: Float32Array, bias: Float32Array, m: number, n: number) {
  const k = a.length / m, vectorColumns = n - (n % 4), out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = bias[j];
      for (let p = 0; p < k; p++) {
        const x = a[i * k + p], y = b[p * n + j];
        sum = j < vectorColumns
          ? fusedMultiplyAdd(x, y, sum)
          : Math.fround(sum + Math.fround(x * y));
      }
      out[i * n + j] = sum;
    }
  }
  return out;
}

/** Asserts equal values, telling -0 from 0 but not one NaN from another. */
function assertSameValues(actual: tf.Tensor, expected: Float32Array, what: string): void {
  const values = actual.dataSync();
  const first = expected.findIndex((x, i) => !Object.is(values[i], x));
  assert.equal(first, -1, `${what}: element ${first} is ${values[first]}, not ${expected[first]}`);
}

/**
 * Checks every fused product of {@linkcode SHAPES}: the sums of {@linkcode fusedProduct} on a
 * machine that fuses, tfjs's exact ones on one that does not; with its ReLU or mask applied
 * to the same sums; and the same from a transposed operand.
 */
function checkEveryFusedShape(rng: Pcg32): void {
  const fuses = fusesMultiplyAdds();
  for (const [m, k, n] of SHAPES) {
    tf.tidy(() => {
      const special = [NaN, -0, Infinity, 1e-40, -1e-40];
      const aValues = values(m * k, rng, k > 4 ? special : []);
      const bValues = values(k * n, rng, k > 4 ? [-0, 1e-39] : []);
      const biasValues = values(n, rng, [-0]);
      const [a, b] = [tf.tensor2d(aValues, [m, k]), tf.tensor2d(bValues, [k, n])];
      const bias = tf.tensor1d(biasValues);
      const what = `fused [${m},${k}]x[${k},${n}]`;
      const sums = fuses
        ? fusedProduct(aValues, bValues, biasValues, m, n)
        : tf.fused.matMul({ a, b, bias }).dataSync() as Float32Array;
      assertSameValues(product(a, b, { bias, fused: true }), sums, `${what} + bias`);
      const relu = sums.map((x) => (0 < x ? x : 0));
      assertSameValues(product(a, b, { bias, relu: true, fused: true }), relu, `${what}, relu`);
      const noBias = fuses
        ? fusedProduct(aValues, bValues, new Float32Array(n), m, n)
        : tf.matMul(a, b).dataSync() as Float32Array;
      const y = values(m * n, rng, [NaN, -0, 0, -1e-40, 1e-40]);
      const step = (x: number) => (x > 0 ? 1 : Number.isNaN(x) ? NaN : 0);
      const masked = noBias.map((x, i) => Math.fround(x * step(y[i])));
      const mask = tf.tensor2d(y, [m, n]);
      assertSameValues(product(a, b, { mask, fused: true }), masked, `${what} times step(mask)`);
      const at = tf.transpose(a);
      const transposed = product(at, b, { transposeA: true, fused: true });
      assertSameValues(transposed, noBias, `${what} from aᵀ`);
    });
  }
}

Deno.test("fused products: one rounding per term where the machine fuses, exact where not", () => {
  const before = tf.memory().numTensors;
  checkEveryFusedShape(new Pcg32(10));
  // The emulation itself: on the sum that tells the two apart; and where (1 + 2⁻¹²)², exactly
  // halfway between two float32s, plus ±2⁻⁸⁰ rounds to that double, so that only the sum's
  // rounding error tells which way to round (ties to even would go down both times).
  const x = 1 + 2 ** -12;
  assert.equal(fusedMultiplyAdd(x, x, -1), 2 ** -11 + 2 ** -24);
  assert.equal(fusedMultiplyAdd(x, x, 2 ** -80), 1 + 2 ** -11 + 2 ** -23);
  assert.equal(fusedMultiplyAdd(x, x, -(2 ** -80)), 1 + 2 ** -11);
  assert.equal(fusedMultiplyAdd(3, 5, 2 ** -149), 15);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("product() equals tf.matMul and tf.fused.matMul bit for bit", () => {
  const before = tf.memory().numTensors;
  checkEveryShape(new Pcg32(7));
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("product() with a helper thread on the last rows: still bit for bit, every shape", async () => {
  const helper = await ProductHelper.start();
  try {
    const before = tf.memory().numTensors;
    useRowHelper(helper, 0); // every product of two rows or more splits, even the smallest
    checkEveryShape(new Pcg32(8));
    checkEveryFusedShape(new Pcg32(11)); // the helper runs the fused kernel on these
    // Each shape's 6 + 4 products split, but for the one-row shapes ([1, 1024, 64], [1, 1, 1]).
    const splits = SHAPES.reduce((sum, [m]) => sum + (m >= 2 ? 10 : 0), 0);
    assert.equal(helper.requests, splits);
    assert.equal(tf.memory().numTensors, before);
    // By default only large products split.
    useRowHelper(helper);
    tf.tidy(() => {
      product(tf.ones([64, 32]), tf.ones([32, 32])); // 65 536 multiply-adds: one thread
      assert.equal(helper.requests, splits);
      const c = product(tf.ones([256, 64]), tf.ones([64, 8])); // 131 072
      assert.equal(SPLIT_MIN_MULTIPLY_ADDS, 256 * 64 * 8);
      assert.equal(helper.requests, splits + 1);
      assert.deepEqual(Array.from(c.dataSync().slice(-2)), [64, 64]);
      // The helper computes in the backend's memory, also after it grows: operands beyond
      // the size it had when the helper started.
      const bytes = helper.memory.buffer.byteLength;
      const big = tf.zeros([bytes / 4]);
      const rng = new Pcg32(9);
      const a = tf.tensor2d(values(2048 * 300, rng), [2048, 300]);
      const b = tf.tensor2d(values(300 * 64, rng), [300, 64]);
      assert.ok(helper.memory.buffer.byteLength > bytes + 4 * 2048 * 300);
      assertSameBits(product(a, b), tf.matMul(a, b), "[2048,300]x[300,64]");
      assert.equal(helper.requests, splits + 2);
      big.dispose();
    });
  } finally {
    useRowHelper(undefined);
    await helper.close();
  }
  assert.throws(
    () => helper.begin({} as never, 0),
    { message: "the product helper is closed" },
  );
  // It computes in a shared memory only, and only a helper on the backend's memory is used.
  await assert.rejects(
    () => ProductHelper.start(new WebAssembly.Memory({ initial: 1 })),
    { message: "the product helper needs a shared memory, and this one is not shared" },
  );
  const elsewhere = await ProductHelper.start(
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }),
  );
  try {
    assert.throws(() => useRowHelper(elsewhere, 0), {
      message: "the product helper computes in another memory than the wasm backend's",
    });
    // The refused helper was not taken: products run on this thread alone.
    tf.tidy(() => product(tf.ones([8, 8]), tf.ones([8, 8])));
    assert.equal(elsewhere.requests, 0);
  } finally {
    await elsewhere.close();
  }
});

Deno.test("product() refuses mismatched shapes in one line and sums nothing to the bias", () => {
  tf.tidy(() => {
    const a = tf.zeros([4, 3]) as tf.Tensor2D;
    const b = tf.zeros([4, 2]) as tf.Tensor2D;
    assert.throws(() => product(a, b), { message: "product of mismatched shapes: [4,3] · [4,2]" });
    assert.throws(
      () => product(a, a, { transposeA: true, bias: tf.zeros([2]) as tf.Tensor1D }),
      { message: "product of mismatched shapes: [4,3]ᵀ · [4,3] + [2]" },
    );
    assert.throws(
      () => product(a, b, { transposeA: true, mask: tf.zeros([3, 2]) as tf.Tensor2D, relu: true }),
      { message: "product of mismatched shapes: [4,3]ᵀ · [4,2], mask [3,2], relu" },
    );
    assert.deepEqual(product(a, b, { transposeA: true }).shape, [3, 2]);
    // An empty sum is the bias (tf.matMul leaves such an output unwritten).
    const empty = product(tf.zeros([2, 0]) as tf.Tensor2D, tf.zeros([0, 2]) as tf.Tensor2D, {
      bias: tf.tensor1d([-1, 3]),
    });
    assert.deepEqual(Array.from(empty.dataSync()), [-1, 3, -1, 3]);
  });
});

Deno.test("product() keeps working after the backend's memory grows", () => {
  tf.tidy(() => {
    const a = tf.ones([8, 8]) as tf.Tensor2D;
    const big = tf.zeros([64 * 1024 * 1024]); // 256 MB: grows the WASM heap
    const c = product(a, a);
    assert.deepEqual(Array.from(c.dataSync()).slice(0, 3), [8, 8, 8]);
    big.dispose();
  });
});

Deno.test("each lib/nn/*_wasm.ts holds what its lib/nn/*_wat.ts compiles to", async () => {
  const sources = KERNELS.map((kernel) => kernel.source);
  assert.deepEqual(sources, ["gemm_wat.ts", "gemm_wat.ts", "row_forward_wat.ts"]);
  for (const kernel of KERNELS) {
    const committed = await Deno.readTextFile(kernel.file);
    const compiled = wasmSource(kernel, await compileWat(kernel.wat()));
    assert.equal(committed, compiled, `${kernel.source}: run deno task build-wasm`);
  }
});
