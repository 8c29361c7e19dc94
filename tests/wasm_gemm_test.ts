import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../lib/backend.ts";
import { ProductHelper } from "../lib/nn/product_helper.ts";
import { product, SPLIT_MIN_MULTIPLY_ADDS, useRowHelper } from "../lib/nn/wasm_gemm.ts";
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
    // Each shape's 6 products split, but for the one-row shapes ([1, 1024, 64], [1, 1, 1]).
    const splits = SHAPES.reduce((sum, [m]) => sum + (m >= 2 ? 6 : 0), 0);
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
  assert.deepEqual(KERNELS.map((kernel) => kernel.source), ["gemm_wat.ts", "row_forward_wat.ts"]);
  for (const kernel of KERNELS) {
    const committed = await Deno.readTextFile(kernel.file);
    const compiled = wasmSource(kernel, await compileWat(kernel.wat()));
    assert.equal(committed, compiled, `${kernel.source}: run deno task build-wasm`);
  }
});
