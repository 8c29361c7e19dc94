/**
 * Matrix products on tfjs-wasm tensors with this project's own kernel (`gemm_wat.ts`),
 * bit-identical to `tf.matMul` and `tf.fused.matMul` (bias, ReLU) but cheaper: it reads a
 * transposed left-hand operand in place and does not repack its right-hand operand.
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
 * import { product } from "./wasm_gemm.ts";
 * await initBackend();
 * const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
 * const b = tf.tensor2d([1, -1, 2, -2], [2, 2]);
 * const c = product(a, b, { bias: tf.tensor1d([0.5, 0]), relu: true });
 * assert.deepEqual(Array.from(c.dataSync()), [5.5, 0, 11.5, 0]);
 * const t = product(a, b, { transposeA: true }); // aᵀ·b
 * assert.deepEqual(Array.from(t.dataSync()), [7, -7, 10, -10]);
 * tf.dispose([a, b, c, t]);
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { GEMM_WASM_BASE64 } from "./gemm_wasm.ts";

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
}

let compiled: WebAssembly.Module | undefined;
const kernels = new WeakMap<object, GemmFunction>();

/** The kernel module's bytes. */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(GEMM_WASM_BASE64), (c) => c.charCodeAt(0));
}

/** The memory import's name and kind: `"memory"` (6 bytes), then 2 for a memory. */
const MEMORY_IMPORT = [6, ...new TextEncoder().encode("memory"), 2];

/**
 * The kernel's bytes for a shared memory (of at most 65 536 pages): the same module with its
 * memory import's limits flag 1 (a maximum) set to 3 (a maximum, shared).
 */
export function sharedGemmBytes(): Uint8Array<ArrayBuffer> {
  const bytes = moduleBytes();
  const at = bytes.findIndex((_, i) => MEMORY_IMPORT.every((b, j) => bytes[i + j] === b));
  const flag = at + MEMORY_IMPORT.length;
  if (at < 0 || bytes[flag] !== 1) throw new Error("the kernel's memory import was not found");
  bytes[flag] = 3;
  return bytes;
}

/** The current tfjs backend, as the wasm backend's internals. */
function wasmBackend(): WasmBackendInternals {
  if (tf.getBackend() !== "wasm") {
    throw new Error(`product runs on the wasm backend, not on "${tf.getBackend()}"`);
  }
  return tf.backend() as unknown as WasmBackendInternals;
}

/**
 * Compiles and instantiates the kernel on the current wasm backend, asynchronously:
 * `initBackend` calls it, since a browser's main thread refuses to compile a module of more
 * than 4 KB synchronously. Elsewhere {@linkcode product} would do it on first use.
 */
export async function loadGemm(): Promise<void> {
  const backend = wasmBackend();
  if (kernels.has(backend)) return;
  compiled ??= await WebAssembly.compile(moduleBytes());
  const memory = backend.wasm.asm.memory;
  const instance = await WebAssembly.instantiate(compiled, { env: { memory } });
  kernels.set(backend, instance.exports.gemm as GemmFunction);
}

/** The kernel instantiated on `backend`'s memory (once per backend). */
function gemmOf(backend: WasmBackendInternals): GemmFunction {
  let gemm = kernels.get(backend);
  if (gemm) return gemm;
  compiled ??= new WebAssembly.Module(moduleBytes());
  const memory = backend.wasm.asm.memory;
  gemm = new WebAssembly.Instance(compiled, { env: { memory } }).exports.gemm as GemmFunction;
  kernels.set(backend, gemm);
  return gemm;
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
  /** Starts rows `from`…`call.m - 1` of `call` (offsets in `memory`) on the other thread. */
  begin(memory: ArrayBufferLike, call: GemmCall, from: number): void;
  /** Waits for those rows and writes them into `call.c` in `memory`. */
  end(memory: ArrayBufferLike): void;
}

/** Products of fewer multiply-adds than this run on one thread: waking a helper costs more. */
export const SPLIT_MIN_MULTIPLY_ADDS = 1 << 17;

/**
 * The share of a split product's rows that this thread computes. The helper starts later
 * (this thread first copies its operands) and reads them from another core's cache, so it
 * gets fewer rows: in profiles of the paper preset's update rounds, this thread waited for the
 * helper in 7.7% of its samples at one half, 2.9% at 0.56 and 2.5% at 0.62, and 0.56 took the
 * fewest samples in all.
 */
const MAIN_ROWS_SHARE = 0.56;

let rowHelper: RowHelper | undefined;
let splitMinimum = SPLIT_MIN_MULTIPLY_ADDS;

/**
 * Lets products of at least `minMultiplyAdds` multiply-adds (and two rows) share their rows
 * with `helper`; `undefined` stops it. Results do not change.
 */
export function useRowHelper(
  helper: RowHelper | undefined,
  minMultiplyAdds: number = SPLIT_MIN_MULTIPLY_ADDS,
): void {
  rowHelper = helper;
  splitMinimum = minMultiplyAdds;
}

/** Runs `call` on `backend`, its rows shared with the row helper when it is big enough. */
function runGemm(backend: WasmBackendInternals, call: GemmCall): void {
  const gemm = gemmOf(backend);
  const helper = rowHelper;
  if (!helper || call.m < 2 || call.m * call.k * call.n < splitMinimum) {
    return gemm(...gemmArguments(call));
  }
  const from = Math.round(call.m * MAIN_ROWS_SHARE);
  const memory = backend.wasm.asm.memory.buffer;
  helper.begin(memory, call, from);
  gemm(...gemmArguments({ ...call, m: from }));
  helper.end(memory);
}

/** The tfjs kernel: inputs `a`, `b`, optionally `bias` or `mask`; attributes `transposeA`, `relu`. */
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
 * `tf.fused.matMul` of the same operands (`tf.matMul(tf.transpose(a), b)` for `transposeA`).
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
  const attrs = { transposeA: options.transposeA === true, relu: options.relu === true };
  return tf.engine().runKernel(KERNEL_NAME, inputs, attrs) as tf.Tensor2D;
}
