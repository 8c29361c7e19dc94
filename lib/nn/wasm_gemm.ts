/**
 * Matrix products on tfjs-wasm tensors with this project's own kernel (`gemm_wat.ts`),
 * bit-identical to `tf.matMul` and `tf.fused.matMul` (bias, ReLU) but cheaper: it reads a
 * transposed left-hand operand in place and does not repack its right-hand operand. With
 * `fused`, a second kernel sums each term with a fused multiply-add instead: faster still,
 * and no longer bit-identical to tfjs's.
 *
 * The kernel is registered with tfjs as `MaddpgGemm` on the wasm backend and runs in the
 * backend's own memory, so its inputs and output are ordinary tensors (freed by `tf.tidy`
 * and counted by `tf.memory()` like any other).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import { initBackend } from "../backend.ts";
 * import { fusesMultiplyAdds, product } from "./wasm_gemm.ts";
 * await initBackend();
 * const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
 * const b = tf.tensor2d([1, -1, 2, -2], [2, 2]);
 * const c = product(a, b, { bias: tf.tensor1d([0.5, 0]), relu: true });
 * assert.deepEqual(Array.from(c.dataSync()), [5.5, 0, 11.5, 0]);
 * const t = product(a, b, { transposeA: true }); // aᵀ·b
 * assert.deepEqual(Array.from(t.dataSync()), [7, -7, 10, -10]);
 * // (1 + 2⁻¹²)² − 1 is 2⁻¹¹ + 2⁻²⁴ with a fused multiply-add; rounding the square first
 * // loses the 2⁻²⁴.
 * const x = tf.fill([1, 4], 1 + 2 ** -12) as tf.Tensor2D;
 * const y = tf.tensor2d([1 + 2 ** -12], [1, 1]);
 * const bias = tf.fill([4], -1) as tf.Tensor1D;
 * const square = product(y, x, { bias, fused: true });
 * const fused = fusesMultiplyAdds() ? 2 ** -11 + 2 ** -24 : 2 ** -11;
 * assert.equal(square.dataSync()[0], fused);
 * const exact = product(y, x, { bias });
 * assert.equal(exact.dataSync()[0], 2 ** -11);
 * tf.dispose([a, b, c, t, x, y, bias, square, exact]);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { GEMM_WASM_BASE64 } from "./gemm_wasm.ts";
import { GEMM_FUSED_WASM_BASE64 } from "./gemm_fused_wasm.ts";
import { withSharedMemory } from "./shared_memory.ts";

/** The kernel's name in tfjs's registry. */
const KERNEL_NAME = "MaddpgGemm";

/** `gemm(a, b, c, bias, m, k, n, strideRowA, strideColA, relu, mask)`, see `gemm_wat.ts`. */
type GemmFunction = (...args: number[]) => void;

/**
 * What this module uses of tfjs-wasm's backend object, which its public type does not show:
 * the Emscripten module (its memory) and where each tensor's data lives in that memory.
 */
interface WasmBackendInternals {
  wasm: { asm: { memory: WebAssembly.Memory } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
}

/** Options of {@linkcode product}. */
export interface ProductOptions {
  /** Added to every row before the ReLU (`[n]`). */
  bias?: tf.Tensor1D;
  /** Clamp the result at 0 (a fused ReLU). */
  relu?: boolean;
  /** `a` is `[k, m]` and the product is `aᵀ·b`. */
  transposeA?: boolean;
  /**
   * `[m, n]`: multiply the product by `step(mask)` (a ReLU's derivative at its output
   * `mask`), as `tf.mul(product, tf.step(mask))`. Not with `bias` or `relu`.
   */
  mask?: tf.Tensor2D;
  /**
   * Sum with fused multiply-adds (WebAssembly relaxed SIMD; see {@linkcode fusesMultiplyAdds}):
   * faster, and no longer bit-identical to `tf.matMul`, though still the same on every run and
   * thread count on the same machine.
   */
  fused?: boolean;
}

/** The kernels compiled, by `${shared}${fused}` (`"01"`: a memory not shared, fused terms). */
const compiled = new Map<string, WebAssembly.Module>();
/** Each backend's kernels: exact, and fused once used. */
const kernels = new WeakMap<object, [GemmFunction, GemmFunction?]>();

/**
 * The kernel module's bytes, for a memory that is `shared` or not, with `fused` multiply-adds
 * or not: for a shared memory (of at most 65 536 pages) the same module with its memory
 * import marked shared (`withSharedMemory`).
 */
export function gemmBytes(shared: boolean, fused = false): Uint8Array<ArrayBuffer> {
  const base64 = fused ? GEMM_FUSED_WASM_BASE64 : GEMM_WASM_BASE64;
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return shared ? withSharedMemory(bytes) : bytes;
}

/** The key of {@linkcode compiled} for a kernel on `memory`, `fused` or not. */
function moduleKey(memory: WebAssembly.Memory, fused: boolean): string {
  return `${Number(isShared(memory))}${Number(fused)}`;
}

/** The compiled kernel for `memory`, `fused` or not (compiled once, synchronously). */
function moduleFor(memory: WebAssembly.Memory, fused: boolean): WebAssembly.Module {
  const key = moduleKey(memory, fused);
  let module = compiled.get(key);
  if (!module) {
    compiled.set(key, module = new WebAssembly.Module(gemmBytes(isShared(memory), fused)));
  }
  return module;
}

/**
 * Whether `memory` is shared between threads (never on a page that is not cross-origin
 * isolated, where `SharedArrayBuffer` is not even defined).
 */
export function isShared(memory: WebAssembly.Memory): boolean {
  return typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;
}

/** The current tfjs backend, as the wasm backend's internals. */
function wasmBackend(): WasmBackendInternals {
  if (tf.getBackend() !== "wasm") {
    throw new Error(`product runs on the wasm backend, not on "${tf.getBackend()}"`);
  }
  return tf.backend() as unknown as WasmBackendInternals;
}

/**
 * tfjs-wasm's memory, where every tensor of the current wasm backend lives: shared under Deno
 * (`initBackend` has tfjs load it so), so that a helper thread can compute in it.
 */
export function backendMemory(): WebAssembly.Memory {
  return wasmBackend().wasm.asm.memory;
}

/**
 * Compiles and instantiates the kernel on the current wasm backend, asynchronously:
 * `initBackend` calls it, since a browser's main thread refuses to compile a module of more
 * than 4 KB synchronously. Elsewhere {@linkcode product} would do it on first use.
 */
export async function loadGemm(): Promise<void> {
  const backend = wasmBackend();
  if (kernels.has(backend)) return;
  const memory = backend.wasm.asm.memory, key = moduleKey(memory, false);
  const module = compiled.get(key) ?? await WebAssembly.compile(gemmBytes(isShared(memory)));
  compiled.set(key, module);
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  kernels.set(backend, [instance.exports.gemm as GemmFunction]);
}

/** The kernel, `fused` or not, instantiated on `backend`'s memory (once per backend). */
function gemmOf(backend: WasmBackendInternals, fused: boolean): GemmFunction {
  const memory = backend.wasm.asm.memory;
  const instantiate = (withFused: boolean) =>
    new WebAssembly.Instance(moduleFor(memory, withFused), { env: { memory } })
      .exports.gemm as GemmFunction;
  let pair = kernels.get(backend);
  if (!pair) kernels.set(backend, pair = [instantiate(false)]);
  if (!fused) return pair[0];
  return pair[1] ??= instantiate(true);
}

let fuses: boolean | undefined;

/**
 * Whether this machine fuses the multiply-adds of `fused` products: relaxed SIMD leaves it to
 * the engine, which fuses them where the processor has the instruction (x86 with FMA3, ARM64),
 * and otherwise multiplies and adds as the exact kernel does. Found once, from a product whose
 * result tells the two apart.
 */
export function fusesMultiplyAdds(): boolean {
  // Four columns: the kernel's vector tiles (the last n mod 4 columns are never fused).
  fuses ??= tf.tidy(() => {
    const x = tf.fill([1, 4], 1 + 2 ** -12) as tf.Tensor2D;
    const bias = tf.fill([4], -1) as tf.Tensor1D;
    const square = product(tf.tensor2d([1 + 2 ** -12], [1, 1]), x, { bias, fused: true });
    return square.dataSync()[0] === 2 ** -11 + 2 ** -24;
  });
  return fuses;
}

/** The byte offset of a tensor's data in the backend's memory. */
function offsetOf(backend: WasmBackendInternals, tensor: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(tensor.dataId);
  if (!data) throw new Error(`${KERNEL_NAME}: a tensor's data is not on the wasm backend`);
  return data.memoryOffset;
}

/**
 * A product's arguments, as `gemm` takes them: byte offsets in one memory (0 for no `bias`
 * or `mask`), sizes, `A`'s strides in floats, and `relu` as 0 or 1.
 */
export interface GemmCall {
  a: number;
  b: number;
  c: number;
  bias: number;
  m: number;
  k: number;
  n: number;
  strideRowA: number;
  strideColA: number;
  relu: number;
  mask: number;
  /** Fused multiply-adds (1) or not (0): which kernel, not one of its arguments. */
  fused: number;
}

/** `call` as `gemm`'s argument list. */
export function gemmArguments(call: GemmCall): number[] {
  const { a, b, c, bias, m, k, n, strideRowA, strideColA, relu, mask } = call;
  return [a, b, c, bias, m, k, n, strideRowA, strideColA, relu, mask];
}

/**
 * Another thread that computes the last rows of a product while this one computes the first
 * (`ProductHelper` in `product_helper.ts`). Each output is still summed by the same kernel in
 * the same order, so results are bit-identical to computing all rows here.
 */
export interface RowHelper {
  /** The memory the helper computes in: the wasm backend's. */
  readonly memory: WebAssembly.Memory;
  /** Starts rows `from`…`call.m - 1` of `call` (offsets in `memory`) on the other thread. */
  begin(call: GemmCall, from: number): void;
  /** Waits until those rows of `call.c` are written. */
  end(): void;
}

/** Products of fewer multiply-adds than this run on one thread: waking a helper costs more. */
export const SPLIT_MIN_MULTIPLY_ADDS = 1 << 17;

/**
 * The share of a split product's rows that this thread computes: one half, as the helper
 * computes a row as fast as this thread. Timed around the paper preset's split products with
 * the helper given 70% of the rows (so that this thread always waits for it), the helper's
 * time per row was 1.00–1.03 times this thread's (medians of about 5 900 products, two runs).
 */
const MAIN_ROWS_SHARE = 0.5;

let rowHelper: RowHelper | undefined;
let splitMinimum = SPLIT_MIN_MULTIPLY_ADDS;

/**
 * Lets products of at least `minMultiplyAdds` multiply-adds (and two rows) share their rows
 * with `helper`, which must compute in the wasm backend's memory; `undefined` stops it.
 * Results do not change.
 */
export function useRowHelper(
  helper: RowHelper | undefined,
  minMultiplyAdds: number = SPLIT_MIN_MULTIPLY_ADDS,
): void {
  if (helper && helper.memory !== backendMemory()) {
    throw new Error("the product helper computes in another memory than the wasm backend's");
  }
  rowHelper = helper;
  splitMinimum = minMultiplyAdds;
}

/** Runs `call` on `backend`, its rows shared with the row helper when it is big enough. */
function runGemm(backend: WasmBackendInternals, call: GemmCall): void {
  const gemm = gemmOf(backend, call.fused === 1);
  const helper = rowHelper;
  if (!helper || call.m < 2 || call.m * call.k * call.n < splitMinimum) {
    return gemm(...gemmArguments(call));
  }
  const from = Math.round(call.m * MAIN_ROWS_SHARE);
  helper.begin(call, from);
  gemm(...gemmArguments({ ...call, m: from }));
  helper.end();
}

/**
 * The tfjs kernel: inputs `a`, `b`, optionally `bias` or `mask`; attributes `transposeA`,
 * `relu` and `fused`.
 */
function gemmKernel(
  { inputs, backend, attrs }: {
    inputs: tf.NamedTensorInfoMap;
    backend: unknown;
    attrs?: tf.NamedAttrMap;
  },
): tf.TensorInfo {
  const wasm = backend as WasmBackendInternals;
  const { a, b, bias, mask } = inputs as Record<string, tf.TensorInfo | undefined> & {
    a: tf.TensorInfo;
    b: tf.TensorInfo;
  };
  const transposeA = attrs?.transposeA === true;
  const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const n = b.shape[1];
  const out = wasm.makeOutput([m, n], "float32");
  runGemm(wasm, {
    a: offsetOf(wasm, a),
    b: offsetOf(wasm, b),
    c: offsetOf(wasm, out),
    bias: bias ? offsetOf(wasm, bias) : 0,
    m,
    k,
    n,
    strideRowA: transposeA ? 1 : k,
    strideColA: transposeA ? m : 1,
    relu: attrs?.relu === true ? 1 : 0,
    mask: mask ? offsetOf(wasm, mask) : 0,
    fused: attrs?.fused === true ? 1 : 0,
  });
  return out;
}

/** Registers the kernel with tfjs on first use. */
function ensureRegistered(): void {
  if (tf.getKernel(KERNEL_NAME, "wasm")) return;
  tf.registerKernel({ kernelName: KERNEL_NAME, backendName: "wasm", kernelFunc: gemmKernel });
}

/** Refuses operands whose shapes do not fit, in one line. */
function checkShapes(a: tf.Tensor2D, b: tf.Tensor2D, options: ProductOptions): void {
  const { bias, mask, transposeA } = options;
  const [m, k] = transposeA ? [a.shape[1], a.shape[0]] : a.shape;
  const n = b.shape[1];
  const maskFits = !mask || (mask.shape[0] === m && mask.shape[1] === n && !bias && !options.relu);
  if (b.shape[0] === k && (!bias || bias.shape[0] === n) && maskFits) return;
  const left = transposeA ? `[${a.shape}]ᵀ` : `[${a.shape}]`;
  const extra = (bias ? ` + [${bias.shape}]` : "") + (mask ? `, mask [${mask.shape}]` : "") +
    (options.relu ? ", relu" : "");
  throw new RangeError(`product of mismatched shapes: ${left} · [${b.shape}]${extra}`);
}

/**
 * `a·b` (or `aᵀ·b` with `transposeA`), plus `bias`, clamped at 0 with `relu` (or times
 * `step(mask)`): float32
 * tensors on the wasm backend, `b` of shape `[k, n]`. Bit-identical to `tf.matMul` /
 * `tf.fused.matMul` of the same operands (`tf.matMul(tf.transpose(a), b)` for `transposeA`),
 * unless `fused`.
 */
export function product(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  options: ProductOptions = {},
): tf.Tensor2D {
  wasmBackend();
  checkShapes(a, b, options);
  ensureRegistered();
  const inputs: tf.NamedTensorMap = { a, b };
  if (options.bias) inputs.bias = options.bias;
  if (options.mask) inputs.mask = options.mask;
  const attrs = {
    transposeA: options.transposeA === true,
    relu: options.relu === true,
    fused: options.fused === true,
  };
  return tf.engine().runKernel(KERNEL_NAME, inputs, attrs) as tf.Tensor2D;
}
